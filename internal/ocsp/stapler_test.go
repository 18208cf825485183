package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

func cert(t *testing.T, cn string, parent *x509.Certificate, parentKey crypto.Signer, isCA bool) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// TestCheck holds what is stapled to nginx's rules: only a good,
// unexpired response for the certificate, signed by its issuer, and with
// roots, by a responder they anchor.
func TestCheck(t *testing.T) {
	ca, caKey := cert(t, "CA", nil, nil, true)
	other, otherKey := cert(t, "Other", nil, nil, true)
	leaf, _ := cert(t, "leaf", ca, caKey, false)
	now := time.Now()
	resp := func(status int, next time.Time, signer *x509.Certificate, key crypto.Signer) []byte {
		der, err := xocsp.CreateResponse(ca, signer, xocsp.Response{Status: status, SerialNumber: leaf.SerialNumber,
			ThisUpdate: now.Add(-2 * time.Hour), NextUpdate: next, Certificate: signer}, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(other)
	tests := []struct {
		desc  string
		der   []byte
		roots *x509.CertPool
		err   string
	}{
		{"good", resp(xocsp.Good, now.Add(time.Hour), ca, caKey), nil, ""},
		{"good, verified", resp(xocsp.Good, now.Add(time.Hour), ca, caKey), roots, ""},
		{"responder not anchored", resp(xocsp.Good, now.Add(time.Hour), ca, caKey), otherRoots, "verifying the responder"},
		{"revoked", resp(xocsp.Revoked, now.Add(time.Hour), ca, caKey), nil, `"revoked"`},
		{"unknown", resp(xocsp.Unknown, now.Add(time.Hour), ca, caKey), nil, `"unknown"`},
		{"expired", resp(xocsp.Good, now.Add(-time.Hour), ca, caKey), nil, "expired"},
		// ssl_stapling_verify off: nginx checks nothing of the signer
		// (OCSP_NOVERIFY); nginx-tests' ssl_stapling.t signs by the root.
		{"signed by a stranger, not verified", resp(xocsp.Good, now.Add(time.Hour), other, otherKey), nil, ""},
		{"signed by a stranger, verified", resp(xocsp.Good, now.Add(time.Hour), other, otherKey), otherRoots, "parsing"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Check(tc.der, leaf, ca, tc.roots, now)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("got %v; want %q", err, tc.err)
			}
		})
	}
}
