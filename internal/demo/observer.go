package demo

import (
	"sort"
	"sync"
	"time"

	"wsgate/internal/proxy"
	"wsgate/internal/tunnel"
)

// Observed is one request wsgate served, as its proxy.Observer heard of
// it, with the time it was told. A WebSocket is reported when its tunnel
// ends, with what went through it.
type Observed struct {
	Type     string `json:"type"` // "observed"
	Time     string `json:"time"` // RFC 3339 with milliseconds
	Server   string `json:"server"`
	Location string `json:"location"`
	Upstream string `json:"upstream"`
	Status   int    `json:"status"`
	Tunnel   bool   `json:"tunnel"`
	// Tries counts the upstream tries (proxy_next_upstream), when any.
	Tries int `json:"tries,omitempty"`
	// For a tunnel: its request URI, how long it lasted, the data
	// messages each way, who closed it and the first Close code.
	URI          string  `json:"uri,omitempty"`
	DurationMS   float64 `json:"durationMs"`
	MessagesUp   uint64  `json:"messagesUp,omitempty"`   // client → backend
	MessagesDown uint64  `json:"messagesDown,omitempty"` // backend → client
	ClosedBy     string  `json:"closedBy,omitempty"`
	CloseCode    uint16  `json:"closeCode,omitempty"`
}

// observer is the demo's proxy.Observer: it keeps the last observations
// and fans them out to subscribers (the page's /ws/observe).
type observer struct {
	mu     sync.Mutex
	recent []Observed
	subs   map[chan Observed]struct{}
}

var _ proxy.Observer = (*observer)(nil)

// observedKept is how many observations the observer remembers.
const observedKept = 50

func newObserver() *observer { return &observer{subs: map[chan Observed]struct{}{}} }

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// Try is not shown: the request's row says which upstream answered and
// after how many tries.
func (o *observer) Try(proxy.Try) {}

// TunnelStart asks for no frames: the row at the tunnel's end has the
// message counts.
func (o *observer) TunnelStart(proxy.Tunnel) tunnel.FrameObserver { return nil }

// TunnelEnd adds the row of a WebSocket, with what the tunnel carried.
func (o *observer) TunnelEnd(t proxy.Tunnel, r tunnel.Result) {
	o.add(Observed{
		Type: "observed", Time: now(), Server: t.Server, Location: t.Location, Upstream: t.Upstream,
		Status: 101, Tunnel: true, URI: t.URI, DurationMS: float64(r.Duration.Microseconds()) / 1000,
		MessagesUp: r.MessagesFromClient, MessagesDown: r.MessagesFromUpstream,
		ClosedBy: r.ClosedBy.String(), CloseCode: r.CloseCode,
	})
}

// Request adds the row of a request that did not become a tunnel (a
// tunnel's row came with TunnelEnd).
func (o *observer) Request(r proxy.Request) {
	if r.Tunnel {
		return
	}
	o.add(Observed{
		Type: "observed", Time: now(), Server: r.Server, Location: r.Location, Upstream: r.Upstream,
		Status: r.Status, Tries: r.Tries, DurationMS: float64(r.Duration.Microseconds()) / 1000,
	})
}

// add records ob and offers it to each subscriber without blocking (a
// subscriber that is behind misses it).
func (o *observer) add(ob Observed) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recent = append(o.recent, ob)
	if len(o.recent) > observedKept {
		o.recent = o.recent[len(o.recent)-observedKept:]
	}
	for ch := range o.subs {
		select {
		case ch <- ob:
		default:
		}
	}
}

func (o *observer) snapshot() []Observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := append([]Observed(nil), o.recent...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

func (o *observer) subscribe() (<-chan Observed, []Observed, func()) {
	ch := make(chan Observed, 64)
	o.mu.Lock()
	o.subs[ch] = struct{}{}
	recent := append([]Observed(nil), o.recent...)
	o.mu.Unlock()
	return ch, recent, func() {
		o.mu.Lock()
		delete(o.subs, ch)
		o.mu.Unlock()
	}
}
