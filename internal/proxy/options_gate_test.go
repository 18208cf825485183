package proxy_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestGateProxyOptions: proxy_method and proxy_set_body (with variables)
// change what the backend gets: the method, and the body with its
// Content-Length instead of the client's; proxy_bind makes the upstream
// connection from the address it names (also evaluated, an empty value
// binding nothing); proxy_socket_keepalive changes nothing the backend
// sees.
func TestGateProxyOptions(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	// A second backend that records the peer address of each connection.
	peers := make(chan string, 8)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			peers <- host
			c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	g := startGate(t, `
server { listen {{listen}};
  location /method/ { proxy_method POST; proxy_pass http://{{b}}; }
  location /vmethod/ { proxy_method $arg_m; proxy_pass http://{{b}}; }
  location /body/ { proxy_set_body "uri=$uri"; proxy_pass http://{{b}}; }
  location /empty/ { proxy_set_body ""; proxy_pass http://{{b}}; }
  location /bind/ { proxy_bind 127.0.0.2; proxy_socket_keepalive on; proxy_pass http://{{peer}}; }
  location /vbind/ { proxy_bind $arg_a; proxy_pass http://{{peer}}; }
}`, map[string]string{"b": b.Addr, "peer": ln.Addr().String()})

	tests := []struct{ name, req, head, body string }{
		{"method", "GET /method/x HTTP/1.1\nHost: h\n\n", "POST /method/x HTTP/1.0\nHost: {{b}}\nConnection: close", ""},
		{"method variable", "GET /vmethod/x?m=PURGE HTTP/1.1\nHost: h\n\n", "PURGE /vmethod/x?m=PURGE HTTP/1.0\nHost: {{b}}\nConnection: close", ""},
		{"set body", "POST /body/x HTTP/1.1\nHost: h\nContent-Length: 5\nX-A: 1\n\nhello", "POST /body/x HTTP/1.0\nHost: {{b}}\nConnection: close\nContent-Length: 11\nX-A: 1", "uri=/body/x"},
		{"set body chunked client", "POST /body/c HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n", "POST /body/c HTTP/1.0\nHost: {{b}}\nConnection: close\nContent-Length: 11", "uri=/body/c"},
		{"empty body", "GET /empty/ HTTP/1.1\nHost: h\n\n", "GET /empty/ HTTP/1.0\nHost: {{b}}\nConnection: close\nContent-Length: 0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Reset()
			if r := g.do(tt.req, strings.Fields(tt.req)[0]); r.Status != 200 {
				t.Fatalf("got status %d; want 200", r.Status)
			}
			got := waitOne(t, b)
			want := strings.ReplaceAll(tt.head, "{{b}}", b.Addr)
			if got.HeadText() != want || string(got.Body) != tt.body {
				t.Errorf("backend got\n%s\n\n%q\nwant\n%s\n\n%q", got.HeadText(), got.Body, want, tt.body)
			}
		})
	}

	for _, tt := range []struct{ path, from string }{
		{"/bind/", "127.0.0.2"},
		{"/vbind/?a=127.0.0.3", "127.0.0.3"},
		{"/vbind/", "127.0.0.1"}, // empty: no bind
	} {
		if r := g.get(tt.path); r.Status != 200 {
			t.Fatalf("%s: got status %d; want 200", tt.path, r.Status)
		}
		select {
		case from := <-peers:
			if from != tt.from {
				t.Errorf("%s: backend saw a connection from %s; want %s", tt.path, from, tt.from)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: backend saw no connection", tt.path)
		}
	}
}

// TestGateLimitRate: proxy_limit_rate paces the reading of a response as
// nginx does (rate bytes in the first second, rate more in each next
// one), so 25000 bytes at 10000 per second take two seconds at least;
// "proxy_limit_rate 0" does not pace. Only the lower bound is checked.
func TestGateLimitRate(t *testing.T) {
	body := strings.Repeat("x", 25000)
	b := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 25000\r\n\r\n"+body)
	g := startGate(t, `
proxy_limit_rate 10000;
server { listen {{listen}};
  location / { proxy_pass http://{{b}}; }
  location /unlimited { proxy_limit_rate 0; proxy_pass http://{{b}}; }
}`, map[string]string{"b": b.Addr})
	start := time.Now()
	r := g.get("/")
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("25000 bytes at proxy_limit_rate 10000 took %v; want 2s or more", took)
	}
	if r.Status != 200 || string(r.Body) != body {
		t.Errorf("got status %d and %d bytes; want 200 and the body", r.Status, len(r.Body))
	}
	if r := g.get("/unlimited"); r.Status != 200 || string(r.Body) != body {
		t.Errorf("unlimited: got status %d and %d bytes; want 200 and the body", r.Status, len(r.Body))
	}
}

