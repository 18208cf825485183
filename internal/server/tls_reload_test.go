package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
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

// TestTLSTicketKeyAcrossReload checks ssl_session_ticket_key: with a key
// file, a session ticket issued before a reload resumes after it (the
// key is the file's); without one, each configuration has its own keys.
func TestTLSTicketKeyAcrossReload(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		a := proxytest.FreeAddr(t)
		dir := t.TempDir()
		certFile, keyFile := writeCert(t, dir, "k.test")
		keyLine := ""
		if withKey {
			ticketKey := filepath.Join(dir, "ticket.key")
			if err := os.WriteFile(ticketKey, bytes.Repeat([]byte{7}, 80), 0o600); err != nil {
				t.Fatal(err)
			}
			keyLine = "ssl_session_ticket_key " + ticketKey + "; "
		}
		conf := "events {}\nhttp {\n    access_log off;\n" +
			"    server { listen " + a + " ssl; server_name k.test; ssl_certificate " + certFile + "; ssl_certificate_key " + keyFile + "; " + keyLine + "return 200; }\n}\n"
		ts := start(t, conf, Options{})
		cache := tls.NewLRUClientSessionCache(4)
		handshake := func() bool {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a,
				&tls.Config{ServerName: "k.test", InsecureSkipVerify: true, ClientSessionCache: cache, MaxVersion: tls.VersionTLS12})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.Close()
			return c.ConnectionState().DidResume
		}
		handshake()
		if err := ts.s.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := handshake(); got != withKey {
			t.Errorf("with a key file %v: resumed after a reload %v; want %v", withKey, got, withKey)
		}
	}
}
