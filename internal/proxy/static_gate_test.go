package proxy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticGate serves files through the whole serving path with the
// defaults a real configuration leans on: root html taken from the prefix,
// include mime.types without such a file beside nginx.conf (the built-in
// copy of nginx's table), index, a directory's 301 made absolute, and a
// reload that changes the root.
func TestStaticGate(t *testing.T) {
	g := startGate(t, `include mime.types;
server {
    listen {{listen}};
    server_name example.com;
    location /api/ { return 200 "api\n"; }
}`, nil)
	for name, body := range map[string]string{"html/index.html": "<p>home</p>\n", "html/s.css": "b{}", "html/docs/index.html": "docs\n"} {
		p := filepath.Join(g.dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		desc, path   string
		status       int
		ctype, body  string
		locationPart string
	}{
		{"index from the prefix's html", "/", 200, "text/html", "<p>home</p>\n", ""},
		{"type from the built-in mime.types", "/s.css", 200, "text/css", "b{}", ""},
		{"directory without its slash", "/docs", 301, "text/html", "", "http://example.com:"},
		{"missing", "/nope.js", 404, "text/html", "", ""},
		{"return beside files", "/api/x", 200, "text/plain", "api\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := g.do("GET "+tc.path+" HTTP/1.1\nHost: example.com\n\n", "GET")
			if r.Status != tc.status {
				t.Fatalf("GET %s: status %d; want %d", tc.path, r.Status, tc.status)
			}
			if ct, _ := r.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q; want %q", ct, tc.ctype)
			}
			if tc.body != "" && string(r.Body) != tc.body {
				t.Errorf("body %q; want %q", r.Body, tc.body)
			}
			if loc, _ := r.Get("Location"); tc.locationPart != "" && !strings.HasPrefix(loc, tc.locationPart) {
				t.Errorf("Location %q; want it to start with %q", loc, tc.locationPart)
			}
		})
	}

	// A reload that moves the root serves the new tree.
	os.MkdirAll(filepath.Join(g.dir, "v2"), 0o755)
	os.WriteFile(filepath.Join(g.dir, "v2", "index.html"), []byte("v2\n"), 0o644)
	conf := filepath.Join(g.dir, "nginx.conf")
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(strings.Replace(string(text), "server_name example.com;", "server_name example.com;\n    root v2;", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if r := g.do("GET / HTTP/1.1\nHost: example.com\n\n", "GET"); r.Status != 200 || string(r.Body) != "v2\n" {
		t.Errorf("after reload: %d %q; want 200 \"v2\\n\"", r.Status, r.Body)
	}
}