// TestGateIgnoreClientAbort: a client that leaves while the upstream
// works makes wsgate close the upstream connection too (499), unless
// proxy_ignore_client_abort is on: then the upstream keeps its request.
func TestGateIgnoreClientAbort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 4)    // the path of each request the backend read
	closed := make(chan string, 4) // the path of a request whose connection wsgate closed
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n, _ := c.Read(buf)
				path := strings.Fields(string(buf[:n]) + " x x")[1]
				got <- path
				for {
					if _, err := c.Read(buf); err != nil {
						closed <- path
						return
					}
				}
			}()
		}
	}()
	g := startGate(t, `
server { listen {{listen}};
  location /watch { proxy_pass http://{{b}}; }
  location /ignore { proxy_ignore_client_abort on; proxy_pass http://{{b}}; }
}`, map[string]string{"b": ln.Addr().String()})
	for _, tt := range []struct {
		path        string
		closesFirst bool
	}{{"/watch", true}, {"/ignore", false}} {
		c := g.dial()
		c.send("GET " + tt.path + " HTTP/1.1\nHost: h\n\n")
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the backend got no request", tt.path)
		}
		c.c.Close()
		select {
		case p := <-closed:
			if !tt.closesFirst {
				t.Errorf("%s: wsgate closed the upstream connection when the client left; want it kept", p)
			}
		case <-time.After(3 * time.Second):
			if tt.closesFirst {
				t.Errorf("%s: the upstream connection stayed open after the client left; want it closed", tt.path)
			}
		}
	}
}

// TestGateKeepaliveTime: keepalive_time ends keep-alive on a client
// connection that has served requests longer than it, well before
// keepalive_timeout or keepalive_requests would.
func TestGateKeepaliveTime(t *testing.T) {
	g := startGate(t, `
server { listen {{listen}}; keepalive_time 200ms;
  location / { return 200 ok; }
}`, nil)
	c := g.dial()
	c.send("GET / HTTP/1.1\nHost: h\n\n")
	if r := c.read("GET"); r.Status != 200 || connHeader(r) != "keep-alive" {
		t.Fatalf("first response: got %d, Connection %q; want 200, keep-alive", r.Status, connHeader(r))
	}
	closed := proxytest.Poll(10*time.Second, func() bool {
		c.send("GET / HTTP/1.1\nHost: h\n\n")
		return connHeader(c.read("GET")) == "close"
	})
	if !closed {
		t.Errorf("the connection was still kept alive long after keepalive_time")
	}
}

func connHeader(r *proxytest.Response) string {
	v, _ := r.Get("Connection")
	return v
}

// TestGateUpstreamTimes: $upstream_header_time is the time to the
// response head, "-" for a try that read none; $upstream_response_time is
// "-" while the response is under way (add_header takes it before the
// body) and the time to its end in the access log, as nginx has them.
func TestGateUpstreamTimes(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	logPath := filepath.Join(t.TempDir(), "times.log")
	g := startGate(t, `
log_format times '$upstream_connect_time|$upstream_header_time|$upstream_response_time';
access_log `+logPath+` times;
upstream two { server {{down}}; server {{b}}; }
server { listen {{listen}};
  add_header X-Header $upstream_header_time;
  add_header X-Response $upstream_response_time;
  location / { proxy_pass http://two; }
}`, map[string]string{"b": b.Addr, "down": refusedAddr(t)})
	r := g.get("/")
	h, _ := r.Get("X-Header")
	resp, _ := r.Get("X-Response")
	num := `\d+\.\d{3}`
	if !regexp.MustCompile(`^-, `+num+`$`).MatchString(h) || !regexp.MustCompile(`^`+num+`, -$`).MatchString(resp) {
		t.Errorf("got X-Header %q, X-Response %q; want \"-, N\" and \"N, -\"", h, resp)
	}
	var line string
	proxytest.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		line = strings.TrimSpace(string(b))
		return line != ""
	}, "no access log line")
	want := `^-, ` + num + `\|-, ` + num + `\|` + num + `, ` + num + `$`
	if !regexp.MustCompile(want).MatchString(line) {
		t.Errorf("got log line %q; want it to match %s", line, want)
	}
}

