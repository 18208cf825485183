package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestUpstreamMoving reads "server ... resolve" (nginx 1.27.3), the
// upstream block's resolver lines, slow_start, and wsgate's
// ws_health_check, ws_drain_removed, ws_drain_window and ws_rebalance.
func TestUpstreamMoving(t *testing.T) {
	tests := []struct {
		desc  string
		block string
		want  func(u *Upstream) any
		value any
	}{
		{"resolve", "zone z 64k; server be.test:81 resolve slow_start=30s;", func(u *Upstream) any {
			return []any{u.Servers[0].Resolve, u.Servers[0].SlowStart}
		}, []any{true, 30 * time.Second}},
		{"service", "zone z; server be.test resolve service=http; server example.com service=server1.backend resolve backup;", func(u *Upstream) any {
			return []any{u.Servers[0].Service, u.Servers[0].Resolve, u.Servers[1].Service, u.Servers[1].Backup}
		}, []any{"http", true, "server1.backend", true}},
		{"own resolver", "zone z; server be.test resolve; resolver 127.0.0.1:53 valid=5s; resolver_timeout 2s;", func(u *Upstream) any {
			return []any{u.Resolver.Addrs, u.Resolver.Valid, u.ResolverTimeout}
		}, []any{[]string{"127.0.0.1:53"}, 5 * time.Second, 2 * time.Second}},
		{"drain", "server a:1; ws_drain_removed 5m; ws_drain_window 30s;", func(u *Upstream) any {
			return []any{u.DrainRemoved, u.DrainWindow}
		}, []any{5 * time.Minute, 30 * time.Second}},
		{"drain defaults", "server a:1;", func(u *Upstream) any {
			return []any{u.DrainRemoved, u.DrainWindow, u.HealthCheck, u.Rebalance}
		}, []any{time.Duration(0), time.Duration(-1), (*HealthCheck)(nil), (*Rebalance)(nil)}},
		{"health check defaults", "server a:1; ws_health_check;", func(u *Upstream) any {
			h := *u.HealthCheck
			h.Pos = Pos{}
			return h
		}, HealthCheck{Interval: 5 * time.Second, Fails: 1, Passes: 1, URI: "/", Timeout: 5 * time.Second}},
		{"websocket check", "server a:1; ws_health_check interval=2s fails=3 passes=2 uri=/ws/ type=websocket send=ping expect=pong timeout=1s mandatory;", func(u *Upstream) any {
			h := *u.HealthCheck
			h.Pos = Pos{}
			return h
		}, HealthCheck{Interval: 2 * time.Second, Fails: 3, Passes: 2, URI: "/ws/", WebSocket: true, Send: "ping", Expect: "pong", Timeout: time.Second, Mandatory: true}},
		{"rebalance", "least_conn; server a:1; ws_rebalance threshold=25% rate=120/m;", func(u *Upstream) any {
			return []any{u.Rebalance.Threshold, u.Rebalance.Rate}
		}, []any{25, 2.0}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := checkText(t, "events {} http { upstream u { "+tc.block+" } server { location / { proxy_pass http://u; } } }")
			if got := tc.want(s.HTTP.Upstreams[0]); !reflect.DeepEqual(got, tc.value) {
				t.Errorf("got %#v; want %#v", got, tc.value)
			}
		})
	}
	s := checkText(t, "events {} http { resolver 127.0.0.1; resolver_timeout 3s; upstream u { zone z; server a resolve; } server { location / { proxy_pass http://u; } } }")
	if s.HTTP.Resolver == nil || s.HTTP.ResolverTimeout != 3*time.Second {
		t.Errorf("http level resolver %v, timeout %v; want both kept for the upstreams", s.HTTP.Resolver, s.HTTP.ResolverTimeout)
	}
}

func TestUpstreamMovingErrors(t *testing.T) {
	tests := []struct{ block, want string }{
		{"server be.test resolve;", `resolving names at run time requires upstream "u" in test.conf:1 to be in shared memory`},
		{"zone z; server be.test service=http;", `service upstream "be.test" requires "resolve" parameter`},
		{"zone z; server be.test:80 resolve service=http;", `service upstream "be.test:80" may not have port`},
		{"server be.test resolve service=http;", `resolving names at run time requires upstream "u" in test.conf:1 to be in shared memory`},
		{"hash $uri; server a:1 slow_start=10s;", `"slow_start" cannot be used with the hash balancing method`},
		{"server a:1 slow_start=x;", `invalid parameter "slow_start=x"`},
		{"server a:1; ws_health_check match=ok;", `"match" blocks are an NGINX Plus feature`},
		{"server a:1; ws_health_check send=x;", `"send" and "expect" need type=websocket`},
		{"server a:1; ws_health_check fails=0;", `invalid parameter "fails=0"`},
		{"server a:1; ws_health_check uri=x;", `invalid parameter "uri=x"`},
		{"server a:1; ws_rebalance threshold=20%;", `"rate" is required`},
		{"server a:1; ws_rebalance rate=5/h;", `invalid parameter "rate=5/h"`},
		{"server a:1; ws_drain_removed 0;", `"ws_drain_removed" directive invalid value`},
	}
	for _, tc := range tests {
		t.Run(tc.block, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte("events {} http { upstream u { "+tc.block+" } server { location / { proxy_pass http://u; } } }"), ParseOptions{})
			if len(errs) == 0 {
				_, errs = Check(ast)
			}
			if len(errs) == 0 || !strings.Contains(errs.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", errs, tc.want)
			}
		})
	}
}
