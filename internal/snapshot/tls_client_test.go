package snapshot

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsgate/internal/config"
)

// TestClientVerifyTrustedIntermediate: a trusted intermediate
// (ssl_client_certificate with the intermediate and the root, as
// nginx-tests' ssl_verify_depth.t and ssl_crl.t have) is a link of the
// chain, not its end, as in OpenSSL without partial chains: it counts
// toward ssl_verify_depth, and ssl_crl checks it against the root's list.
func TestClientVerifyTrustedIntermediate(t *testing.T) {
	root, rootKey := testCert(t, "root", 1, nil, nil)
	inter, interKey := testCert(t, "int", 2, root, rootKey)
	inter = asCA(t, inter, root, rootKey)
	end, _ := testCert(t, "end", 3, inter, interKey)
	dir := t.TempDir()
	var trust []byte
	for _, c := range []*x509.Certificate{inter, root} {
		trust = append(trust, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	ca := filepath.Join(dir, "root-int.crt")
	if err := os.WriteFile(ca, trust, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(2), RevocationTime: now}}}, root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := filepath.Join(dir, "root.crl")
	if err := os.WriteFile(crlFile, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc  string
		depth int
		crl   string
		cert  *x509.Certificate
		want  string
	}{
		{"depth 0, the root", 0, "", root, ClientVerifySuccess},
		{"depth 0, under the intermediate", 0, "", end, "FAILED:certificate chain too long"},
		{"depth 1, under the intermediate", 1, "", end, ClientVerifySuccess},
		{"the intermediate revoked by the root's list", 2, crlFile, end, "FAILED:certificate revoked"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			v, err := clientAuth(&tls.Config{}, &config.TLSConf{VerifyClient: "on", VerifyDepth: tc.depth,
				ClientCertificate: ca, CRL: tc.crl}, func(p string) string { return p })
			if err != nil {
				t.Fatal(err)
			}
			if got := v.verify([]*x509.Certificate{tc.cert}, now); got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// asCA is c, signed by parent again, as a CA.
func asCA(t *testing.T, c, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := *c
	tmpl.IsCA = true
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, parent, c.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
