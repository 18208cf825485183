package server

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// writeRSACert is writeCert with an RSA key.
func writeRSACert(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name + " rsa"},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".rsa.crt"), filepath.Join(dir, name+".rsa.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestTLSSettingsPerServer checks that each SNI server's ssl_* settings
// apply to its handshakes (not the address's first server's): exact
// ssl_protocols (a ceiling as well as a floor), ssl_ciphers, several
// certificates chosen by what the client accepts, session tickets and
// their timeout, and the $ssl_* variables.
func TestTLSSettingsPerServer(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	certA, keyA := writeCert(t, dir, "a.test")
	rsaA, rsaKeyA := writeRSACert(t, dir, "a.test")
	certB, keyB := writeCert(t, dir, "b.test")
	certC, keyC := writeCert(t, dir, "c.test")
	certD, keyD := writeCert(t, dir, "d.test")
	certE, keyE := writeCert(t, dir, "e.test")
	body := `return 200 "$ssl_protocol $ssl_cipher $ssl_server_name $ssl_session_reused $ssl_alpn_protocol";`
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name a.test; ssl_certificate " + certA + "; ssl_certificate_key " + keyA + ";\n" +
		"        ssl_certificate " + rsaA + "; ssl_certificate_key " + rsaKeyA + ";\n" +
		"        ssl_protocols TLSv1.2; ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384; " + body + " }\n" +
		"    server { listen " + a + " ssl; server_name b.test; ssl_certificate " + certB + "; ssl_certificate_key " + keyB + "; ssl_protocols TLSv1.3; " + body + " }\n" +
		"    server { listen " + a + " ssl; server_name c.test; ssl_certificate " + certC + "; ssl_certificate_key " + keyC + "; ssl_session_tickets off; " + body + " }\n" +
		"    server { listen " + a + " ssl; server_name d.test; ssl_certificate " + certD + "; ssl_certificate_key " + keyD + "; ssl_session_timeout 0; " + body + " }\n" +
		"    server { listen " + a + " ssl; server_name e.test; ssl_certificate " + certE + "; ssl_certificate_key " + keyE + "; ssl_session_tickets off; ssl_session_cache shared:S:1m; " + body + " }\n" +
		"    server { listen " + a + " ssl; server_name f.test; ssl_certificate " + certE + "; ssl_certificate_key " + keyE + "; ssl_session_tickets off; ssl_session_cache builtin:10; ssl_protocols TLSv1.2; " + body + " }\n" +
		"}\n"
	start(t, conf, Options{})

	get := func(t *testing.T, cfg *tls.Config) (*tls.ConnectionState, string, error) {
		t.Helper()
		cfg.InsecureSkipVerify = true
		cfg.NextProtos = []string{"http/1.1"}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, cfg)
		if err != nil {
			return nil, "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+cfg.ServerName+"\r\nConnection: close\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			t.Fatal(err)
		}
		st := c.ConnectionState()
		return &st, string(r.Body), nil
	}

	tests := []struct {
		desc     string
		cfg      *tls.Config
		wantErr  bool
		wantBody string
		wantCert string // the leaf's common name
	}{
		{desc: "ssl_protocols TLSv1.2 is a ceiling too", cfg: &tls.Config{ServerName: "a.test"},
			wantBody: "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 a.test . http/1.1", wantCert: "a.test"},
		{desc: "the RSA certificate for a client that takes RSA suites only",
			cfg:      &tls.Config{ServerName: "a.test", CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
			wantBody: "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 a.test . http/1.1", wantCert: "a.test rsa"},
		{desc: "a suite ssl_ciphers leaves out", wantErr: true,
			cfg: &tls.Config{ServerName: "a.test", CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}},
		{desc: "the second server's ssl_protocols TLSv1.3", wantErr: true,
			cfg: &tls.Config{ServerName: "b.test", MaxVersion: tls.VersionTLS12}},
		{desc: "TLSv1.3 suites are Go's", cfg: &tls.Config{ServerName: "b.test"},
			wantBody: "TLSv1.3 TLS_AES_128_GCM_SHA256 b.test . http/1.1", wantCert: "b.test"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			st, body, err := get(t, tc.cfg)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("handshake succeeded with %s; want it refused", body)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			// TLS 1.3 picks AES-128-GCM or ChaCha20 by the hardware.
			body = strings.Replace(body, "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", 1)
			if body != tc.wantBody {
				t.Errorf("got %q; want %q", body, tc.wantBody)
			}
			if got := st.PeerCertificates[0].Subject.CommonName; got != tc.wantCert {
				t.Errorf("got certificate %q; want %q", got, tc.wantCert)
			}
		})
	}

	resumption := []struct {
		sni    string
		resume bool
	}{
		{"a.test", true},  // TLS 1.2 ticket
		{"b.test", true},  // TLS 1.3 ticket
		{"c.test", false}, // ssl_session_tickets off
		{"d.test", false}, // ssl_session_timeout 0
		{"e.test", true},  // tickets off, a shared cache: TLS 1.3
		{"f.test", true},  // tickets off, a builtin cache: TLS 1.2
	}
	for _, tc := range resumption {
		t.Run("resume "+tc.sni, func(t *testing.T) {
			cache := tls.NewLRUClientSessionCache(4)
			if _, _, err := get(t, &tls.Config{ServerName: tc.sni, ClientSessionCache: cache}); err != nil {
				t.Fatal(err)
			}
			st, body, err := get(t, &tls.Config{ServerName: tc.sni, ClientSessionCache: cache})
			if err != nil {
				t.Fatal(err)
			}
			if st.DidResume != tc.resume || strings.Contains(body, " r ") != tc.resume {
				t.Errorf("resumed %v, $ssl_session_reused in %q; want resumed %v", st.DidResume, body, tc.resume)
			}
		})
	}
}

