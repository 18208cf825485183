package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestTLSReloadCertificate checks certificates across reloads (SIGHUP):
// a new certificate in the same files serves new handshakes while a
// connection made before goes on; a broken certificate fails the reload
// and the running one keeps serving.
func TestTLSReloadCertificate(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "r.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name r.test; ssl_certificate " + certFile + "; ssl_certificate_key " + keyFile + "; return 200 \"ok\"; }\n}\n"
	ts := start(t, conf, Options{})

	dial := func() *tls.Conn {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{ServerName: "r.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	get := func(c *tls.Conn, br *bufio.Reader) {
		t.Helper()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: r.test\r\n\r\n")
		r, err := proxytest.ReadResponse(br, "GET")
		if err != nil || r.Status != 200 {
			t.Fatalf("request: %v, %v", r, err)
		}
	}
	served := func() []byte { return dial().ConnectionState().PeerCertificates[0].Raw }

	old := dial()
	oldBR := bufio.NewReader(old)
	get(old, oldBR)
	first := old.ConnectionState().PeerCertificates[0].Raw

	writeCert(t, dir, "r.test") // a new key and certificate in the same files
	if err := ts.s.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	second := served()
	if bytes.Equal(second, first) {
		t.Fatal("a new handshake got the certificate from before the reload")
	}
	get(old, oldBR) // the connection from before the reload goes on

	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ts.s.Reload(); err == nil {
		t.Fatal("a broken certificate reloaded")
	}
	if got := served(); !bytes.Equal(got, second) {
		t.Error("after a failed reload a handshake got another certificate than the running one")
	}
	get(old, oldBR)
}
