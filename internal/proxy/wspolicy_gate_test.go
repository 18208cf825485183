package proxy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
	"wsgate/internal/tunnel"
)

const wsPolicyConf = `
map $http_sec_websocket_protocol $ws_pick {
    default      {{one}};
    "~(^|, *)v2" {{two}};
}
server {
    listen {{listen}};
    location /ws/ {
        proxy_pass http://{{one}};
        ws_allow_origins https://app.example.com *.example.net;
    }
    location /proto/ {
        proxy_pass http://$ws_pick;
        ws_subprotocols v1 v2;
    }
    location /strip/ {
        proxy_pass http://{{one}};
        ws_deflate strip;
    }
    location /rate/ {
        proxy_pass http://{{one}};
        ws_handshake_rate 1r/m;
    }
}`

// TestWSHandshakePolicy: Origins, subprotocols (and routing by them
// through map), the deflate offer and the handshake rate, with a real
// client against real backends.
func TestWSHandshakePolicy(t *testing.T) {
	one := proxytest.NewWSEcho(t, proxytest.WSOptions{Subprotocols: []string{"v1", "v2"}, Compression: websocket.CompressionContextTakeover})
	two := proxytest.NewWSEcho(t, proxytest.WSOptions{Subprotocols: []string{"v1", "v2"}})
	g := startObservedGate(t, wsPolicyConf, map[string]string{"one": one.Addr, "two": two.Addr}, &endsObserver{ends: make(chan tunnel.Result, 64)})

	dial := func(t *testing.T, path string, h http.Header, protos ...string) (*websocket.Conn, *http.Response, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, "ws://"+g.addr+path, &websocket.DialOptions{HTTPHeader: h, Subprotocols: protos,
			CompressionMode: websocket.CompressionContextTakeover})
		if c != nil {
			t.Cleanup(func() { c.CloseNow() })
		}
		return c, resp, err
	}
	status := func(resp *http.Response) int {
		if resp == nil {
			return 0
		}
		return resp.StatusCode
	}

	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"https://app.example.com", 101},
		{"https://chat.example.net", 101},
		{"", 101}, // not a browser
		{"https://attacker.test", 403},
		{"http://app.example.com", 403},
	} {
		t.Run("origin "+tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			_, resp, _ := dial(t, "/ws/", h)
			if got := status(resp); got != tc.want {
				t.Errorf("got %d; want %d", got, tc.want)
			}
		})
	}

	t.Run("subprotocols filtered and routed", func(t *testing.T) {
		before := len(two.Requests())
		c, resp, err := dial(t, "/proto/", nil, "bogus", "v2")
		if err != nil {
			t.Fatalf("dialing: %v (%d)", err, status(resp))
		}
		if c.Subprotocol() != "v2" {
			t.Errorf("subprotocol: got %q; want v2", c.Subprotocol())
		}
		reqs := two.Requests()
		if len(reqs) != before+1 {
			t.Fatalf("the v2 backend got %d handshakes; want 1", len(reqs)-before)
		}
		if v, _ := reqs[len(reqs)-1].Get("Sec-WebSocket-Protocol"); v != "v2" {
			t.Errorf("offer upstream: got %q; want v2", v)
		}
	})
	t.Run("no allowed subprotocol", func(t *testing.T) {
		if _, resp, _ := dial(t, "/proto/", nil, "bogus"); status(resp) != 403 {
			t.Errorf("got %d; want 403", status(resp))
		}
		if _, resp, _ := dial(t, "/proto/", nil); status(resp) != 403 {
			t.Errorf("no offer: got %d; want 403", status(resp))
		}
	})
	t.Run("deflate stripped", func(t *testing.T) {
		_, resp, err := dial(t, "/strip/", nil)
		if err != nil {
			t.Fatalf("dialing: %v", err)
		}
		if v := resp.Header.Get("Sec-WebSocket-Extensions"); v != "" {
			t.Errorf("101 extensions: got %q; want none", v)
		}
		reqs := one.Requests()
		if v, ok := reqs[len(reqs)-1].Get("Sec-WebSocket-Extensions"); ok {
			t.Errorf("offer upstream: got %q; want none", v)
		}
	})
	t.Run("deflate passed elsewhere", func(t *testing.T) {
		_, resp, err := dial(t, "/ws/", nil)
		if err != nil {
			t.Fatalf("dialing: %v", err)
		}
		if v := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(v, "permessage-deflate") {
			t.Errorf("101 extensions: got %q; want permessage-deflate", v)
		}
	})
	t.Run("handshake rate", func(t *testing.T) {
		if _, resp, err := dial(t, "/rate/", nil); err != nil {
			t.Fatalf("first handshake: %v (%d)", err, status(resp))
		}
		_, resp, _ := dial(t, "/rate/", nil)
		if status(resp) != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("second handshake: got %d, Retry-After %q; want 503 with Retry-After", status(resp), resp.Header.Get("Retry-After"))
		}
		if ra := resp.Header.Get("Retry-After"); ra != "60" && ra != "59" {
			t.Errorf("Retry-After: got %q; want about 60", ra)
		}
	})
}
