package openssl

import (
	"crypto/tls"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestSuitesMatchGo holds the table's code points to crypto/tls's: each
// is a suite Go implements, under the IANA name that OpenSSL's stands for.
func TestSuitesMatchGo(t *testing.T) {
	goNames := map[uint16]string{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		goNames[s.ID] = s.Name
	}
	for _, su := range suites {
		if goNames[su.id] == "" {
			t.Errorf("%s: 0x%04x is no suite of crypto/tls", su.name, su.id)
		}
	}
	for id, n := range tls13Names {
		if got := tls.CipherSuiteName(id); got != n {
			t.Errorf("0x%04x: got %s; want %s", id, got, n)
		}
	}
}

// cipherStrings are the "ssl_ciphers" values of the real configurations
// and of the guides they copy, and aliases one at a time.
var cipherStrings = []string{
	"HIGH:!aNULL:!MD5",
	"HIGH:!MEDIUM:!LOW:!aNULL:!NULL:!SHA",
	"EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH:!aNULL:!eNULL:!EXPORT:!DES:!MD5:!PSK:!RC4",
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:kEDH+AESGCM:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA256:DHE-RSA-AES256-SHA256:DHE-DSS-AES256-SHA:DHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:AES:CAMELLIA:DES-CBC3-SHA:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!aECDH:!EDH-DSS-DES-CBC3-SHA:!EDH-RSA-DES-CBC3-SHA:!KRB5-DES-CBC3-SHA",
	"AES128+EECDH:AES128+EDH",
	"ALL", "DEFAULT", "HIGH", "MEDIUM", "ECDHE", "kRSA", "RSA", "aRSA", "aECDSA", "ECDSA", "AES",
	"AES128", "AES256", "AESGCM", "CHACHA20", "SHA", "SHA1", "SHA256", "SHA384", "TLSv1.2", "TLSv1.0",
	"SSLv3", "ALL:-AES256:AES", "ALL:!AES256:AES", "ECDHE+AES128+SHA", "HIGH:+AES128:!aRSA",
	"ECDHE:@STRENGTH", "DEFAULT:@SECLEVEL=1",
}

// TestParseCiphersAgainstOpenSSL compares the suites each string selects
// with what the openssl binary selects, restricted to the suites wsgate
// serves.
func TestParseCiphersAgainstOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	for _, s := range cipherStrings {
		t.Run(s, func(t *testing.T) {
			out, err := exec.Command(bin, "ciphers", "-tls1_2", s).Output()
			var want []string
			if err == nil {
				for _, n := range strings.Split(strings.TrimSpace(string(out)), ":") {
					if isServed(n) {
						want = append(want, n)
					}
				}
			}
			c, err := ParseCiphers(s)
			if err != nil {
				t.Fatalf("ParseCiphers: %v", err)
			}
			var got []string
			for _, id := range c.IDs {
				got = append(got, CipherName(id))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestParseCiphersErrorsAndNotices(t *testing.T) {
	for _, tc := range []struct {
		desc, in string
		err      string
		unserved []string
	}{
		{desc: "typo", in: "ECDHE-RSA-AES128-GCM-SHA265:HIGH", err: `unknown cipher "ECDHE-RSA-AES128-GCM-SHA265"`},
		{desc: "unknown alias", in: "HIGHEST:!aNULL", err: `unknown cipher "HIGHEST"`},
		{desc: "removing what does not exist", in: "HIGH:!KRB5:!EXPORT:!NOSUCH"},
		{desc: "TLS 1.3 names", in: "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256"},
		{desc: "known to OpenSSL, not to Go", in: "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA",
			unserved: []string{"DHE-RSA-AES128-GCM-SHA256", "DES-CBC3-SHA"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := ParseCiphers(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Unserved, tc.unserved) {
				t.Errorf("unserved: got %v; want %v", c.Unserved, tc.unserved)
			}
		})
	}
}

func TestProtocolsAndCurves(t *testing.T) {
	for _, tc := range []struct {
		in       []string
		min, max uint16
		dropped  int
	}{
		{[]string{"TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, 0},
		{[]string{"TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, 0},
		{[]string{"TLSv1.3", "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS13, 0},
		{[]string{"TLSv1", "TLSv1.1", "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, 2},
		{[]string{"TLSv1", "TLSv1.1"}, 0, 0, 2},
	} {
		p, err := ParseProtocols(tc.in)
		if err != nil || p.Min != tc.min || p.Max != tc.max || len(p.Dropped) != tc.dropped {
			t.Errorf("%v: got %+v, %v; want %x-%x, %d dropped", tc.in, p, err, tc.min, tc.max, tc.dropped)
		}
	}
	if _, err := ParseProtocols([]string{"TLSv1.4"}); err == nil {
		t.Error("TLSv1.4: no error")
	}
	ids, dropped, err := ParseCurves("X25519:prime256v1:secp384r1:X448")
	want := []uint16{uint16(tls.X25519), uint16(tls.CurveP256), uint16(tls.CurveP384)}
	if err != nil || !slices.Equal(ids, want) || !slices.Equal(dropped, []string{"X448"}) {
		t.Errorf("got %v %v %v; want %v [X448]", ids, dropped, err, want)
	}
	if _, _, err := ParseCurves("prime257v1"); err == nil {
		t.Error("prime257v1: no error")
	}
	if uint16(tls.X25519MLKEM768) != CurveX25519MLKEM768 || uint16(tls.CurveP521) != CurveP521 {
		t.Error("curve IDs out of step with crypto/tls")
	}
}
