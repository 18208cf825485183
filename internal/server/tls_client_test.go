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

// issue makes a certificate for cn signed by parent (self-signed when
// parent is nil) and returns it with its key.
func issue(t *testing.T, cn string, parent *tls.Certificate, isCA bool, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x1234), Subject: pkix.Name{CommonName: cn, Organization: []string{"Test"}},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, IsCA: isCA, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	signer, signKey := tmpl, any(key)
	if parent != nil {
		signer, signKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestTLSClientCertificates checks ssl_verify_client as nginx answers
// it: the handshake never fails on a certificate; "on" answers no
// certificate with 400 "No required SSL certificate was sent" and a bad
// one with 400 "The SSL certificate error"; "optional" takes none;
// "optional_no_ca" takes one of an unknown CA; a Host other than the SNI
// is 421 where the server verifies; the $ssl_client_* variables.
func TestTLSClientCertificates(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	certS, keyS := writeCert(t, dir, "on.test")
	ca := issue(t, "Test CA", nil, true, time.Now().Add(time.Hour))
	other := issue(t, "Other CA", nil, true, time.Now().Add(time.Hour))
	good := issue(t, "device-1", &ca, false, time.Now().Add(49*time.Hour))
	expired := issue(t, "device-2", &ca, false, time.Now().Add(-time.Hour))
	stranger := issue(t, "device-3", &other, false, time.Now().Add(time.Hour))
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn|$ssl_client_serial|$ssl_client_v_remain";`
	srv := func(name, mode string) string {
		return "    server { listen " + a + " ssl; server_name " + name + "; ssl_certificate " + certS + "; ssl_certificate_key " + keyS +
			"; ssl_client_certificate " + caFile + "; ssl_verify_client " + mode + "; " + body + " }\n"
	}
	conf := "events {}\nhttp {\n    access_log off;\n" + srv("on.test", "on") + srv("optional.test", "optional") +
		srv("noca.test", "optional_no_ca") + srv("off.test", "off") +
		"    server { listen " + a + " ssl; server_name nocert.test; ssl_verify_client on; " + body + " }\n" + "}\n"
	start(t, conf, Options{})

	tests := []struct {
		desc, sni, host string
		cert            *tls.Certificate
		status          int
		body            string
	}{
		{"on, a good certificate", "on.test", "on.test", &good, 200, "SUCCESS|CN=device-1,O=Test|CN=Test CA,O=Test|1234|2"},
		{"on, none", "on.test", "on.test", nil, 400, "No required SSL certificate was sent"},
		{"on, expired", "on.test", "on.test", &expired, 400, "The SSL certificate error"},
		{"on, unknown CA", "on.test", "on.test", &stranger, 400, "The SSL certificate error"},
		{"optional, none", "optional.test", "optional.test", nil, 200, "NONE||||"},
		{"optional, unknown CA", "optional.test", "optional.test", &stranger, 400, "The SSL certificate error"},
		{"optional_no_ca, unknown CA", "noca.test", "noca.test", &stranger, 200, "FAILED:unable to get local issuer certificate|CN=device-3,O=Test|CN=Other CA,O=Test|1234|0"},
		{"optional_no_ca, expired", "noca.test", "noca.test", &expired, 400, "The SSL certificate error"},
		{"off asks for none", "off.test", "off.test", &good, 200, "NONE||||"},
		{"a server without a certificate verifies its requests", "nocert.test", "nocert.test", nil, 400, "No required SSL certificate was sent"},
		{"Host other than SNI on a verifying server", "off.test", "on.test", &good, 421, "421 Misdirected Request"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true}
			// Sent whatever CAs the server names, as curl and openssl do.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				if tc.cert == nil {
					return &tls.Certificate{}, nil
				}
				return tc.cert, nil
			}
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a, cfg)
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+tc.host+"\r\nConnection: close\r\n\r\n")
			r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.body) {
				t.Errorf("got %d %q; want %d with %q", r.Status, r.Body, tc.status, tc.body)
			}
		})
	}
}
