package metrics

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// The metric families. Names follow the Prometheus conventions (base
// units, _total for counters); the README says which Envoy, HAProxy and
// Traefik metrics each corresponds to.
var (
	tunnelLabels = []string{"server", "location", "upstream", "peer"}
	routeLabels  = []string{"server", "location"}
	peerLabels   = []string{"upstream", "peer"}

	descTunnelsOpen = prometheus.NewDesc("wsgate_tunnels_open",
		"Tunnels open now (WebSocket and other upgrades).", tunnelLabels, nil)
	descTunnelDuration = prometheus.NewDesc("wsgate_tunnel_duration_seconds",
		"How long tunnels lasted, from the 101 to the end of both connections.", tunnelLabels, nil)
	descTunnelBytes = prometheus.NewDesc("wsgate_tunnel_bytes_total",
		"Bytes relayed by tunnels that ended, frame headers included; direction in is client to upstream.",
		append(tunnelLabels, "direction"), nil)
	descTunnelCloses = prometheus.NewDesc("wsgate_tunnel_closes_total",
		"Tunnels that ended, by what ended them: the side that closed or left (client, upstream), idle (proxy_read_timeout), send_timeout, reload, drain (graceful stop).",
		append(tunnelLabels, "cause"), nil)
	descFrames = prometheus.NewDesc("wsgate_websocket_frames_total",
		"WebSocket frames relayed; continuation frames count under their message's opcode.",
		append(tunnelLabels, "direction", "opcode"), nil)
	descPayload = prometheus.NewDesc("wsgate_websocket_payload_bytes_total",
		"WebSocket payload bytes relayed, frame headers excluded.",
		append(tunnelLabels, "direction", "opcode"), nil)
	descMessages = prometheus.NewDesc("wsgate_websocket_messages_total",
		"Complete WebSocket data messages relayed.", append(tunnelLabels, "direction", "opcode"), nil)
	descMessageSize = prometheus.NewDesc("wsgate_websocket_message_size_bytes",
		"Sizes of the WebSocket data messages relayed (payload of all their frames).",
		append(tunnelLabels, "direction", "opcode"), nil)
	descCloseCodes = prometheus.NewDesc("wsgate_websocket_close_codes_total",
		"WebSocket tunnels by the code of their first Close frame and the side that sent it (wsgate: closed by wsgate itself); none: no Close.",
		append(tunnelLabels, "side", "code"), nil)
	descPingRTT = prometheus.NewDesc("wsgate_websocket_ping_rtt_seconds",
		"Round-trip times of wsgate's own Pings (ws_ping_interval) by the side pinged: the latest answered one of each tunnel, observed when it ends.",
		append(tunnelLabels, "side"), nil)

	descRequests = prometheus.NewDesc("wsgate_http_requests_total",
		"Requests that ended, by status class ($status; 101 for a tunnel, counted when it ends).",
		append(routeLabels, "code"), nil)
	descHandshakes = prometheus.NewDesc("wsgate_websocket_handshakes_total",
		"WebSocket opening handshakes by outcome.", append(routeLabels, "outcome"), nil)

	descTries = prometheus.NewDesc("wsgate_upstream_tries_total",
		"Upstream tries by outcome; every outcome but connected is a failure.", append(peerLabels, "outcome"), nil)
	descHeaderTime = prometheus.NewDesc("wsgate_upstream_header_time_seconds",
		"Time from the start of a try to the upstream's response head ($upstream_header_time).", peerLabels, nil)
	descPeerUp = prometheus.NewDesc("wsgate_upstream_peer_up",
		"1 when the peer may be chosen; 0 when it is marked down, failed max_fails times within fail_timeout, or is held out by ws_health_check.", peerLabels, nil)
	descPeerUnhealthy = prometheus.NewDesc("wsgate_upstream_peer_unhealthy",
		"1 while ws_health_check holds the peer out; only for upstreams with ws_health_check.", peerLabels, nil)
	descPeerFails = prometheus.NewDesc("wsgate_upstream_peer_fails",
		"Failures counted against the peer in its current fail_timeout window.", peerLabels, nil)
	descPeerActive = prometheus.NewDesc("wsgate_upstream_peer_active",
		"Requests and tunnels on the peer now: the load least_conn balances.", peerLabels, nil)
	descPeerIdle = prometheus.NewDesc("wsgate_upstream_peer_idle_connections",
		"Idle keepalive connections to the peer.", peerLabels, nil)

	descAccepted = prometheus.NewDesc("wsgate_connections_accepted_total",
		"Client connections accepted (stub_status accepts).", nil, nil)
	descHandled = prometheus.NewDesc("wsgate_connections_handled_total",
		"Client connections handled (stub_status handled).", nil, nil)
	descConnRequests = prometheus.NewDesc("wsgate_connections_requests_total",
		"Client requests read (stub_status requests).", nil, nil)
	descConns = prometheus.NewDesc("wsgate_connections",
		"Client connections now, by state (stub_status Active, Reading, Writing, Waiting).", []string{"state"}, nil)
)

