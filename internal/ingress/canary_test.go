package ingress

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
)

// TestWatchCanary serves, through the fake clientset, a primary Ingress
// and a canary Ingress of the same host and path (canary-by-header,
// canary-by-cookie, canary-weight), and checks where each WebSocket
// handshake goes: the header's "always" and "never" decide first, then
// the cookie's, then the weight; an edit of the weight to its total sends
// the rest to the canary. A canary with a weight alone of 100 takes every
// handshake.
func TestWatchCanary(t *testing.T) {
	stable := startNamedEcho(t, "stable", "127.0.0.1:0")
	next := startNamedEcho(t, "next", "127.0.0.1:0")
	canaryIng := wsIngress("chat-canary", "chat.example.com", "/ws", "next", map[string]string{
		nginxPrefix + "canary": "true", nginxPrefix + "canary-by-header": "X-Canary",
		nginxPrefix + "canary-by-cookie": "canary", nginxPrefix + "canary-weight": "0"})
	c := startCluster(t,
		service("stable"), slice("stable-1", "stable", int32(proxytest.PortOf(stable.addr)), "127.0.0.1"),
		service("next"), slice("next-1", "next", int32(proxytest.PortOf(next.addr)), "127.0.0.1"),
		wsIngress("chat", "chat.example.com", "/ws", "stable", nil), canaryIng,
		wsIngress("all", "all.example.com", "/", "stable", nil),
		wsIngress("all-canary", "all.example.com", "/", "next", map[string]string{nginxPrefix + "canary": "true", nginxPrefix + "canary-weight": "100"}))
	all := c.open(t, "ws://all.example.com/")
	mustSay(t, all, "y", "next:y")

	reach := func(hdr http.Header) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, resp, err := c.gate.dialWS(ctx, "ws://chat.example.com/ws", hdr)
		if err != nil {
			t.Fatalf("dialing with %v: %v (%v)", hdr, err, resp)
		}
		defer conn.CloseNow()
		if err := conn.Write(ctx, websocket.MessageText, []byte("x")); err != nil {
			t.Fatal(err)
		}
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	for _, tc := range []struct {
		name string
		hdr  http.Header
		want string
	}{
		{"no header, no cookie, weight 0", nil, "stable:x"},
		{"header always", http.Header{"X-Canary": {"always"}}, "next:x"},
		{"header never beats the cookie", http.Header{"X-Canary": {"never"}, "Cookie": {"canary=always"}}, "stable:x"},
		{"another header value goes on to the cookie", http.Header{"X-Canary": {"maybe"}, "Cookie": {"canary=always"}}, "next:x"},
		{"cookie never", http.Header{"Cookie": {"canary=never"}}, "stable:x"},
	} {
		if got := reach(tc.hdr); got != tc.want {
			t.Errorf("%s: reached %q; want %q", tc.name, got, tc.want)
		}
	}

	canaryIng = canaryIng.DeepCopy()
	canaryIng.Annotations[nginxPrefix+"canary-weight"] = "100"
	canaryIng.ResourceVersion = "2"
	c.update(t, canaryIng)
	proxytest.Eventually(t, 10*time.Second, func() bool { return reach(nil) == "next:x" }, "weight 100: the handshakes still reach the primary")
	if got := reach(http.Header{"Cookie": {"canary=never"}}); got != "stable:x" {
		t.Errorf("weight 100, cookie never: reached %q; want the primary", got)
	}
}
