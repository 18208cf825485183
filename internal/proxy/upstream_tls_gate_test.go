package proxy_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// testCA is a CA the test makes, and the leaf it signs for a backend.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) leaf(t *testing.T, dns string, client bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dns}, DNSNames: []string{dns},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, dir, name string, c tls.Certificate) (certPath, keyPath string) {
	t.Helper()
	kder, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certPath, keyPath
}

// TestGateUpstreamTLS checks the proxy_ssl_* directives against an
// https backend on loopback whose certificate a test CA signs: no SNI
// and no check by default (nginx's), SNI from proxy_ssl_server_name and
// proxy_ssl_name, verification against proxy_ssl_trusted_certificate and
// the name (502 when either fails), and a client certificate for a
// backend that asks for one.
func TestGateUpstreamTLS(t *testing.T) {
	ca, other := newTestCA(t, "test CA"), newTestCA(t, "other CA")
	dir := t.TempDir()
	caFile, otherFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	os.WriteFile(otherFile, other.pem, 0o600)
	clientCert, clientKey := writePEM(t, dir, "client", ca.leaf(t, "wsgate", true))

	var mu sync.Mutex
	var lastSNI string
	var lastClientCert bool
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lastSNI, lastClientCert = r.TLS.ServerName, len(r.TLS.PeerCertificates) > 0
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, "backend.test", false)},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	b.StartTLS()
	t.Cleanup(b.Close)
	baddr := b.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(baddr)

	g := startGate(t, `
upstream backend.test { server `+baddr+`; }
server { listen {{listen}};
  location /default/ { proxy_pass https://`+baddr+`; }
  location /sni/ { proxy_ssl_server_name on; proxy_ssl_name backend.test; proxy_pass https://`+baddr+`; }
  location /upstream-name/ { proxy_ssl_server_name on; proxy_ssl_verify on; proxy_ssl_trusted_certificate `+caFile+`; proxy_pass https://backend.test; }
  location /verified/ { proxy_ssl_verify on; proxy_ssl_trusted_certificate `+caFile+`; proxy_ssl_name backend.test:`+port+`; proxy_pass https://`+baddr+`; }
  location /wrong-name/ { proxy_ssl_verify on; proxy_ssl_trusted_certificate `+caFile+`; proxy_ssl_name other.test; proxy_pass https://`+baddr+`; }
  location /wrong-ca/ { proxy_ssl_verify on; proxy_ssl_trusted_certificate `+otherFile+`; proxy_ssl_name backend.test; proxy_pass https://`+baddr+`; }
  location /mtls/ { proxy_ssl_certificate `+clientCert+`; proxy_ssl_certificate_key `+clientKey+`; proxy_pass https://`+baddr+`; }
}`, nil)

	tests := []struct {
		path       string
		status     int
		sni        string
		clientCert bool
	}{
		{"/default/", 200, "", false},
		{"/sni/", 200, "backend.test", false},
		{"/upstream-name/", 200, "backend.test", false},
		{"/verified/", 200, "", false},
		{"/wrong-name/", 502, "", false},
		{"/wrong-ca/", 502, "", false},
		{"/mtls/", 200, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			mu.Lock()
			lastSNI, lastClientCert = "-", false
			mu.Unlock()
			r := g.do("GET "+tc.path+" HTTP/1.1\nHost: h\n\n", "GET")
			if r.Status != tc.status {
				t.Fatalf("got status %d; want %d", r.Status, tc.status)
			}
			if tc.status != 200 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if lastSNI != tc.sni || lastClientCert != tc.clientCert {
				t.Errorf("backend saw SNI %q, client certificate %v; want %q, %v", lastSNI, lastClientCert, tc.sni, tc.clientCert)
			}
		})
	}
}

// TestGateUpstreamTLSHandshakeTimeout: an https backend that accepts
// and never answers the handshake is a timeout after
// proxy_connect_timeout, 504, as nginx answers (nginx-tests proxy_ssl.t,
// "proxy handshake timeout"); one that closes at once is 502.
func TestGateUpstreamTLSHandshakeTimeout(t *testing.T) {
	silent := proxytest.NewSilent(t)
	closing := proxytest.NewFunc(t, func(c net.Conn, _ *bufio.Reader) { c.Close() })
	g := startGate(t, `
server { listen {{listen}};
  proxy_connect_timeout 200ms;
  location /silent/ { proxy_pass https://`+silent.Addr+`; }
  location /closing/ { proxy_pass https://`+closing.Addr+`; }
}`, nil)
	for path, want := range map[string]int{"/silent/": 504, "/closing/": 502} {
		if r := g.get(path); r.Status != want {
			t.Errorf("%s: %d; want %d", path, r.Status, want)
		}
	}
}

// TestGateUpstreamTLSCertificateVariables: proxy_ssl_certificate and
// _key with variables name the client certificate of each connection
// (nginx 1.21.0; nginx-tests proxy_ssl_certificate_vars.t): the files
// the request names are sent, the backend sees which, an empty value
// sends none, and files that do not load are 500. Sessions are not
// reused: a resumed one keeps the certificate it began with, in nginx
// too.
func TestGateUpstreamTLSCertificateVariables(t *testing.T) {
	ca := newTestCA(t, "test CA")
	dir := t.TempDir()
	writePEM(t, dir, "one", ca.leaf(t, "one", true))
	writePEM(t, dir, "two", ca.leaf(t, "two", true))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "none"
		if len(r.TLS.PeerCertificates) > 0 {
			name = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		w.Write([]byte(name))
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, "backend.test", false)},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	b.StartTLS()
	t.Cleanup(b.Close)
	g := startGate(t, `
server { listen {{listen}};
  proxy_ssl_session_reuse off;
  location / {
    proxy_ssl_certificate `+dir+`/$arg_cert.crt;
    proxy_ssl_certificate_key `+dir+`/$arg_cert.key;
    proxy_pass https://`+b.Listener.Addr().String()+`;
  }
  location /none/ {
    proxy_ssl_certificate $arg_cert;
    proxy_ssl_certificate_key $arg_cert;
    proxy_pass https://`+b.Listener.Addr().String()+`;
  }
}`, nil)
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/?cert=one", 200, "one"},
		{"/?cert=two", 200, "two"},
		{"/none/", 200, "none"},
		{"/?cert=missing", 500, ""},
	}
	for _, tc := range tests {
		r := g.get(tc.path)
		if r.Status != tc.status || tc.status == 200 && string(r.Body) != tc.body {
			t.Errorf("%s: %d %q; want %d %q", tc.path, r.Status, r.Body, tc.status, tc.body)
		}
	}
}
