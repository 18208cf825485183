package ingress

import (
	"context"
	"net/http"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestWatchLimitConnections serves an Ingress with limit-connections: "1"
// from the fake clientset: an open tunnel holds the client's one
// connection, so a second handshake from the same address gets 503, as
// ingress-nginx's limit_conn answers; once the Ingress lists the client
// in limit-whitelist, the reload lets the second one through while the
// first is still open (the zone's key is the same with and without an
// allowlist: a zone whose key changed would fail the reload).
func TestWatchLimitConnections(t *testing.T) {
	e := startNamedEcho(t, "chat", "127.0.0.1:0")
	ing := wsIngress("chat", "chat.example.com", "/ws", "chat", map[string]string{nginxPrefix + "limit-connections": "1"})
	c := startCluster(t, service("chat"), slice("chat-1", "chat", int32(proxytest.PortOf(e.addr)), "127.0.0.1"), ing)

	first := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, first, "1", "chat:1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, resp, err := c.gate.dialWS(ctx, "ws://chat.example.com/ws", nil); err == nil {
		conn.CloseNow()
		t.Fatal("a second tunnel from the same address got through limit-connections: 1")
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the second handshake: %v (%v); want 503", err, resp)
	}

	ing = ing.DeepCopy()
	ing.Annotations[nginxPrefix+"limit-whitelist"] = "127.0.0.1/32"
	ing.ResourceVersion = "2"
	c.update(t, ing)
	proxytest.Eventually(t, 10*time.Second, func() bool {
		conn, _, err := c.gate.dialWS(ctx, "ws://chat.example.com/ws", nil)
		if err == nil {
			conn.CloseNow()
		}
		return err == nil
	}, "a second tunnel is still refused after limit-whitelist listed the client")
	mustSay(t, first, "2", "chat:2")
	second := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, second, "3", "chat:3")
}