// TestGateRequestBodyVariable: $request_body has a streamed body of up to
// 16 KiB (nginx's client_body_buffer_size on 64-bit systems, where nginx
// holds the body in one buffer), also chunked; a larger body is not
// kept ("-" in the log).
func TestGateRequestBodyVariable(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	logPath := filepath.Join(t.TempDir(), "body.log")
	g := startGate(t, `
log_format body '$request_uri $request_body';
access_log `+logPath+` body;
server { listen {{listen}};
  location / { proxy_http_version 1.1; proxy_pass http://{{b}}; }
}`, map[string]string{"b": b.Addr})
	big := strings.Repeat("b", 16<<10+1)
	for _, req := range []string{
		"POST /small HTTP/1.1\nHost: h\nContent-Length: 3\n\na=1",
		"POST /chunked HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nc=2\n0\n\n",
		"POST /big HTTP/1.1\nHost: h\nContent-Length: 16385\n\n" + big,
	} {
		if r := g.do(req, "POST"); r.Status != 200 {
			t.Fatalf("got status %d; want 200", r.Status)
		}
	}
	var log string
	proxytest.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		log = string(b)
		return strings.Count(log, "\n") == 3
	}, "access log lines")
	// Each request came on a connection of its own: a line is written
	// once its response is out, and the next connection's may come first.
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	slices.Sort(lines)
	if got, want := strings.Join(lines, "\n"), "/big -\n/chunked c=2\n/small a=1"; got != want {
		t.Errorf("got log lines (sorted)\n%s\nwant\n%s", got, want)
	}
}

// TestGateIgnoreHeaders: proxy_ignore_headers turns off what wsgate does
// with X-Accel-Limit-Rate ($limit_rate, shown by add_header) and
// X-Accel-Redirect (the answer is passed on, the header hidden). A rate
// not ignored is the request's, also in the location an X-Accel-Redirect
// leads to (ngx_http_upstream_process_limit_rate sets it as the head is
// parsed).
func TestGateIgnoreHeaders(t *testing.T) {
	b := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nX-Accel-Limit-Rate: 1000\r\nX-Accel-Redirect: /files/x\r\nContent-Length: 2\r\n\r\nup")
	g := startGate(t, `
server { listen {{listen}};
  add_header X-Rate $limit_rate;
  location /acted/ { proxy_ignore_headers X-Accel-Redirect; proxy_pass http://{{b}}; }
  location /ignored/ { proxy_ignore_headers X-Accel-Redirect X-Accel-Limit-Rate; proxy_pass http://{{b}}; }
  location /redirected/ { proxy_pass http://{{b}}; }
  location /redirected-unpaced/ { proxy_ignore_headers X-Accel-Limit-Rate; proxy_pass http://{{b}}; }
  location /files/ { limit_rate 5k; return 200 "files"; }
}`, map[string]string{"b": b.Addr})
	for _, tt := range []struct{ path, rate, body string }{
		{"/acted/", "1000", "up"},
		{"/ignored/", "0", "up"},
		{"/redirected/", "1000", "files"},
		{"/redirected-unpaced/", "0", "files"},
	} {
		r := g.get(tt.path)
		rate, _ := r.Get("X-Rate")
		if _, ok := r.Get("X-Accel-Redirect"); ok || string(r.Body) != tt.body || tt.rate != "" && rate != tt.rate {
			t.Errorf("%s: got X-Rate %q, body %q, X-Accel-Redirect shown %v; want %q, %q, hidden", tt.path, rate, r.Body, ok, tt.rate, tt.body)
		}
	}
}
