package ingress

import (
	"context"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestWatchProxySSLVerify serves, through the fake clientset, two
// Ingresses to one HTTPS backend with proxy-ssl-verify on: the one whose
// proxy-ssl-secret holds the backend's CA gets its tunnel, the one whose
// Secret holds another CA gets 502, as nginx answers a backend whose
// certificate does not verify.
func TestWatchProxySSLVerify(t *testing.T) {
	e := newEchoService(t, true)
	backendCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
	ann := func(secret string) map[string]string {
		return map[string]string{nginxPrefix + "backend-protocol": "HTTPS", nginxPrefix + "proxy-ssl-secret": secret,
			nginxPrefix + "proxy-ssl-verify": "on", nginxPrefix + "proxy-ssl-name": "example.com", nginxPrefix + "proxy-ssl-server-name": "on"}
	}
	c := startCluster(t, service("chat"), slice("chat-1", "chat", e.port(), "127.0.0.1"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "backend-ca"}, Data: map[string][]byte{"ca.crt": backendCA}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "other-ca"}, Data: map[string][]byte{"ca.crt": newTestCA(t).certPEM}},
		wsIngress("good", "good.example.com", "/", "chat", ann("backend-ca")),
		wsIngress("bad", "bad.example.com", "/", "chat", ann("other-ca")))

	tu := c.open(t, "ws://good.example.com/")
	if err := tu.c.Write(tu.ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := tu.c.Read(tu.ctx); err != nil || string(msg) != "hi" {
		t.Fatalf("echo through the verified backend: %q, %v", msg, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, resp, err := c.gate.dialWS(ctx, "ws://bad.example.com/", nil); err == nil {
		conn.CloseNow()
		t.Fatal("a backend whose certificate the Secret's CA did not sign was used")
	} else if resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("the unverified backend: %v (%v); want 502", err, resp)
	}
	if n := e.hits.Load(); n != 1 {
		t.Errorf("the backend answered %d handshakes; want 1", n)
	}
}
