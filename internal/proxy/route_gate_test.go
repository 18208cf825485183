package proxy_test

import (
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestGateServerSelection checks server{} choice per listen address and
// Host (nginx-semantics §6.1, §6.2) through what each server sets in
// X-Srv, including a regex capture used in proxy_set_header.
func TestGateServerSelection(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	g := startGate(t, `
server { listen {{listen}}; server_name first.test;
  location / { proxy_set_header X-Srv first; proxy_pass http://{{b}}; } }
server { listen {{listen}} default_server; server_name def.test;
  location / { proxy_set_header X-Srv def; proxy_pass http://{{b}}; } }
server { listen {{listen}}; server_name exact.test *.wild.test mail.*;
  location / { proxy_set_header X-Srv named-$server_name; proxy_pass http://{{b}}; } }
server { listen {{listen}}; server_name www.wild.test;
  location / { proxy_set_header X-Srv www-exact; proxy_pass http://{{b}}; } }
server { listen {{listen}}; server_name ~^(?<sub>[a-z]+)\.re\.test$ ~^(\d+)\.num\.test$;
  location / { proxy_set_header X-Srv re-$sub$1; proxy_pass http://{{b}}; } }
`, map[string]string{"b": b.Addr})

	tests := []struct {
		name, req string
		status    int
		srv       string // X-Srv at the backend; "" when nothing must arrive
	}{
		{"exact", "GET / HTTP/1.1\nHost: first.test\n\n", 200, "first"},
		{"exact case and port", "GET / HTTP/1.1\nHost: FIRST.test:8080\n\n", 200, "first"},
		{"trailing dot", "GET / HTTP/1.1\nHost: first.test.\n\n", 200, "first"},
		{"unknown goes to default_server", "GET / HTTP/1.1\nHost: nobody.test\n\n", 200, "def"},
		{"exact in list", "GET / HTTP/1.1\nHost: exact.test\n\n", 200, "named-exact.test"},
		{"leading wildcard", "GET / HTTP/1.1\nHost: a.b.wild.test\n\n", 200, "named-exact.test"},
		{"exact beats wildcard", "GET / HTTP/1.1\nHost: www.wild.test\n\n", 200, "www-exact"},
		{"trailing wildcard", "GET / HTTP/1.1\nHost: mail.example.org\n\n", 200, "named-exact.test"},
		{"regex named capture", "GET / HTTP/1.1\nHost: abc.re.test\n\n", 200, "re-abcabc"},
		{"regex numbered capture", "GET / HTTP/1.1\nHost: 42.num.test\n\n", 200, "re-42"},
		{"absolute URI host wins", "GET http://first.test/ HTTP/1.1\nHost: nobody.test\n\n", 200, "first"},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\n\n", 200, "def"},
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\n\n", 400, ""},
		{"bad Host", "GET / HTTP/1.1\nHost: a/b\n\n", 400, ""},
		{"two Hosts", "GET / HTTP/1.1\nHost: first.test\nHost: first.test\n\n", 400, ""},
		{"Host with space", "GET / HTTP/1.1\nHost: a b\n\n", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Reset()
			resp := g.do(tt.req, "GET")
			if resp.Status != tt.status {
				t.Fatalf("got status %d; want %d", resp.Status, tt.status)
			}
			if tt.srv == "" {
				// Nothing to wait for: the backend must stay without a
				// request for a while after the answer.
				proxytest.Consistently(t, 50*time.Millisecond, func() bool { return len(b.Requests()) == 0 },
					"backend got a request; want none")
				return
			}
			if got := header(ptr(waitOne(t, b)), "X-Srv"); got != tt.srv {
				t.Errorf("got X-Srv %q; want %q", got, tt.srv)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestGateLocations checks location precedence (§6.3): exact, ^~, regex in
// file order, longest prefix, nested, and the 301 for a prefix that ends
// in a slash, with nginx's header order.
func TestGateLocations(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	g := startGate(t, `
server { listen {{listen}};
  location / { proxy_set_header X-Loc root; proxy_pass http://{{b}}; }
  location = /exact { proxy_set_header X-Loc exact; proxy_pass http://{{b}}; }
  location ^~ /static/ { proxy_set_header X-Loc nore; proxy_pass http://{{b}}; }
  location ~ \.php$ { proxy_set_header X-Loc php; proxy_pass http://{{b}}; }
  location ~* \.(PNG|jpg)$ { proxy_set_header X-Loc img; proxy_pass http://{{b}}; }
  location /img/ { proxy_set_header X-Loc imgprefix; proxy_pass http://{{b}};
    location /img/deep/ { proxy_set_header X-Loc deep; proxy_pass http://{{b}}; } }
  location /ws/ { proxy_set_header X-Loc ws; proxy_pass http://{{b}}; }
  location /api { proxy_set_header X-Loc api; proxy_pass http://{{b}}; }
  location /api/v2 { proxy_set_header X-Loc apiv2; proxy_pass http://{{b}}; }
}`, map[string]string{"b": b.Addr})

	tests := []struct{ path, loc string }{
		{"/", "root"},
		{"/exact", "exact"},
		{"/exact/", "root"},
		{"/static/a.php", "nore"},
		{"/x/a.php", "php"},
		{"/x/a.png", "img"},
		{"/img/a.png", "img"},
		{"/img/a.gif", "imgprefix"},
		{"/img/deep/a.gif", "deep"},
		{"/img/deep/a.JPG", "img"},
		{"/ws/chat", "ws"},
		{"/api", "api"},
		{"/api/v2/x", "apiv2"},
		{"/apix", "api"},
		{"/%61pi/v2", "apiv2"},
		{"/x/../exact", "exact"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b.Reset()
			resp := g.get(tt.path)
			if resp.Status != 200 {
				t.Fatalf("got status %d; want 200", resp.Status)
			}
			if got := header(ptr(waitOne(t, b)), "X-Loc"); got != tt.loc {
				t.Errorf("got location %q; want %q", got, tt.loc)
			}
		})
	}

	t.Run("301 for /ws", func(t *testing.T) {
		b.Reset()
		resp := g.do("GET /ws?x=1 HTTP/1.1\nHost: example.com\nConnection: close\n\n", "GET")
		port := g.addr[strings.LastIndexByte(g.addr, ':')+1:]
		want := "Content-Type: text/html\nContent-Length: 169\nLocation: http://example.com:" + port + "/ws/?x=1\nConnection: close\n"
		if resp.Status != 301 || headLines(resp) != want {
			t.Errorf("got %d\n%s; want 301\n%s", resp.Status, headLines(resp), want)
		}
		if !strings.Contains(string(resp.Body), "<center><h1>301 Moved Permanently</h1></center>") {
			t.Errorf("got body %q; want nginx's 301 page", resp.Body)
		}
		if n := len(b.Requests()); n != 0 {
			t.Errorf("backend got %d requests; want none", n)
		}
	})
}

// TestGateReturn checks the return forms (ngx_http_rewrite_return).
func TestGateReturn(t *testing.T) {
	g := startGate(t, `
server { listen {{listen}}; server_name s.test;
  location = /204 { return 204; }
  location = /text { return 200 "hi $host\n"; }
  location ~* \.(jpg|gif|html)$ { return 200 "x"; }
  location = /url { return 302 /else?$args; }
  location = /abs { return 301 https://other.test/x; }
  location = /bare { return 403; }
  location = /close { return 444; }
  location = /str { return http://other.test/y; }
}`, nil)
	port := g.addr[strings.LastIndexByte(g.addr, ':')+1:]
	tests := []struct {
		path   string
		status int
		head   string // header lines without Date and Server
		body   string // "" skips; a prefix
	}{
		{"/204", 204, "Connection: close\n", ""},
		{"/text", 200, "Content-Type: text/plain\nContent-Length: 10\nConnection: close\n", "hi s.test\n"},
		{"/a.JPG", 200, "Content-Type: image/jpeg\nContent-Length: 1\nConnection: close\n", "x"},
		{"/a.gif", 200, "Content-Type: image/gif\nContent-Length: 1\nConnection: close\n", "x"},
		{"/a.html", 200, "Content-Type: text/html\nContent-Length: 1\nConnection: close\n", "x"},
		{"/url?a=1", 302, "Content-Type: text/html\nContent-Length: 145\nLocation: http://s.test:" + port + "/else?a=1\nConnection: close\n", "<html>\r\n<head><title>302 Found</title></head>"},
		{"/abs", 301, "Content-Type: text/html\nContent-Length: 169\nConnection: close\nLocation: https://other.test/x\n", ""},
		{"/bare", 403, "Content-Type: text/html\nContent-Length: 153\nConnection: close\n", "<html>\r\n<head><title>403 Forbidden</title></head>"},
		{"/str", 302, "Content-Type: text/html\nContent-Length: 145\nConnection: close\nLocation: http://other.test/y\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := g.do("GET "+tt.path+" HTTP/1.1\nHost: s.test\nConnection: close\n\n", "GET")
			if resp.Status != tt.status {
				t.Fatalf("got status %d; want %d", resp.Status, tt.status)
			}
			if got := headLines(resp); got != tt.head {
				t.Errorf("got head\n%s; want\n%s", got, tt.head)
			}
			if !strings.HasPrefix(string(resp.Body), tt.body) {
				t.Errorf("got body %q; want prefix %q", resp.Body, tt.body)
			}
		})
	}
	t.Run("444 closes", func(t *testing.T) {
		c := g.dial()
		c.send("GET /close HTTP/1.1\nHost: s.test\n\n")
		if !c.closed(5 * time.Second) {
			t.Errorf("got an open connection; want it closed without an answer")
		}
	})
}
