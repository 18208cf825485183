package server

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// writeCert writes a self-signed certificate for name and its key as PEM
// files in dir and returns their paths.
func writeCert(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestTLS checks the server's TLS: the certificate is chosen by SNI as
// server selection chooses a server by name, falling back to the default
// server's; ALPN offers http/1.1; the request is then served by the server
// the Host names; and a client that does not speak TLS is dropped without
// harm to the next.
func TestTLS(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	certA, keyA := writeCert(t, dir, "a.test")
	certB, keyB := writeCert(t, dir, "b.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name a.test; ssl_certificate " + certA + "; ssl_certificate_key " + keyA + "; location / { return 200 \"a\"; } }\n" +
		"    server { listen " + a + " ssl; server_name b.test; ssl_certificate " + certB + "; ssl_certificate_key " + keyB + "; location / { return 200 \"b\"; } }\n" +
		"}\n"
	start(t, conf, Options{})

	tests := []struct {
		name     string
		sni      string
		wantCert string // the certificate's name
		wantBody string
	}{
		{"first server by name", "a.test", "a.test", "a"},
		{"second server by name", "b.test", "b.test", "b"},
		{"unknown name gets the default server's", "c.test", "a.test", "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{
				ServerName:         tc.sni,
				InsecureSkipVerify: true,
				NextProtos:         []string{"h2", "http/1.1"},
			})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			st := c.ConnectionState()
			if got := st.PeerCertificates[0].Subject.CommonName; got != tc.wantCert {
				t.Errorf("got the certificate of %q; want %q", got, tc.wantCert)
			}
			if st.NegotiatedProtocol != "http/1.1" {
				t.Errorf("got ALPN %q; want http/1.1", st.NegotiatedProtocol)
			}
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+tc.sni+"\r\nConnection: close\r\n\r\n")
			r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != tc.wantBody {
				t.Errorf("got body %q; want %q", r.Body, tc.wantBody)
			}
		})
	}

	t.Run("plain HTTP to a TLS address", func(t *testing.T) {
		// nginx reads the request and answers 400 with its page for
		// NGX_HTTP_TO_HTTPS, then closes.
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.1 400 Bad Request\r\n") || !strings.Contains(string(b), "<center>The plain HTTP request was sent to HTTPS port</center>") {
			t.Errorf("got %q; want nginx's 400 for plain HTTP to an HTTPS port", b)
		}
	})
	t.Run("neither TLS nor HTTP", func(t *testing.T) {
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05})
		b, _ := io.ReadAll(c)
		if len(b) > 0 && b[0] != 0x15 { // at most a TLS alert record
			t.Errorf("got %q; want the connection closed (with at most a TLS alert)", b)
		}
		tc, err := tls.Dial("tcp", a, &tls.Config{ServerName: "b.test", InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("the next TLS client: %v", err)
		}
		tc.Close()
	})
}

// TestTLSVariables checks $ssl_protocol, $ssl_server_name, $ssl_ciphers
// and $ssl_curves, and the
// corpus's redirect of plain requests by them (050-ws-ssl-example: "if
// ($ssl_protocol = "") { rewrite ^ https://$host$request_uri? permanent; }"),
// on a server that listens with and without TLS.
func TestTLSVariables(t *testing.T) {
	a, p := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; listen " + p + "; server_name a.test;\n" +
		"        ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        if ($ssl_protocol = \"\") { rewrite ^ https://$host$request_uri? permanent; }\n" +
		"        location / { return 200 \"$ssl_protocol|$ssl_server_name|$https\"; }\n" +
		"        location /offer { return 200 \"$ssl_ciphers|$ssl_curves\"; } }\n" +
		"}\n"
	start(t, conf, Options{})

	for _, tc := range []struct {
		name, sni string
		max       uint16
		want      string
	}{
		{"TLS 1.3 with SNI", "a.test", 0, "TLSv1.3|a.test|on"},
		{"TLS 1.2 without SNI", "", tls.VersionTLS12, "TLSv1.2||on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{
				ServerName: tc.sni, InsecureSkipVerify: true, MaxVersion: tc.max,
			})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
			r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != 200 || string(r.Body) != tc.want {
				t.Errorf("got %d %q; want 200 %q", r.Status, r.Body, tc.want)
			}
		})
	}
	t.Run("the client's offer", func(t *testing.T) {
		// $ssl_ciphers and $ssl_curves list what the ClientHello offered,
		// with OpenSSL's names.
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{
			ServerName: "a.test", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
			CipherSuites:     []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
			CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
		})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /offer HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			t.Fatal(err)
		}
		if want := "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384|X25519:prime256v1"; r.Status != 200 || string(r.Body) != want {
			t.Errorf("got %d %q; want 200 %q", r.Status, r.Body, want)
		}
	})
	t.Run("plain is redirected", func(t *testing.T) {
		c, err := net.Dial("tcp", p)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /x?y=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			t.Fatal(err)
		}
		if loc, _ := r.Get("Location"); r.Status != 301 || loc != "https://a.test/x?y=1" {
			t.Errorf("got %d Location %q; want 301 https://a.test/x?y=1", r.Status, loc)
		}
	})
}
