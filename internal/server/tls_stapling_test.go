package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"wsgate/internal/proxytest"
)

// TestTLSStapling checks ssl_stapling: a response from ssl_stapling_file
// is stapled from the first handshake; without one, the response is
// fetched from the certificate's OCSP responder (a loopback responder
// the test runs), checked against ssl_trusted_certificate
// (ssl_stapling_verify) and stapled once it arrives.
func TestTLSStapling(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, "Stapling CA", nil, true, time.Now().Add(time.Hour))
	var asked atomic.Int32
	respond := func(serial *big.Int) []byte {
		now := time.Now()
		der, err := xocsp.CreateResponse(ca.Leaf, ca.Leaf, xocsp.Response{Status: xocsp.Good, SerialNumber: serial,
			ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}, ca.PrivateKey.(crypto.Signer))
		if err != nil {
			t.Error(err)
		}
		return der
	}
	responder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GET only, as nginx asks (RFC 6960 A.1) and as nginx-tests'
		// responder answers.
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		body, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req, err := xocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		asked.Add(1)
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(respond(req.SerialNumber))
	}))
	t.Cleanup(responder.Close)

	// A server certificate naming the responder, with its issuer in the
	// chain file.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "staple.test"},
		DNSNames: []string{"staple.test", "file.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		OCSPServer: []string{responder.URL}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Leaf, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]})...)
	files := map[string][]byte{
		"chain.pem": chain,
		"key.pem":   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		"ca.pem":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]}),
		"ocsp.der":  respond(big.NewInt(77)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := proxytest.FreeAddr(t)
	cert := "ssl_certificate " + filepath.Join(dir, "chain.pem") + "; ssl_certificate_key " + filepath.Join(dir, "key.pem") + "; "
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl; server_name staple.test; " + cert + "ssl_stapling on; ssl_stapling_verify on; ssl_trusted_certificate " + filepath.Join(dir, "ca.pem") + "; return 200; }\n" +
		"    server { listen " + a + " ssl; server_name file.test; " + cert + "ssl_stapling on; ssl_stapling_file " + filepath.Join(dir, "ocsp.der") + "; return 200; }\n" +
		"}\n"
	start(t, conf, Options{})

	staple := func(sni string) []byte {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().OCSPResponse
	}
	check := func(resp []byte) {
		t.Helper()
		r, err := xocsp.ParseResponseForCert(resp, &x509.Certificate{Raw: der, SerialNumber: big.NewInt(77)}, ca.Leaf)
		if err != nil || r.Status != xocsp.Good {
			t.Fatalf("stapled response: %v, status %v; want a good one", err, r)
		}
	}
	t.Run("ssl_stapling_file", func(t *testing.T) {
		check(staple("file.test"))
	})
	t.Run("fetched from the responder", func(t *testing.T) {
		var got []byte
		proxytest.Eventually(t, 10*time.Second, func() bool {
			got = staple("staple.test")
			return len(got) > 0
		}, "a stapled OCSP response")
		check(got)
		if n := asked.Load(); n != 1 {
			t.Errorf("responder asked %d times; want once (the response is cached)", n)
		}
	})
}
