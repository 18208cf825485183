package wse2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tlsFiles are a CA, a server certificate for localhost and 127.0.0.1
// and a client certificate, written as PEM files.
type tlsFiles struct{ ca, cert, key, clientCert, clientKey string }

func writeTLSFiles(t *testing.T, dir string) tlsFiles {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(name string, tmpl *x509.Certificate) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(time.Now().UnixNano()), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		c, k := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		os.WriteFile(c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
		os.WriteFile(k, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
		return c, k
	}
	f := tlsFiles{ca: filepath.Join(dir, "ca.pem")}
	os.WriteFile(f.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	f.cert, f.key = leaf("server", &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	f.clientCert, f.clientKey = leaf("client", &x509.Certificate{Subject: pkix.Name{CommonName: "python-client", Organization: []string{"IoT"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return f
}

// conf fills tmpl's {{CERT}}, {{KEY}} and {{CA}} with f's files.
func (f tlsFiles) conf(tmpl string) string {
	return strings.NewReplacer("{{CERT}}", f.cert, "{{KEY}}", f.key, "{{CA}}", f.ca).Replace(tmpl)
}

// wssConf is the seed's /ws/ location behind "listen ... ssl" with
// client certificates required, and /who answering the $ssl_* variables.
const wssConf = `events {}
http {
    access_log {{LOG}};
    server {
        listen {{LISTEN}} ssl;
        server_name localhost;
        ssl_certificate {{CERT}};
        ssl_certificate_key {{KEY}};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_client_certificate {{CA}};
        ssl_verify_client on;
        location /ws/ {
            proxy_pass http://{{WS}};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header X-Client-DN $ssl_client_s_dn;
        }
        location = /who { return 200 "$ssl_client_verify $ssl_client_s_dn $ssl_protocol $ssl_server_name\n"; }
    }
}
`

// TestPythonClientWSS runs e2e/ws/client_wss.py (Python websockets over
// wss://, with a client certificate) through a gate that requires one.
func TestPythonClientWSS(t *testing.T) {
	py := "/usr/bin/python3"
	if runtime.GOOS != "linux" {
		t.Skip("Debian python3 only")
	}
	if err := exec.Command(py, "-c", "import websockets").Run(); err != nil {
		t.Skip("python3-websockets not installed")
	}
	f := writeTLSFiles(t, t.TempDir())
	be := newCtlBackend(t)
	g := startGate(t, f.conf(wssConf), map[string]string{"WS": be.Addr})
	_, port, _ := net.SplitHostPort(g.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "client_wss.py", "wss://localhost:"+port+"/ws/echo", f.ca, f.clientCert, f.clientKey).CombinedOutput()
	if err != nil {
		t.Fatalf("client_wss.py: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ALL OK") {
		t.Fatalf("client_wss.py did not finish:\n%s", out)
	}
	if want := "WHO SUCCESS CN=python-client,O=IoT TLSv1.3 localhost"; !strings.Contains(string(out), want) {
		t.Errorf("got\n%s\nwant a line %q", out, want)
	}
}

// TestOpenSSLClient checks the handshake the openssl binary makes: the
// protocol and suite ssl_protocols and ssl_ciphers allow, the chain it
// verifies, and a refusal of what they do not allow.
func TestOpenSSLClient(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	f := writeTLSFiles(t, t.TempDir())
	be := newCtlBackend(t)
	g := startGate(t, f.conf(wssConf), map[string]string{"WS": be.Addr})
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"s_client", "-connect", g.addr, "-servername", "localhost",
			"-CAfile", f.ca, "-cert", f.clientCert, "-key", f.clientKey}, args...)...)
		cmd.Stdin = strings.NewReader("GET /who HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	tests := []struct {
		desc string
		args []string
		want []string
	}{
		{"TLSv1.2 with an allowed suite", []string{"-tls1_2", "-ign_eof"},
			[]string{"Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", "Verify return code: 0 (ok)", "SUCCESS CN=python-client,O=IoT TLSv1.2 localhost"}},
		{"TLSv1.3", []string{"-tls1_3", "-ign_eof"}, []string{"TLSv1.3", "SUCCESS CN=python-client,O=IoT TLSv1.3 localhost"}},
		{"a suite ssl_ciphers leaves out", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"}, []string{"alert handshake failure"}},
		{"TLSv1.1", []string{"-tls1_1"}, []string{"alert"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			out := run(tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("openssl s_client %v: want %q in\n%s", tc.args, w, out)
				}
			}
		})
	}
}