// collector exposes a Metrics' counters as constant metrics, built when
// the registry is gathered.
type collector struct{ m *Metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descTunnelsOpen, descTunnelDuration, descTunnelBytes, descTunnelCloses, descFrames, descPayload,
		descMessages, descMessageSize, descCloseCodes, descPingRTT, descRequests, descHandshakes, descTries,
		descHeaderTime, descPeerUp, descPeerUnhealthy, descPeerFails, descPeerActive, descPeerIdle,
		descAccepted, descHandled, descConnRequests, descConns,
	} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.RLock()
	tunnels := make([]*tunnelSeries, 0, len(m.tunnels))
	for _, s := range m.tunnels {
		tunnels = append(tunnels, s)
	}
	routes := make([]*routeSeries, 0, len(m.routes))
	for _, s := range m.routes {
		routes = append(routes, s)
	}
	peers := make([]*peerSeries, 0, len(m.peers))
	for _, s := range m.peers {
		peers = append(peers, s)
	}
	m.mu.RUnlock()
	for _, s := range tunnels {
		collectTunnels(ch, s)
	}
	for _, s := range routes {
		collectRoute(ch, s)
	}
	for _, s := range peers {
		collectPeer(ch, s)
	}
	c.collectHealth(ch)
	if cs := m.opts.Conns; cs != nil {
		st := cs.Load()
		counter(ch, descAccepted, st.Accepts)
		counter(ch, descHandled, st.Handled)
		counter(ch, descConnRequests, st.Requests)
		for _, g := range []struct {
			state string
			n     int64
		}{{"active", st.Active}, {"reading", st.Reading}, {"writing", st.Writing}, {"waiting", st.Waiting}} {
			gauge(ch, descConns, float64(g.n), g.state)
		}
	}
}

// counter, gauge and histogram send one constant metric. Label values
// come from the configuration, which may hold bytes that are not UTF-8
// (a regex location): they are made valid, as the exposition requires,
// and a metric the client library still refuses is left out rather than
// failing the scrape or the process.
func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	send(ch)(prometheus.NewConstMetric(d, prometheus.CounterValue, float64(v), valid(labels)...))
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	send(ch)(prometheus.NewConstMetric(d, prometheus.GaugeValue, v, valid(labels)...))
}

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h *hist, scale float64, labels ...string) {
	n, sum, buckets := h.read(scale)
	send(ch)(prometheus.NewConstHistogram(d, n, sum, buckets, valid(labels)...))
}

func send(ch chan<- prometheus.Metric) func(prometheus.Metric, error) {
	return func(m prometheus.Metric, err error) {
		if err == nil {
			ch <- m
		}
	}
}

func valid(labels []string) []string {
	for i, l := range labels {
		if !utf8.ValidString(l) {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
	}
	return labels
}

func collectTunnels(ch chan<- prometheus.Metric, s *tunnelSeries) {
	k := s.key
	l := []string{k.server, k.location, k.upstream, k.peer}
	with := func(more ...string) []string {
		return append(append(make([]string, 0, len(l)+len(more)), l...), more...)
	}
	gauge(ch, descTunnelsOpen, float64(s.open.Load()), l...)
	histogram(ch, descTunnelDuration, s.duration, 1e-9, l...)
	for d, dir := range dirNames {
		counter(ch, descTunnelBytes, s.bytes[d].Load(), with(dir)...)
		for op, name := range opNames {
			f, p := s.frames[d][op].Load(), s.payload[d][op].Load()
			if op == opOther && f == 0 {
				continue
			}
			counter(ch, descFrames, f, with(dir, name)...)
			counter(ch, descPayload, p, with(dir, name)...)
		}
		for op, h := range s.sizes[d] {
			n, _, _ := h.read(1)
			counter(ch, descMessages, n, with(dir, opNames[op])...)
			histogram(ch, descMessageSize, h, 1, with(dir, opNames[op])...)
		}
	}
	for side, h := range s.rtt {
		if n, _, _ := h.read(1); n > 0 {
			histogram(ch, descPingRTT, h, 1e-9, with(sideNames[side])...)
		}
	}
	for i := range s.causes {
		if name := causeName(i); name != "" {
			counter(ch, descTunnelCloses, s.causes[i].Load(), with(name)...)
		}
	}
	for side, sname := range sideNames {
		for code := range numCodes {
			if n := s.codes[side][code].Load(); n > 0 {
				counter(ch, descCloseCodes, n, with(sname, codeName(code))...)
			}
		}
	}
}

var classNames = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func collectRoute(ch chan<- prometheus.Metric, s *routeSeries) {
	k := s.key
	for i, name := range classNames {
		if n := s.classes[i].Load(); n > 0 || i > 0 {
			counter(ch, descRequests, n, k.server, k.location, name)
		}
	}
	var hs uint64
	for i := range s.handshakes {
		hs += s.handshakes[i].Load()
	}
	if hs == 0 {
		return // not a WebSocket location, so far
	}
	for i, name := range handshakeNames {
		counter(ch, descHandshakes, s.handshakes[i].Load(), k.server, k.location, name)
	}
}

func collectPeer(ch chan<- prometheus.Metric, s *peerSeries) {
	k := s.key
	for i := 1; i < numTryOutcomes; i++ {
		counter(ch, descTries, s.tries[i].Load(), k.upstream, k.peer, tryNames[i])
	}
	histogram(ch, descHeaderTime, s.header, 1e-9, k.upstream, k.peer)
}

// collectHealth reads the peers' state from the published upstream
// groups. Two server lines with one address are one series.
func (c collector) collectHealth(ch chan<- prometheus.Metric) {
	if c.m.opts.Upstreams == nil {
		return
	}
	for _, h := range PeerHealth(c.m.opts.Upstreams()) {
		if h.Draining {
			// No longer in the group: its tunnels count where they
			// opened; the status page lists it.
			continue
		}
		l := []string{h.Upstream, h.Peer}
		up := 0.0
		if h.Up {
			up = 1
		}
		gauge(ch, descPeerUp, up, l...)
		if h.Check.Checked {
			unhealthy := 0.0
			if h.Unhealthy {
				unhealthy = 1
			}
			gauge(ch, descPeerUnhealthy, unhealthy, l...)
		}
		gauge(ch, descPeerFails, float64(h.Fails), l...)
		gauge(ch, descPeerActive, float64(h.Active), l...)
		gauge(ch, descPeerIdle, float64(h.Idle), l...)
	}
}

var _ prometheus.Collector = collector{}
