package snapshot

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
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
// fails, an expired CRL fails; of several errors in a chain the one
// nearest the anchor is reported.
func TestCRLCheck(t *testing.T) {
	ca, caKey := testCert(t, "CA", 1, nil, nil)
	other, _ := testCert(t, "Other CA", 1, nil, nil)
	good, _ := testCert(t, "good", 10, ca, caKey)
	bad, badKey := testCert(t, "bad", 11, ca, caKey)
	underBad, _ := testCert(t, "under bad", 20, bad, badKey)
	now := time.Now()
	list := func(next time.Time, serials ...int64) *crl {
		tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: next}
		for _, s := range serials {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
				x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: now.Add(-time.Minute)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, caKey)
		if err != nil {
			t.Fatal(err)
		}
		l, err := parseCRL(der)
		if err != nil {
			t.Fatal(err)
		}
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
		// nginx's verify callback goes on after an error, so OpenSSL's
		// last one is reported: the revoked intermediate, not the
		// leaf's missing list.
		{"revoked intermediate, leaf's CRL missing", current, []*x509.Certificate{underBad, bad, ca}, "certificate revoked"},
		{"leaf's CRL missing", current, []*x509.Certificate{underBad, good, ca}, "unable to get certificate CRL"},
	}
	for _, tc := range tests {
		if got := tc.lists.check(tc.chain, now); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.desc, got, tc.want)
		}
	}
}

// TestCRLv1FromOpenSSL reads the v1 list "openssl ca -gencrl" writes
// without crl_extensions (nginx-tests' proxy_ssl_crl.t makes such), which
// x509.ParseRevocationList refuses, and checks a chain against it.
func TestCRLv1FromOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	d := t.TempDir()
	conf := "[ ca ]\ndefault_ca = myca\n[ myca ]\nnew_certs_dir = " + d + "\ndatabase = " + d + "/certindex\n" +
		"default_md = sha256\npolicy = p\nserial = " + d + "/certserial\ndefault_days = 1\n[ p ]\ncommonName = supplied\n"
	os.WriteFile(filepath.Join(d, "ca.conf"), []byte(conf), 0o600)
	os.WriteFile(filepath.Join(d, "certindex"), nil, 0o600)
	os.WriteFile(filepath.Join(d, "certserial"), []byte("1000\n"), 0o600)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key", "-out", "root.crt", "-subj", "/CN=root", "-days", "1")
	run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf")
	run("x509", "-req", "-in", "leaf.csr", "-CA", "root.crt", "-CAkey", "root.key", "-set_serial", "7", "-out", "leaf.crt", "-days", "1")
	run("ca", "-gencrl", "-config", "ca.conf", "-keyfile", "root.key", "-cert", "root.crt", "-out", "empty.crl", "-crldays", "1")
	lists, err := readCRLs(filepath.Join(d, "empty.crl"))
	if err != nil {
		t.Fatalf("reading a v1 CRL: %v", err)
	}
	root, _ := readCerts(filepath.Join(d, "root.crt"))
	leaf, _ := readCerts(filepath.Join(d, "leaf.crt"))
	if got := lists.check([]*x509.Certificate{leaf[0], root[0]}, time.Now()); got != "" {
		t.Errorf("a certificate the empty list does not name: got %q; want it to pass", got)
	}
}
