package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWSNativeDirectives reads the ws_ directives of Pings, limits,
// handshake policy and session logs, inherited from http to server to
// location as nginx inherits scalar settings.
func TestWSNativeDirectives(t *testing.T) {
	tests := []struct {
		desc       string
		http, loc  string
		want       func(w *WSConf) any
		wantResult any
	}{
		{"ping default side", "ws_ping_interval 30s;", "", func(w *WSConf) any { return []any{w.PingInterval, w.PingSides, w.PongTimeout} },
			[]any{30 * time.Second, WSClient, time.Duration(0)}},
		{"ping both, timeout", "ws_ping_interval 30s both; ws_pong_timeout 5s;", "", func(w *WSConf) any { return []any{w.PingSides, w.PongTimeout} },
			[]any{WSBoth, 5 * time.Second}},
		{"ping off in location", "ws_ping_interval 30s;", "ws_ping_interval off;", func(w *WSConf) any { return w.PingInterval }, time.Duration(0)},
		{"sizes", "", "ws_max_message_size 1m; ws_max_frame_size 64k upstream;", func(w *WSConf) any { return []WSSize{w.MaxMessage, w.MaxFrame} },
			[]WSSize{{1 << 20, WSClient}, {64 << 10, WSUpstream}}},
		{"rate", "", "ws_message_rate 30r/m burst=5 drop both;", func(w *WSConf) any { return w.MessageRate },
			WSRate{PerSecond: 0.5, Burst: 5, Drop: true, Sides: WSBoth}},
		{"rate default burst", "", "ws_message_rate 10r/s;", func(w *WSConf) any { return w.MessageRate },
			WSRate{PerSecond: 10, Burst: 11, Sides: WSClient}},
		{"handshake rate", "ws_handshake_rate 100r/s burst=200 upstream;", "", func(w *WSConf) any { return w.HandshakeRate },
			WSHandshakeRate{PerSecond: 100, Burst: 200, Upstream: true}},
		{"origins", "", `ws_allow_origins https://App.example.com *.example.net "~^https://[a-z]+\.example\.org$";`, func(w *WSConf) any { return w.AllowOrigins },
			[]string{"https://app.example.com", "*.example.net", `~^https://[a-z]+\.example\.org$`}},
		{"any origin", "ws_allow_origins https://a.example;", "ws_allow_origins *;", func(w *WSConf) any { return w.AllowOrigins }, []string{}},
		{"subprotocols, deflate, log", "ws_subprotocols mqtt v2.json; ws_deflate strip; ws_log_interval 5m;", "", func(w *WSConf) any { return []any{w.Subprotocols, w.Deflate, w.LogInterval} },
			[]any{[]string{"mqtt", "v2.json"}, "strip", 5 * time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := checkText(t, "events {} http { "+tc.http+" server { location /ws/ { proxy_pass http://127.0.0.1:1; "+tc.loc+" } } }")
			got := tc.want(&s.HTTP.Servers[0].Locations[0].Conf.WS)
			if !reflect.DeepEqual(got, tc.wantResult) {
				t.Errorf("got %#v; want %#v", got, tc.wantResult)
			}
		})
	}
}

func TestWSNativeDirectiveErrors(t *testing.T) {
	tests := []struct{ conf, want string }{
		{"ws_ping_interval 0;", `"ws_ping_interval" directive invalid value`},
		{"ws_ping_interval 10s sideways;", `it must be "client", "upstream" or "both"`},
		{"ws_max_message_size 1x;", `"ws_max_message_size" directive invalid value`},
		{"ws_message_rate 10r/h;", `invalid rate "10r/h"`},
		{"ws_message_rate 10r/s burst=0;", `invalid burst value "burst=0"`},
		{"ws_handshake_rate 1r/s both;", `invalid parameter "both"`},
		{"ws_allow_origins https://*.a.*.example;", `invalid origin`},
		{`ws_allow_origins "~(?<=x)y";`, `not supported by wsgate`},
		{"ws_subprotocols a,b;", `invalid subprotocol "a,b"`},
		{"ws_deflate maybe;", `invalid value "maybe"`},
	}
	for _, tc := range tests {
		t.Run(tc.conf, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte("events {} http { server { location / { "+tc.conf+" } } }"), ParseOptions{})
			if len(errs) == 0 {
				_, errs = Check(ast)
			}
			if len(errs) == 0 || !strings.Contains(errs.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", errs, tc.want)
			}
		})
	}
}
