package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"wsgate/internal/connstats"
	"wsgate/internal/proxy"
	"wsgate/internal/route"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
)

// Options configure a Metrics. Every field may be nil.
type Options struct {
	// Upstreams returns the published configuration's upstream groups,
	// whose peers' health is read when the metrics are gathered.
	Upstreams func() *upstream.Set
	// Conns are the process's client connection counters (stub_status's).
	Conns *connstats.Counters
}

// Metrics counts what the proxy does and exposes it (see the package
// doc). It is safe for concurrent use; the zero value is not: use New.
type Metrics struct {
	opts Options
	reg  *prometheus.Registry
	// on is set while the configuration has a ws_metrics or ws_status
	// location (SetEnabled): off, the observer methods return at once and
	// tunnels report no frames.
	on atomic.Bool

	mu      sync.RWMutex
	tunnels map[tunnelKey]*tunnelSeries
	routes  map[routeKey]*routeSeries
	peers   map[peerKey]*peerSeries
	// open are the tunnels started while on, by their identity.
	open map[tunnelID]*Tunnel
}

// tunnelID tells the tunnels open at one time apart: a client's address
// and port and the moment of its 101.
type tunnelID struct {
	client string
	start  int64
}

// New returns a Metrics with its private registry: wsgate's collector,
// the Go runtime's and the process's.
func New(opts Options) *Metrics {
	m := &Metrics{
		opts:    opts,
		reg:     prometheus.NewRegistry(),
		tunnels: map[tunnelKey]*tunnelSeries{},
		routes:  map[routeKey]*routeSeries{},
		peers:   map[peerKey]*peerSeries{},
		open:    map[tunnelID]*Tunnel{},
	}
	m.reg.MustRegister(
		collector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the private registry the exposition is gathered from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SetEnabled turns counting on or off; the server turns it on while the
// published configuration has a ws_metrics or ws_status location, so
// that a configuration without them pays nothing per frame.
func (m *Metrics) SetEnabled(on bool) { m.on.Store(on) }

// Idle reports whether counting is off (proxy.Idler): the proxy then
// tells the metrics nothing and keeps nothing for them.
func (m *Metrics) Idle() bool { return !m.on.Load() }

// Wanted reports whether snap has a location that serves the metrics or
// the status page.
func Wanted(snap *snapshot.Snapshot) bool {
	for _, loc := range snap.Locs {
		if loc.Content == snapshot.ContentMetrics || loc.Content == snapshot.ContentStatus {
			return true
		}
	}
	return false
}

// Retain drops the series of the locations and upstream peers that snap,
// the configuration being published, no longer has; a tunnel series with
// open tunnels is dropped when the last of them ends. Counters of what
// remains are untouched: a reload resets nothing.
func (m *Metrics) Retain(snap *snapshot.Snapshot) {
	routes := map[routeKey]bool{}
	for _, loc := range snap.Locs {
		routes[routeKey{route.ServerName(loc.Server), loc.Name}] = true
	}
	peers := map[peerKey]bool{}
	if set := snap.Upstreams; set != nil {
		for _, k := range set.Pools() {
			p := set.Pool(k)
			peers[peerKey{p.Name(), p.Name()}] = true // tries that found no live peer
			for _, pe := range p.Peers() {
				peers[peerKey{p.Name(), pe.Name}] = true
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.routes {
		if !routes[k] {
			delete(m.routes, k)
		}
	}
	for k := range m.peers {
		if !peers[k] {
			delete(m.peers, k)
		}
	}
	for k, s := range m.tunnels {
		if routes[routeKey{k.server, k.location}] && peers[peerKey{k.upstream, k.peer}] {
			s.stale = false // back in this configuration
			continue
		}
		if s.open.Load() > 0 {
			s.stale = true
		} else {
			delete(m.tunnels, k)
		}
	}
}

// Try counts an upstream try (proxy.Observer).
func (m *Metrics) Try(t proxy.Try) {
	if !m.on.Load() {
		return
	}
	s := m.peer(peerKey{t.Pool, t.Upstream})
	if int(t.Outcome) < numTryOutcomes {
		s.tries[t.Outcome].Add(1)
	}
	if t.Outcome == proxy.TryConnected && t.HeaderTime >= 0 {
		s.header.observe(uint64(t.HeaderTime))
	}
}

// Request counts a request that ended (proxy.Observer).
func (m *Metrics) Request(r proxy.Request) {
	if !m.on.Load() {
		return
	}
	s := m.route(routeKey{r.Server, r.Location})
	class := r.Status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	s.classes[class].Add(1)
	if r.Handshake {
		s.handshakes[handshakeOutcome(&r)].Add(1)
	}
}

// TunnelStart counts a tunnel that opened and returns what counts its
// frames (proxy.Observer).
func (m *Metrics) TunnelStart(t proxy.Tunnel) tunnel.FrameObserver {
	if !m.on.Load() {
		return nil
	}
	k := tunnelKey{t.Server, t.Location, t.Pool, t.Upstream}
	m.mu.Lock()
	s := m.tunnels[k]
	if s == nil {
		s = newTunnelSeries(k)
		m.tunnels[k] = s
	}
	s.open.Add(1)
	o := &Tunnel{Info: t, s: s}
	m.open[tunnelID{t.Client, t.Start.UnixNano()}] = o
	m.mu.Unlock()
	return o
}

// TunnelEnd counts a tunnel that ended (proxy.Observer). A tunnel that
// started while counting was off is not counted.
func (m *Metrics) TunnelEnd(t proxy.Tunnel, res tunnel.Result) {
	id := tunnelID{t.Client, t.Start.UnixNano()}
	m.mu.RLock()
	o := m.open[id]
	m.mu.RUnlock()
	if o == nil {
		return
	}
	// Counted before the tunnel leaves the open ones: a scrape that no
	// longer sees it open sees it counted.
	s := o.s
	s.bytes[dirIn].Add(uint64(max(res.FromClient, 0)))
	s.bytes[dirOut].Add(uint64(max(res.FromUpstream, 0)))
	s.duration.observe(uint64(max(res.Duration, 0)))
	if i := causeIndex(&res); i < maxCauses {
		s.causes[i].Add(1)
	}
	if t.FrameAware {
		s.codes[closeSide(&res)][codeIndex(res.CloseCode)].Add(1)
	}
	if res.ClientRTT > 0 {
		s.rtt[sideClient].observe(uint64(res.ClientRTT))
	}
	if res.UpstreamRTT > 0 {
		s.rtt[sideUpstream].observe(uint64(res.UpstreamRTT))
	}
	m.mu.Lock()
	delete(m.open, id)
	if s.open.Add(-1) == 0 && s.stale && m.tunnels[s.key] == s {
		delete(m.tunnels, s.key)
	}
	m.mu.Unlock()
}

func (m *Metrics) peer(k peerKey) *peerSeries {
	m.mu.RLock()
	s := m.peers[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.peers[k]; s == nil {
		s = &peerSeries{key: k, header: newHist(headerBounds)}
		m.peers[k] = s
	}
	return s
}

func (m *Metrics) route(k routeKey) *routeSeries {
	m.mu.RLock()
	s := m.routes[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.routes[k]; s == nil {
		s = &routeSeries{key: k}
		m.routes[k] = s
	}
	return s
}

// Tunnel is one open tunnel as the metrics follow it: its FrameObserver,
// which adds each frame to its series' counters and to its own, which
// the status page reads.
type Tunnel struct {
	Info proxy.Tunnel
	s    *tunnelSeries
	// Messages and Payload count the tunnel's complete data messages and
	// payload bytes by direction (0: from the client, 1: from the
	// upstream); they are read while the tunnel runs.
	Messages, Payload [2]atomic.Uint64
	// The message being received in each direction; each is touched
	// only by its direction's relay.
	msgOp  [2]int
	msgLen [2]uint64
}

// Frame counts one frame (tunnel.FrameObserver): atomic adds to the
// series' counters, no lookup and no allocation.
func (o *Tunnel) Frame(f tunnel.Frame) {
	d := dirOut
	if f.FromClient {
		d = dirIn
	}
	op := opIndex(f.Opcode)
	if f.Opcode == 0 { // continuation: its message's opcode
		op = o.msgOp[d]
	} else if op == opText || op == opBinary {
		o.msgOp[d] = op
	}
	s := o.s
	s.frames[d][op].Add(1)
	s.payload[d][op].Add(f.Length)
	if op != opText && op != opBinary {
		return
	}
	// The tunnel's own counters have one writer each (the direction's
	// relay): a load and a store, no locked add.
	o.Payload[d].Store(o.Payload[d].Load() + f.Length)
	o.msgLen[d] += f.Length
	if f.Fin {
		s.sizes[d][op].observe(o.msgLen[d])
		o.Messages[d].Store(o.Messages[d].Load() + 1)
		o.msgLen[d] = 0
	}
}

// OpenTunnels returns the tunnels open now (started while counting was
// on), in no order.
func (m *Metrics) OpenTunnels() []*Tunnel {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Tunnel, 0, len(m.open))
	for _, o := range m.open {
		out = append(out, o)
	}
	return out
}

// OpenOn returns how many tunnels are open to each peer (by upstream and
// peer name).
func (m *Metrics) OpenOn() map[[2]string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[[2]string]int64{}
	for k, s := range m.tunnels {
		out[[2]string{k.upstream, k.peer}] += s.open.Load()
	}
	return out
}

// PingRTT returns the round-trip times of the latest answered Pings of
// wsgate's to the tunnel's client and upstream; 0 for a side not pinged
// or not answered yet.
func (o *Tunnel) PingRTT() (client, upstream time.Duration) {
	if o.Info.Handle == nil {
		return 0, 0
	}
	return o.Info.Handle.PingRTT()
}

// Age is how long t has been open at now.
func (o *Tunnel) Age(now time.Time) time.Duration { return now.Sub(o.Info.Start) }

var (
	_ proxy.Observer       = (*Metrics)(nil)
	_ tunnel.FrameObserver = (*Tunnel)(nil)
)
