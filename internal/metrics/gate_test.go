package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// scrape GETs path from addr and parses the Prometheus text exposition.
func scrape(t *testing.T, addr, path string) map[string]*dto.MetricFamily {
	t.Helper()
	r := get(t, addr, path)
	if r.Status != 200 {
		t.Fatalf("GET %s: status %d; want 200", path, r.Status)
	}
	if ct, _ := r.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type: got %q; want the text exposition's", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, r.Body)
	}
	return mfs
}

func get(t *testing.T, addr, path string) *proxytest.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: metrics.test\r\nConnection: close\r\n\r\n", path)
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return r
}

// value finds the sample of family name whose labels include want
// ("k=v" each); the histogram's count for a histogram. ok is false when
// there is none.
func value(mfs map[string]*dto.MetricFamily, name string, want ...string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, w := range want {
			k, val, _ := strings.Cut(w, "=")
			if have[k] != val {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// bucket is the cumulative count of histogram name's bucket le.
func bucket(mfs map[string]*dto.MetricFamily, name string, le float64, want ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, w := range want {
			k, val, _ := strings.Cut(w, "=")
			if have[k] != val {
				continue next
			}
		}
		for _, b := range m.Histogram.GetBucket() {
			if b.GetUpperBound() == le {
				return float64(b.GetCumulativeCount())
			}
		}
	}
	return -1
}

const metricsConf = `
access_log off;
upstream echo { server %s; }
server {
	listen {{listen}};
	server_name metrics.test;
	location /ws/ { proxy_pass http://echo; }
	location /ok { return 200 "ok"; }
	location /missing { return 404; }
	location = /metrics { ws_metrics; }
	%s
}`

// TestScrapeCountsTraffic sends known traffic through wsgate and checks
// the scraped counters exactly: messages, payload and relayed bytes by
// direction, the message size histogram, Close codes by side, closes by
// cause, handshakes, requests by status class and upstream tries; then
// that a reload keeps them and drops the series of a removed location.
func TestScrapeCountsTraffic(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(metricsConf, echo.Addr, "")), gatetest.Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/x", &websocket.DialOptions{Host: "metrics.test"})
	if err != nil {
		t.Fatalf("dialing through wsgate: %v", err)
	}
	c.SetReadLimit(1 << 20)
	msgs := []struct {
		typ websocket.MessageType
		n   int
	}{{websocket.MessageText, 5}, {websocket.MessageText, 300}, {websocket.MessageText, 70000}, {websocket.MessageBinary, 100}}
	var clientBytes int64 // what the client sends on the wire: masked frames
	frameLen := func(n int) int64 {
		switch {
		case n > 0xFFFF:
			return int64(2 + 8 + 4 + n)
		case n > 125:
			return int64(2 + 2 + 4 + n)
		}
		return int64(2 + 4 + n)
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, bytes.Repeat([]byte("m"), m.n)); err != nil {
			t.Fatal(err)
		}
		clientBytes += frameLen(m.n)
		if _, p, err := c.Read(ctx); err != nil || len(p) != m.n {
			t.Fatalf("echo of %d bytes: got %d, %v", m.n, len(p), err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("closing: %v", err)
	}
	clientBytes += frameLen(2 + len("bye"))
	get(t, g.Addr, "/ok")
	get(t, g.Addr, "/ok")
	get(t, g.Addr, "/missing")
	m := g.Server.Metrics()
	// The tunnel's request is counted after its end, from its goroutine.
	proxytest.Eventually(t, 10*time.Second, func() bool {
		var b bytes.Buffer
		m.Write(&b)
		return strings.Contains(b.String(), `wsgate_http_requests_total{code="1xx",location="location /ws/",server="metrics.test"} 1`)
	}, "the tunnel's request is not counted")

	mfs := scrape(t, g.Addr, "/metrics")
	ws := []string{"server=metrics.test", "location=location /ws/", "upstream=echo", "peer=" + echo.Addr}
	with := func(more ...string) []string { return append(append([]string{}, ws...), more...) }
	textIn := float64(5 + 300 + 70000)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wsgate_tunnels_open", ws, 0},
		{"wsgate_tunnel_duration_seconds", ws, 1},
		{"wsgate_websocket_messages_total", with("direction=in", "opcode=text"), 3},
		{"wsgate_websocket_messages_total", with("direction=in", "opcode=binary"), 1},
		{"wsgate_websocket_messages_total", with("direction=out", "opcode=text"), 3},
		{"wsgate_websocket_messages_total", with("direction=out", "opcode=binary"), 1},
		{"wsgate_websocket_frames_total", with("direction=in", "opcode=text"), 3},
		{"wsgate_websocket_frames_total", with("direction=in", "opcode=close"), 1},
		{"wsgate_websocket_frames_total", with("direction=out", "opcode=close"), 1},
		{"wsgate_websocket_payload_bytes_total", with("direction=in", "opcode=text"), textIn},
		{"wsgate_websocket_payload_bytes_total", with("direction=out", "opcode=text"), textIn},
		{"wsgate_websocket_payload_bytes_total", with("direction=in", "opcode=binary"), 100},
		{"wsgate_websocket_payload_bytes_total", with("direction=in", "opcode=close"), 5},
		{"wsgate_websocket_message_size_bytes", with("direction=in", "opcode=text"), 3},
		{"wsgate_websocket_message_size_bytes", with("direction=in", "opcode=binary"), 1},
		{"wsgate_tunnel_bytes_total", with("direction=in"), float64(clientBytes)},
		{"wsgate_websocket_close_codes_total", with("side=client", "code=1000"), 1},
		{"wsgate_tunnel_closes_total", with("cause=client"), 1},
		{"wsgate_tunnel_closes_total", with("cause=reload"), 0},
		{"wsgate_tunnel_closes_total", with("cause=drain"), 0},
		{"wsgate_tunnel_closes_total", with("cause=idle"), 0},
		{"wsgate_tunnel_closes_total", with("cause=send_timeout"), 0},
		{"wsgate_websocket_handshakes_total", []string{"location=location /ws/", "outcome=upgraded"}, 1},
		{"wsgate_websocket_handshakes_total", []string{"location=location /ws/", "outcome=error"}, 0},
		{"wsgate_http_requests_total", []string{"location=location /ok", "code=2xx"}, 2},
		{"wsgate_http_requests_total", []string{"location=location /missing", "code=4xx"}, 1},
		{"wsgate_http_requests_total", []string{"location=location /ws/", "code=1xx"}, 1},
		{"wsgate_upstream_tries_total", []string{"upstream=echo", "peer=" + echo.Addr, "outcome=connected"}, 1},
		{"wsgate_upstream_tries_total", []string{"upstream=echo", "peer=" + echo.Addr, "outcome=refused"}, 0},
		{"wsgate_upstream_header_time_seconds", []string{"upstream=echo", "peer=" + echo.Addr}, 1},
		{"wsgate_upstream_peer_up", []string{"upstream=echo", "peer=" + echo.Addr}, 1},
		{"wsgate_upstream_peer_active", []string{"upstream=echo", "peer=" + echo.Addr}, 0},
	}
	for _, tt := range tests {
		got, ok := value(mfs, tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s%v: got %v (found %v); want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	// Text: 5, 300 and 70000 bytes; binary: 100.
	for _, b := range []struct {
		op       string
		le, want float64
	}{{"text", 64, 1}, {"text", 256, 1}, {"text", 1024, 2}, {"text", 65536, 2}, {"text", 262144, 3}, {"binary", 64, 0}, {"binary", 256, 1}} {
		if got := bucket(mfs, "wsgate_websocket_message_size_bytes", b.le, with("direction=in", "opcode="+b.op)...); got != b.want {
			t.Errorf("%s message size bucket le=%v: got %v; want %v", b.op, b.le, got, b.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "wsgate_connections_accepted_total"} {
		if mfs[name] == nil {
			t.Errorf("no %s in the exposition", name)
		}
	}
	for name := range mfs {
		if !strings.HasPrefix(name, "wsgate_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("unexpected family %s (a global registry?)", name)
		}
	}

	// A reload that changes something else keeps every counter.
	g.Write(gatetest.HTTP(fmt.Sprintf(metricsConf, echo.Addr, "location /other { return 204; }")))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	after := scrape(t, g.Addr, "/metrics")
	for _, tt := range tests {
		if tt.name == "wsgate_http_requests_total" || strings.HasPrefix(tt.name, "wsgate_upstream_peer") {
			continue // the scrapes count, and gauges are read at scrape time
		}
		if got, ok := value(after, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("after a reload, %s%v: got %v (found %v); want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if got, _ := value(after, "wsgate_http_requests_total", "location=location = /metrics", "code=2xx"); got != 1 {
		t.Errorf("scrapes counted: got %v; want 1", got)
	}

	// A reload that removes the WebSocket location drops its series.
	g.Write(gatetest.HTTP(strings.Replace(fmt.Sprintf(metricsConf, echo.Addr, ""), "location /ws/ { proxy_pass http://echo; }", "", 1)))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	gone := scrape(t, g.Addr, "/metrics")
	var left []string
	for name, mf := range gone {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "location" && l.GetValue() == "location /ws/" {
					left = append(left, name)
				}
			}
		}
	}
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("series of the removed location remain: %v", left)
	}
	if got, ok := value(gone, "wsgate_http_requests_total", "location=location /ok", "code=2xx"); !ok || got != 2 {
		t.Errorf("after removing another location, /ok's requests: got %v (found %v); want 2", got, ok)
	}

	// A reload that gives the upstream another peer drops the old one's.
	other := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g.Write(gatetest.HTTP(fmt.Sprintf(metricsConf, other.Addr, "")))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	moved := scrape(t, g.Addr, "/metrics")
	for _, name := range []string{"wsgate_upstream_tries_total", "wsgate_upstream_peer_up", "wsgate_upstream_header_time_seconds"} {
		if _, ok := value(moved, name, "peer="+echo.Addr); ok {
			t.Errorf("%s of the removed peer remains", name)
		}
	}
	if got, ok := value(moved, "wsgate_upstream_peer_up", "upstream=echo", "peer="+other.Addr); !ok || got != 1 {
		t.Errorf("the new peer: up %v (found %v); want 1", got, ok)
	}
}

// TestOffWithoutLocation checks that nothing is counted while the
// configuration has no ws_metrics or ws_status location.
func TestOffWithoutLocation(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	conf := strings.Replace(fmt.Sprintf(metricsConf, echo.Addr, ""), "location = /metrics { ws_metrics; }", "", 1)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{})
	get(t, g.Addr, "/ok")
	var b bytes.Buffer
	if err := g.Server.Metrics().Write(&b); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "wsgate_http_requests_total") {
		t.Errorf("requests counted without a ws_metrics location:\n%s", s)
	}
}

// TestCloseCauses: tunnels that wsgate ends itself are counted by their
// cause, with the Close code wsgate sent on the wsgate side.
func TestCloseCauses(t *testing.T) {
	tests := []struct {
		name, loc, changed string // the /ws/ location's extra lines; changed: after a reload
		gone               bool   // the client leaves without a Close
		cause, side, code  string
	}{
		{name: "idle", loc: "proxy_read_timeout 200ms;", cause: "idle", side: "wsgate", code: "1001"},
		{name: "reload", loc: "ws_drain_window 0;", changed: "ws_drain_window 0; proxy_set_header X-Changed 1;", cause: "reload", side: "wsgate", code: "1012"},
		// The client ended the tunnel, but the Close (1001 to the
		// upstream) was wsgate's.
		{name: "client gone", gone: true, cause: "client", side: "wsgate", code: "1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
			conf := func(extra string) string {
				return gatetest.HTTP(fmt.Sprintf(`access_log off;
upstream echo { server %s; }
server {
	listen {{listen}};
	server_name metrics.test;
	location /ws/ { proxy_pass http://echo; %s }
	location = /metrics { ws_metrics; }
}`, echo.Addr, extra))
			}
			g := gatetest.Start(t, conf(tt.loc), gatetest.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/", &websocket.DialOptions{Host: "metrics.test"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if tt.changed != "" {
				proxytest.Eventually(t, 10*time.Second, func() bool { return len(g.Server.Metrics().OpenTunnels()) == 1 }, "the tunnel did not open")
				g.Write(conf(tt.changed))
				if err := g.Server.Reload(); err != nil {
					t.Fatal(err)
				}
			}
			m := g.Server.Metrics()
			if tt.gone {
				proxytest.Eventually(t, 10*time.Second, func() bool { return len(m.OpenTunnels()) == 1 }, "the tunnel did not open")
				c.CloseNow()
			} else {
				_, _, err = c.Read(ctx)
				if got := websocket.CloseStatus(err); fmt.Sprint(int(got)) != tt.code {
					t.Fatalf("the client got %v (%v); want Close %s", got, err, tt.code)
				}
			}
			proxytest.Eventually(t, 10*time.Second, func() bool { return len(m.OpenTunnels()) == 0 }, "the tunnel did not end")
			mfs := scrape(t, g.Addr, "/metrics")
			ws := []string{"location=location /ws/", "peer=" + echo.Addr}
			if got, ok := value(mfs, "wsgate_tunnel_closes_total", append(ws, "cause="+tt.cause)...); got != 1 {
				t.Errorf("closes by %s: got %v (found %v); want 1", tt.cause, got, ok)
			}
			if got, ok := value(mfs, "wsgate_websocket_close_codes_total", append(ws, "side="+tt.side, "code="+tt.code)...); got != 1 {
				t.Errorf("Close %s by %s: got %v (found %v); want 1\n%s", tt.code, tt.side, got, ok, families(mfs, "wsgate_websocket_close_codes_total", "wsgate_tunnel_closes_total"))
			}
		})
	}
}

// TestMethods: the exposition answers GET and HEAD, and 405 to others,
// as stub_status does.
func TestMethods(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(metricsConf, echo.Addr, "")), gatetest.Options{})
	tests := []struct {
		method string
		status int
		body   bool
	}{{"GET", 200, true}, {"HEAD", 200, false}, {"POST", 405, true}}
	for _, tt := range tests {
		c, err := net.DialTimeout("tcp", g.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "%s /metrics HTTP/1.1\r\nHost: metrics.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tt.method)
		r, err := proxytest.ReadResponse(bufio.NewReader(c), tt.method)
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.method, err)
		}
		if r.Status != tt.status || (len(r.Body) > 0) != tt.body {
			t.Errorf("%s: got %d with %d body bytes; want %d, body %v", tt.method, r.Status, len(r.Body), tt.status, tt.body)
		}
	}
}

