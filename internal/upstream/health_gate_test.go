package upstream_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
	"wsgate/internal/upstream"
)

// TestGateHealthCheck: a backend whose /health answers 200 while its
// WebSocket endpoint is broken stays in under an HTTP check of /health,
// and is taken out by a WebSocket check (a real handshake, a message and
// its echo, Close 1000), then put back once it recovers.
func TestGateHealthCheck(t *testing.T) {
	tests := []struct {
		desc     string
		check    string
		takenOut bool
	}{
		{desc: "http check of /health misses it", check: "ws_health_check interval=100ms uri=/health;", takenOut: false},
		{desc: "websocket check takes it out", check: "ws_health_check interval=100ms fails=2 passes=2 uri=/ws/check type=websocket send=hello expect=hello timeout=1s;", takenOut: true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			port := sharedPort(t)
			startPeer(t, "127.0.0.2", port)
			b3 := startPeer(t, "127.0.0.3", port)
			p := strconv.Itoa(port)
			var errlog proxytest.SyncBuffer
			g := gatetest.Start(t, gatetest.HTTP(`
access_log off;
upstream u { server 127.0.0.2:`+p+`; server 127.0.0.3:`+p+`; `+tc.check+` }
server { listen {{listen}}; location / { proxy_pass http://u; } }`), gatetest.Options{Log: &errlog})
			all := "127.0.0.2,127.0.0.3"
			proxytest.Eventually(t, 10*time.Second, func() bool { return seenIDs(g.Addr, 4) == all }, "both peers never answered")
			b3.wsBroken.Store(true)
			if tc.takenOut {
				var got string
				if !proxytest.Poll(10*time.Second, func() bool { got = seenIDs(g.Addr, 4); return got == "127.0.0.2" }) {
					t.Fatalf("with /ws/ broken, /id answered from %s; want 127.0.0.2 only\nlog:\n%s", got, errlog.String())
				}
				if !strings.Contains(errlog.String(), "upstream server failed its health check, taken out") {
					t.Errorf("no warning logged:\n%s", errlog.String())
				}
				// Every WebSocket now lands on the healthy peer.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for i := range 4 {
					c, err := dialWS(ctx, g.Addr, "/ws/x")
					if err != nil {
						t.Fatalf("handshake %d with a peer out: %v", i, err)
					}
					c.Close(1000, "")
				}
				b3.wsBroken.Store(false)
				if !proxytest.Poll(10*time.Second, func() bool { got = seenIDs(g.Addr, 4); return got == all }) {
					t.Fatalf("after /ws/ recovered, /id answered from %s; want %s\nlog:\n%s", got, all, errlog.String())
				}
				return
			}
			// The HTTP check sees only /health: the peer stays in.
			proxytest.Consistently(t, time.Second, func() bool { return seenIDs(g.Addr, 4) == all },
				"an HTTP check of /health took out a peer whose /health answers 200")
		})
	}
}

// TestHealthStats: the read API the metrics and the status page use
// (Pool.Stats) reports the checks, the peer taken out and put back, and
// the ramped weight of slow_start.
func TestHealthStats(t *testing.T) {
	port := sharedPort(t)
	startPeer(t, "127.0.0.2", port)
	b3 := startPeer(t, "127.0.0.3", port)
	p := strconv.Itoa(port)
	reg := upstream.NewRegistry(upstream.Options{})
	defer reg.Close()
	u := &config.Upstream{Name: "u", DrainWindow: -1,
		Servers: []config.UpstreamServer{
			{Addr: "127.0.0.2:" + p, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second},
			{Addr: "127.0.0.3:" + p, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, SlowStart: time.Hour},
		},
		HealthCheck: &config.HealthCheck{Interval: 50 * time.Millisecond, Fails: 1, Passes: 1, URI: "/ws/", WebSocket: true, Timeout: time.Second},
	}
	set, err := reg.Build(context.Background(), []*config.Upstream{u}, nil, func(context.Context, string) ([]netip.Addr, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	reg.Activate(set)
	pool := set.Pool("u")
	stat := func(i int) upstream.PeerStats { return pool.Stats()[i] }
	proxytest.Eventually(t, 10*time.Second, func() bool { return stat(1).Health.Checks >= 1 && stat(0).Health.Checks >= 1 }, "no check recorded")
	if s := stat(1); !s.Health.Checked || s.Health.Unhealthy || s.Health.LastError != "" {
		t.Fatalf("healthy peer's stats %+v", s.Health)
	}
	b3.wsBroken.Store(true)
	proxytest.Eventually(t, 10*time.Second, func() bool { return stat(1).Health.Unhealthy }, "peer never taken out")
	if s := stat(1); !strings.Contains(s.Health.LastError, "status 500") {
		t.Errorf("LastError %q; want the 500 named", s.Health.LastError)
	}
	b3.wsBroken.Store(false)
	proxytest.Eventually(t, 10*time.Second, func() bool { return !stat(1).Health.Unhealthy }, "peer never put back")
	// slow_start=1h: the peer that came back has a sliver of its weight.
	if w0, w1 := stat(0).Weight, stat(1).Weight; w0 != 1 || w1 != 1 {
		t.Errorf("weights %d, %d; want 1 and a ramp rounded up to 1", w0, w1)
	}
}
