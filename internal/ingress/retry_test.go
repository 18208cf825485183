package ingress

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestWatchBuildFailure adds, through the fake clientset, an Ingress
// whose snippet translates and checks but cannot be built by the server
// (an access log in a directory that does not exist), then breaks the
// served Ingress the same way: the new one is left out with a Warning
// Event and later changes are still served; the edit leaves the previous
// version serving, its tunnel open. Before, the failed reload held back
// every change of the cluster.
func TestWatchBuildFailure(t *testing.T) {
	a := startNamedEcho(t, "chat", "127.0.0.1:0")
	chat := wsIngress("chat", "chat.example.com", "/ws", "chat", nil)
	c := startCluster(t, service("chat"), slice("chat-1", "chat", int32(proxytest.PortOf(a.addr)), "127.0.0.1"), chat)
	open := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, open, "1", "chat:1")

	badLog := filepath.Join(t.TempDir(), "missing", "access.log")
	snippet := map[string]string{nginxPrefix + "configuration-snippet": "access_log " + badLog + ";"}
	c.create(t, wsIngress("bad", "bad.example.com", "/", "chat", snippet))
	c.waitEvent(t, "bad", "missing")
	c.create(t, wsIngress("later", "later.example.com", "/", "chat", nil))
	proxytest.Eventually(t, 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, _, err := c.gate.dialWS(ctx, "ws://later.example.com/", nil)
		if err == nil {
			conn.CloseNow()
		}
		return err == nil
	}, "the Ingress added after the one that could not be built is not served")
	later := c.open(t, "ws://later.example.com/")
	mustSay(t, later, "2", "chat:2")
	resp, err := c.gate.client(c.gate.http).Get("http://bad.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the Ingress that could not be built: %d; want 404 (not served)", resp.StatusCode)
	}

	broken := chat.DeepCopy()
	broken.Annotations = map[string]string{nginxPrefix + "configuration-snippet": "access_log " + badLog + ";"}
	broken.ResourceVersion = "2"
	c.update(t, broken)
	c.waitEvent(t, "chat", "missing")
	mustSay(t, open, "3", "chat:3")
	fresh := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, fresh, "4", "chat:4")
}