// families renders the samples of the named families, for failures.
func families(mfs map[string]*dto.MetricFamily, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		if mf := mfs[n]; mf != nil {
			for _, m := range mf.Metric {
				fmt.Fprintf(&b, "%s %v %v\n", n, m.Label, m.GetCounter().GetValue())
			}
		}
	}
	return b.String()
}

// TestPingRTT: a tunnel whose location has wsgate ping both sides shows
// their round-trip times while it runs and, when it ends, adds one
// observation per side to the ping RTT histogram.
func TestPingRTT(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	conf := strings.Replace(fmt.Sprintf(metricsConf, echo.Addr, ""),
		"location /ws/ { proxy_pass http://echo; }", "location /ws/ { proxy_pass http://echo; ws_ping_interval 50ms both; }", 1)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/", &websocket.DialOptions{Host: "metrics.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.CloseRead(ctx) // reads, and so answers wsgate's Pings, until the Close
	m := g.Server.Metrics()
	proxytest.Eventually(t, 10*time.Second, func() bool {
		open := m.OpenTunnels()
		if len(open) != 1 {
			return false
		}
		cl, up := open[0].PingRTT()
		return cl > 0 && up > 0
	}, "no round-trip time to both sides while the tunnel runs")
	before := scrape(t, g.Addr, "/metrics")
	if _, ok := value(before, "wsgate_websocket_ping_rtt_seconds"); ok {
		t.Errorf("a ping RTT observed before any tunnel ended")
	}
	c.Close(websocket.StatusNormalClosure, "")
	proxytest.Eventually(t, 10*time.Second, func() bool { return len(m.OpenTunnels()) == 0 }, "the tunnel did not end")
	mfs := scrape(t, g.Addr, "/metrics")
	for _, side := range []string{"client", "upstream"} {
		labels := []string{"location=location /ws/", "peer=" + echo.Addr, "side=" + side}
		if got, ok := value(mfs, "wsgate_websocket_ping_rtt_seconds", labels...); got != 1 {
			t.Errorf("ping RTTs to the %s: got %v (found %v); want 1", side, got, ok)
		}
		if got := bucket(mfs, "wsgate_websocket_ping_rtt_seconds", 10, labels...); got != 1 {
			t.Errorf("ping RTTs to the %s within 10 s: got %v; want 1", side, got)
		}
	}
}