// TestTLSRejectHandshake checks ssl_reject_handshake on a default server
// without a certificate: handshakes with an unknown name or none are
// refused with nginx's alert, the named server's go through.
func TestTLSRejectHandshake(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "known.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl default_server; ssl_reject_handshake on; }\n" +
		"    server { listen " + a + " ssl; server_name known.test; ssl_certificate " + cert + "; ssl_certificate_key " + key + "; return 200; }\n}\n"
	start(t, conf, Options{})
	for _, tc := range []struct {
		sni string
		ok  bool
	}{{"known.test", true}, {"other.test", false}, {"", false}} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true})
		if err == nil {
			c.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("SNI %q: handshake error %v; want success %v", tc.sni, err, tc.ok)
		}
		// nginx's alert is unrecognized_name (RFC 6066 §3).
		if err != nil && !strings.Contains(err.Error(), "unrecognized name") {
			t.Errorf("SNI %q: handshake error %v; want the unrecognized_name alert", tc.sni, err)
		}
	}
}

// TestTLSAddressIsSSL checks that an address is ssl for every server on
// it once one of its listens says "ssl" (ngx_http_add_addresses): a
// server listening there without the word is reached over TLS with its
// own certificate by SNI.
func TestTLSAddressIsSSL(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	certA, keyA := writeCert(t, dir, "a.test")
	certB, keyB := writeCert(t, dir, "b.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name a.test; ssl_certificate " + certA + "; ssl_certificate_key " + keyA + "; return 200; }\n" +
		"    server { listen " + a + "; server_name b.test; ssl_certificate " + certB + "; ssl_certificate_key " + keyB + "; return 200; }\n}\n"
	start(t, conf, Options{})
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{ServerName: "b.test", InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "b.test" {
		t.Errorf("got the certificate of %q; want b.test's", got)
	}
}

// TestTLSPlainHTTPErrorPage checks the idiom that sends plain HTTP on an
// ssl port to https: "error_page 497 https://$host:$server_port$request_uri"
// (nginx finishes such a request with 497 at the server level, where
// error_page catches it).
func TestTLSPlainHTTPErrorPage(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name a.test; ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        error_page 497 https://$host:$server_port$request_uri; return 200; }\n}\n"
	start(t, conf, Options{})
	c, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /x?y=1 HTTP/1.1\r\nHost: a.test\r\n\r\n")
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(a)
	if loc, _ := r.Get("Location"); r.Status != 302 || loc != "https://a.test:"+port+"/x?y=1" {
		t.Errorf("got %d Location %q; want 302 https://a.test:%s/x?y=1", r.Status, loc, port)
	}
}
