package snapshot

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
)

// TestCheckHost holds proxy_ssl_verify's name check to OpenSSL's
// X509_check_host: subjectAltName names when there are any, else the
// common name (which crypto/x509 alone would not read).
func TestCheckHost(t *testing.T) {
	cnOnly := &x509.Certificate{Subject: pkix.Name{CommonName: "int"}}
	wildCN := &x509.Certificate{Subject: pkix.Name{CommonName: "*.example.com"}}
	withSAN := &x509.Certificate{Subject: pkix.Name{CommonName: "cn.example.com"}, DNSNames: []string{"san.example.com"}}
	withIP := &x509.Certificate{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	tests := []struct {
		desc string
		cert *x509.Certificate
		name string
		ok   bool
	}{
		{"common name", cnOnly, "int", true},
		{"common name, case", cnOnly, "INT", true},
		{"common name, other", cnOnly, "end", false},
		{"wildcard common name", wildCN, "a.example.com", true},
		{"wildcard common name, two labels", wildCN, "a.b.example.com", false},
		{"SAN", withSAN, "san.example.com", true},
		{"SAN present: the common name is not read", withSAN, "cn.example.com", false},
		{"IP SAN", withIP, "127.0.0.1", true},
	}
	for _, tc := range tests {
		if err := checkHost(tc.cert, tc.name); (err == nil) != tc.ok {
			t.Errorf("%s: %q: got %v; want ok %v", tc.desc, tc.name, err, tc.ok)
		}
	}
}