// TestHealthCheckGauges: a peer that ws_health_check holds out is not up,
// and wsgate_upstream_peer_unhealthy says why; the healthy peer is up.
func TestHealthCheckGauges(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	dead := fmt.Sprintf("127.0.0.1:%d", proxytest.FreePort(t))
	g := gatetest.Start(t, gatetest.HTTP(`
access_log off;
upstream u { server `+echo.Addr+`; server `+dead+`; ws_health_check interval=100ms type=websocket uri=/ws/; }
server { listen {{listen}}; location /ws/ { proxy_pass http://u; } location = /metrics { ws_metrics; } }`), gatetest.Options{})
	want := []struct {
		name, peer string
		v          float64
	}{
		{"wsgate_upstream_peer_up", echo.Addr, 1},
		{"wsgate_upstream_peer_unhealthy", echo.Addr, 0},
		{"wsgate_upstream_peer_up", dead, 0},
		{"wsgate_upstream_peer_unhealthy", dead, 1},
	}
	var mfs map[string]*dto.MetricFamily
	proxytest.Eventually(t, 10*time.Second, func() bool {
		mfs = scrape(t, g.Addr, "/metrics")
		for _, w := range want {
			if got, ok := value(mfs, w.name, "upstream=u", "peer="+w.peer); !ok || got != w.v {
				return false
			}
		}
		return true
	}, "the gauges never showed the dead peer unhealthy")
}
