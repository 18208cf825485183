package proxy_test

import (
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestLimitConnTunnel checks that limit_conn counts a WebSocket for as
// long as its tunnel lives (nginx frees the request, and its count, when
// the upgraded connection closes): with "limit_conn one 1" a second
// handshake from the same client is refused while the first tunnel is
// open, and goes through once it has closed. Plain requests count only
// while they are served.
func TestLimitConnTunnel(t *testing.T) {
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := startGate(t, `
limit_conn_zone $binary_remote_addr zone=one:1m;
server { listen {{listen}};
  location /ws {
    limit_conn one 1;
    proxy_pass http://{{b}};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
  }
  location /status { return 200 "$limit_conn_status"; }
}`, map[string]string{"b": be.Addr})
	const hs = "GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n"
	first := g.dial()
	first.send(hs)
	if r := first.read("GET"); r.Status != 101 {
		t.Fatalf("first handshake: got %d; want 101", r.Status)
	}
	for i := 0; i < 2; i++ {
		if r := g.do(hs, "GET"); r.Status != 503 {
			t.Fatalf("handshake %d while the first tunnel is open: got %d; want 503", i+2, r.Status)
		}
	}
	first.c.Close()
	var last int
	proxytest.Eventually(t, 10*time.Second, func() bool {
		c := g.dial()
		c.send(hs)
		last = c.read("GET").Status
		c.c.Close()
		return last == 101
	}, "handshake after the first tunnel closed: got %d; want 101", last)
	if r := g.get("/status"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("$limit_conn_status where no limit_conn is: got %d %q; want 200 and nothing", r.Status, r.Body)
	}
}
