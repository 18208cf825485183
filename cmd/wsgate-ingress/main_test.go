package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/config"
)

// TestDump runs --manifests DIR --dump over a directory with a Service,
// its EndpointSlice and an Ingress, and checks that the output is a
// configuration that parses and checks (what wsgate -t does) and that
// endpoint addresses are written out.
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
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--manifests", dir, "--dump", "--ssl-dir", "/ssl"}, &stdout, &stderr); code != 0 {
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
	ast, errs := config.ParseText("dump", stdout.Bytes())
	if len(errs) > 0 {
		t.Fatalf("dump does not parse: %v", errs)
	}
	if _, errs := config.Check(ast); len(errs) > 0 {
		t.Fatalf("dump does not check: %v", errs)
	}
}
