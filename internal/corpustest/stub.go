package corpustest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ffdhe2048 is RFC 7919's 2048-bit group, for every ssl_dhparam.
const ffdhe2048 = `-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
`

// Assets writes the files stub.py copies for every certificate, key, DH
// parameters, session ticket key and password file into dir: one
// self-signed ECDSA pair for "localhost".
func Assets(t testing.TB, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ticket := make([]byte, 80)
	rand.Read(ticket)
	files := map[string][]byte{
		"cert.pem":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		"dh.pem":       []byte(ffdhe2048),
		"ticket.key":   ticket,
		"password.txt": []byte("x\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Listen is one address a server of the plan listens on.
type Listen struct {
	Addr string `json:"addr"` // 127.0.0.1:PORT or [::1]:PORT
	SSL  bool   `json:"ssl"`
}

// Server is one server block of a stubbed file, as stub.py describes it.
type Server struct {
	Listen []Listen `json:"listen"`
	Names  []string `json:"names"`  // server_name arguments, as written
	WS     []string `json:"ws"`     // paths of locations that proxy with an Upgrade header
	Static []string `json:"static"` // paths under root or alias locations
}

// Stubbed is one corpus file made ready for both proxies.
type Stubbed struct {
	Prefix     string   // the prefix both run from
	NginxConf  string   // the file nginx is given
	WsgateConf string   // the file wsgate is given (the same text, without nginx's temp paths)
	Plan       []Server // the servers to send requests to
	Log        string   // what stub.py reported (certificates it inserted)
}

// Stub runs stub.py on the corpus file src into a fresh prefix under dir,
// with the listen ports moved to ports (as many as the file needs) and
// every upstream address pointed at backend.
func Stub(t testing.TB, script, src, dir, assets, stubs string, ports []int, backend string) *Stubbed {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	prefix := filepath.Join(dir, "prefix")
	cmd := exec.Command(python, script, src, prefix, assets, stubs, strings.Join(ps, ","), backend)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("stub.py %s: %v\n%s", filepath.Base(src), err, stderr.String())
	}
	lines := strings.SplitN(strings.TrimRight(string(out), "\n"), "\n", 3)
	if len(lines) != 3 {
		t.Fatalf("stub.py %s: got %q; want three lines", filepath.Base(src), out)
	}
	s := &Stubbed{Prefix: prefix, NginxConf: lines[0], WsgateConf: lines[1], Log: stderr.String()}
	if err := json.Unmarshal([]byte(lines[2]), &s.Plan); err != nil {
		t.Fatalf("stub.py %s: reading the plan: %v", filepath.Base(src), err)
	}
	return s
}

// Addrs returns every address the plan's servers listen on, in order,
// without duplicates.
func (s *Stubbed) Addrs() []string {
	var out []string
	seen := map[string]bool{}
	for _, srv := range s.Plan {
		for _, l := range srv.Listen {
			if !seen[l.Addr] {
				seen[l.Addr] = true
				out = append(out, l.Addr)
			}
		}
	}
	return out
}
