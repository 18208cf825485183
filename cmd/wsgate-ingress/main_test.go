package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/server"
)

// TestDump runs --manifests DIR --dump --ssl-dir over a directory with a
// Service, its EndpointSlice and an Ingress with TLS, and checks that
// endpoint addresses are written out and that the output passes what
// wsgate -t runs (server.Check: parsed, checked, built, certificates
// loaded from the files --ssl-dir received).
func TestDump(t *testing.T) {
	dir := t.TempDir()
	manifest := `apiVersion: v1
kind: Service
metadata: {name: chat, namespace: apps}
spec:
  ports: [{name: http, port: 80, targetPort: 3000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: chat-x1
  namespace: apps
  labels: {kubernetes.io/service-name: chat}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints:
- addresses: [10.1.2.3]
- addresses: [10.1.2.4]
  conditions: {ready: false}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: apps
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
    nginx.ingress.kubernetes.io/upstream-hash-by: "$remote_addr"
spec:
  ingressClassName: nginx
  tls:
  - hosts: [chat.example.com]
    secretName: chat-tls
  rules:
  - host: chat.example.com
    http:
      paths:
      - {path: /socket.io, pathType: Prefix, backend: {service: {name: chat, port: {name: http}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: typo, namespace: apps}
spec:
  ingressClassName: nginx
  rulez: []
`
	manifest += tlsSecret(t, "apps", "chat-tls", "chat.example.com")
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	sslDir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--manifests", dir, "--dump", "--ssl-dir", sslDir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"server 10.1.2.3:3000;", "hash $remote_addr consistent;", "location /socket.io/ {", "proxy_read_timeout 3600s;", "server_name chat.example.com;"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "10.1.2.4") {
		t.Errorf("dump lists an endpoint that is not ready:\n%s", out)
	}
	if !strings.Contains(stderr.String(), `unknown field "rulez"`) {
		t.Errorf("stderr does not report the strict decoding error:\n%s", stderr.String())
	}
	for _, f := range []string{"default.pem", "apps-chat-tls.pem"} {
		if !strings.Contains(out, filepath.Join(sslDir, f)) {
			t.Errorf("dump does not name %s in the SSL directory:\n%s", f, out)
		}
	}
	conf := filepath.Join(t.TempDir(), "wsgate.conf")
	if err := os.WriteFile(conf, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Check(server.Options{ConfPath: conf}); err != nil {
		t.Fatalf("wsgate -t refuses the dump: %v", err)
	}
}

// tlsSecret returns a kubernetes.io/tls Secret document (leading "---")
// holding a fresh self-signed certificate for host.
func tlsSecret(t *testing.T, ns, name, host string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n",
		name, ns, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(k))
}

// TestNameServers reads resolv.conf as ingress-nginx does for its
// resolver line: nameserver lines only, IPv6 in brackets.
func TestNameServers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	conf := "search ns.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00::a\n# nameserver 1.1.1.1\nnameserver bogus\noptions ndots:5\n"
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(nameServers(p), " ")
	if want := "10.96.0.10 [fd00::a]"; got != want {
		t.Errorf("nameServers: %q; want %q", got, want)
	}
	if got := nameServers(filepath.Join(t.TempDir(), "none")); got != nil {
		t.Errorf("no file: %q; want none", got)
	}
}
