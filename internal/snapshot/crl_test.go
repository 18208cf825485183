package snapshot

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func testCert(t *testing.T, cn string, serial int64, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: parent == nil,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
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

// TestCRLCheck holds ssl_crl and proxy_ssl_crl to OpenSSL's CRL_CHECK_ALL:
// a listed serial is revoked, a certificate whose issuer has no CRL
// fails, an expired CRL fails.
func TestCRLCheck(t *testing.T) {
	ca, caKey := testCert(t, "CA", 1, nil, nil)
	other, _ := testCert(t, "Other CA", 1, nil, nil)
	good, _ := testCert(t, "good", 10, ca, caKey)
	bad, _ := testCert(t, "bad", 11, ca, caKey)
	now := time.Now()
	list := func(next time.Time, serials ...int64) *x509.RevocationList {
		tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: next}
		for _, s := range serials {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
				x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: now.Add(-time.Minute)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, caKey)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := x509.ParseRevocationList(der)
		return l
	}
	current := crls{list(now.Add(time.Hour), 11)}
	tests := []struct {
		desc  string
		lists crls
		chain []*x509.Certificate
		want  string
	}{
		{"not listed", current, []*x509.Certificate{good, ca}, ""},
		{"listed", current, []*x509.Certificate{bad, ca}, "certificate revoked"},
		{"no CRL of the issuer", current, []*x509.Certificate{other, other}, "unable to get certificate CRL"},
		{"expired", crls{list(now.Add(-time.Minute))}, []*x509.Certificate{good, ca}, "CRL has expired"},
		{"anchor alone", current, []*x509.Certificate{ca}, ""},
	}
	for _, tc := range tests {
		if got := tc.lists.check(tc.chain, now); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.desc, got, tc.want)
		}
	}
}
