package status

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"wsgate/internal/metrics"
	"wsgate/internal/upstream"
)

// maxTunnels is how many of the busiest tunnels a view lists.
const maxTunnels = 20

// View is what the page shows at one moment, sent as JSON.
type View struct {
	Time      time.Time `json:"time"`
	Upstreams []Peer    `json:"upstreams"`
	// Tunnels are the busiest open tunnels, by payload bytes relayed;
	// Open counts all open tunnels.
	Tunnels []Tunnel `json:"tunnels"`
	Open    int      `json:"open"`
}

// Peer is one upstream peer's state.
type Peer struct {
	Upstream string `json:"upstream"`
	Peer     string `json:"peer"`
	// State is "up"; "unhealthy" (held out by ws_health_check);
	// "failed" (max_fails within fail_timeout); "down" (the down
	// parameter); or "draining": removed by a reload or by DNS, it
	// serves its last requests and tunnels (ws_drain_removed may close
	// them).
	State   string `json:"state"`
	Backup  bool   `json:"backup"`
	Fails   int    `json:"fails"`
	Tunnels int64  `json:"tunnels"` // open tunnels on it
	Active  int    `json:"active"`  // requests and tunnels: least_conn's load
	Idle    int    `json:"idle"`    // idle keepalive connections
	Weight  int    `json:"weight"`  // the weight in use now (slow_start ramps it)
	// Check is the active health check's record; nil when the upstream
	// has no ws_health_check (and for a draining peer).
	Check *Check `json:"check,omitempty"`
}

// Check is one peer's ws_health_check record.
type Check struct {
	Checks int64 `json:"checks"` // checks made
	Fails  int   `json:"fails"`  // failed checks in a row
	Passes int   `json:"passes"` // passed checks in a row
	// Last is when the last check ended (nil: none yet), LastError why it
	// failed ("" when it passed).
	Last      *time.Time `json:"last,omitempty"`
	LastError string     `json:"lastError,omitempty"`
}

// Tunnel is one open tunnel.
type Tunnel struct {
	Server   string  `json:"server"`
	Location string  `json:"location"`
	Upstream string  `json:"upstream"`
	Peer     string  `json:"peer"`
	Client   string  `json:"client"`
	Path     string  `json:"path"` // the handshake's path, without its query
	WS       bool    `json:"ws"`   // a WebSocket: messages are counted
	Age      float64 `json:"age"`  // seconds
	MsgIn    uint64  `json:"msgIn"`
	MsgOut   uint64  `json:"msgOut"`
	BytesIn  uint64  `json:"bytesIn"` // payload bytes, client to upstream
	BytesOut uint64  `json:"bytesOut"`
	// RTTClient and RTTUpstream are the round-trip times, in seconds, of
	// the latest answered Pings of wsgate's (ws_ping_interval) to each
	// side; 0 for a side not pinged or not answered yet.
	RTTClient   float64 `json:"rttClient"`
	RTTUpstream float64 `json:"rttUpstream"`
}

// Build assembles the view of m and set at now.
func Build(m *metrics.Metrics, set *upstream.Set, now time.Time) View {
	v := View{Time: now, Upstreams: []Peer{}, Tunnels: []Tunnel{}}
	open := m.OpenOn()
	for _, h := range metrics.PeerHealth(set) {
		p := Peer{
			Upstream: h.Upstream, Peer: h.Peer, Backup: h.Backup, Fails: h.Fails,
			Tunnels: open[[2]string{h.Upstream, h.Peer}], Active: h.Active, Idle: h.Idle, Weight: h.Weight,
		}
		if c := h.Check; c.Checked {
			p.Check = &Check{Checks: c.Checks, Fails: c.Fails, Passes: c.Passes, LastError: c.LastError}
			if !c.Last.IsZero() {
				last := c.Last
				p.Check.Last = &last
			}
		}
		switch {
		case h.Draining:
			// Its tunnels are counted by the peer's address, which a
			// listed peer may share: the pool's own count.
			p.State, p.Tunnels = "draining", int64(h.Tunnels)
		case h.Down:
			p.State = "down"
		case h.Unhealthy:
			p.State = "unhealthy"
		case !h.Up:
			p.State = "failed"
		default:
			p.State = "up"
		}
		v.Upstreams = append(v.Upstreams, p)
	}
	tunnels := m.OpenTunnels()
	v.Open = len(tunnels)
	for _, t := range busiest(tunnels, maxTunnels) {
		path, _, _ := strings.Cut(t.Info.URI, "?")
		crtt, urtt := t.PingRTT()
		v.Tunnels = append(v.Tunnels, Tunnel{
			Server: t.Info.Server, Location: t.Info.Location, Upstream: t.Info.Pool, Peer: t.Info.Upstream,
			Client: t.Info.Client, Path: path, WS: t.Info.FrameAware, Age: t.Age(now).Seconds(),
			MsgIn: t.Messages[0].Load(), MsgOut: t.Messages[1].Load(),
			BytesIn: t.Payload[0].Load(), BytesOut: t.Payload[1].Load(),
			RTTClient: crtt.Seconds(), RTTUpstream: urtt.Seconds(),
		})
	}
	return v
}

// busiest returns the n tunnels of all that relayed the most payload
// bytes, the oldest first among equals, busiest first. It keeps n
// candidates, not a copy of all: a process may hold a great many
// tunnels, and the page asks every second.
func busiest(all []*metrics.Tunnel, n int) []*metrics.Tunnel {
	type ranked struct {
		t     *metrics.Tunnel
		bytes uint64
		start time.Time
	}
	before := func(a, b ranked) int {
		if c := cmp.Compare(b.bytes, a.bytes); c != 0 {
			return c
		}
		return a.start.Compare(b.start)
	}
	top := make([]ranked, 0, n+1)
	for _, t := range all {
		r := ranked{t, t.Payload[0].Load() + t.Payload[1].Load(), t.Info.Start}
		if len(top) == n && before(r, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, r, before)
		top = slices.Insert(top, i, r)
		if len(top) > n {
			top = top[:n]
		}
	}
	out := make([]*metrics.Tunnel, len(top))
	for i, r := range top {
		out[i] = r.t
	}
	return out
}
