package proxy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// echoTarget answers each request with its request-target as the body.
func echoTarget(r *proxytest.Request) []byte {
	return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(r.Target), r.Target))
}

const frontConf = `
server { listen {{listen}};
  keepalive_requests 3; keepalive_timeout 1s; client_header_timeout 1s;
  client_max_body_size 100; large_client_header_buffers 2 1k;
  location / { proxy_pass http://{{b10}}; }
  location /v11/ { proxy_http_version 1.1; proxy_pass http://{{b11}}; }
  location /ret { return 204; }
}`

// TestGateClientConnection checks the client side of HTTP/1.x through the
// proxy: keep-alive limits, HTTP/1.0, pipelining, timeouts.
func TestGateClientConnection(t *testing.T) {
	b10 := proxytest.NewRecordingFunc(t, echoTarget)
	b11 := proxytest.NewRecordingFunc(t, echoTarget)
	g := startGate(t, frontConf, map[string]string{"b10": b10.Addr, "b11": b11.Addr})

	t.Run("keepalive_requests", func(t *testing.T) {
		c := g.dial()
		for i := 1; i <= 3; i++ {
			c.send(fmt.Sprintf("GET /r%d HTTP/1.1\nHost: h\n\n", i))
			r := c.read("GET")
			want := "keep-alive"
			if i == 3 {
				want = "close"
			}
			if got, _ := r.Get("Connection"); r.Status != 200 || got != want || string(r.Body) != fmt.Sprintf("/r%d", i) {
				t.Fatalf("request %d: got %d Connection %q body %q; want 200 %q /r%d", i, r.Status, got, r.Body, want, i)
			}
		}
		if !c.closed(5 * time.Second) {
			t.Errorf("got an open connection after keepalive_requests; want closed")
		}
	})
	t.Run("keepalive_timeout", func(t *testing.T) {
		c := g.dial()
		c.send("GET / HTTP/1.1\nHost: h\n\n")
		c.read("GET")
		start := time.Now()
		if !c.closed(10 * time.Second) {
			t.Fatalf("got an open connection; want closed after keepalive_timeout")
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("closed after %v; want about 1s", d)
		}
	})
	t.Run("HTTP/1.0 closes", func(t *testing.T) {
		c := g.dial()
		c.send("GET /a HTTP/1.0\n\n")
		r := c.read("GET")
		if got, _ := r.Get("Connection"); got != "close" {
			t.Errorf("got Connection %q; want close", got)
		}
		if !c.closed(5 * time.Second) {
			t.Errorf("got an open connection; want closed")
		}
	})
	t.Run("HTTP/1.0 keep-alive", func(t *testing.T) {
		c := g.dial()
		c.send("GET /a HTTP/1.0\nConnection: keep-alive\n\n")
		r := c.read("GET")
		if got, _ := r.Get("Connection"); got != "keep-alive" {
			t.Errorf("got Connection %q; want keep-alive", got)
		}
		c.send("GET /b HTTP/1.0\n\n")
		if r := c.read("GET"); string(r.Body) != "/b" {
			t.Errorf("got body %q; want /b", r.Body)
		}
	})
	t.Run("pipelined in order", func(t *testing.T) {
		c := g.dial()
		c.send("GET /p1 HTTP/1.1\nHost: h\n\nHEAD /p2 HTTP/1.1\nHost: h\n\nGET /v11/p3 HTTP/1.1\nHost: h\n\n")
		for i, m := range []string{"GET", "HEAD", "GET"} {
			r := c.read(m)
			want := []string{"/p1", "", "/v11/p3"}[i]
			if r.Status != 200 || string(r.Body) != want {
				t.Errorf("response %d: got %d %q; want 200 %q", i+1, r.Status, r.Body, want)
			}
		}
	})
	t.Run("client_header_timeout", func(t *testing.T) {
		c := g.dial()
		c.sendRaw("GET / HTTP/1.1\r\nHost: h\r\n")
		if !c.closed(10 * time.Second) {
			t.Errorf("got an open connection; want it closed silently after client_header_timeout")
		}
	})
}

// TestGateRequestBodies checks request bodies and the checks made before
// anything is proxied.
func TestGateRequestBodies(t *testing.T) {
	b10 := proxytest.NewRecordingFunc(t, echoTarget)
	b11 := proxytest.NewRecordingFunc(t, echoTarget)
	g := startGate(t, frontConf, map[string]string{"b10": b10.Addr, "b11": b11.Addr})
	long := strings.Repeat("a", 1500)
	tests := []struct {
		name, req string
		status    int
		b         *proxytest.Backend
		check     func(t *testing.T, r proxytest.Request) // nil: nothing must arrive
	}{
		{"content-length", "POST / HTTP/1.1\nHost: h\nContent-Length: 5\n\nhello", 200, b10, func(t *testing.T, r proxytest.Request) {
			if string(r.Body) != "hello" || header(&r, "Content-Length") != "5" || r.Chunked {
				t.Errorf("got %q chunked=%v CL %q; want hello with Content-Length 5", r.Body, r.Chunked, header(&r, "Content-Length"))
			}
		}},
		{"chunked to HTTP/1.0 is spooled", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n2;ext=1\nde\n0\nX-Trailer: t\n\n", 200, b10, func(t *testing.T, r proxytest.Request) {
			if string(r.Body) != "abcde" || header(&r, "Content-Length") != "5" || r.Chunked || header(&r, "X-Trailer") != "" {
				t.Errorf("got %q chunked=%v CL %q; want abcde with Content-Length 5", r.Body, r.Chunked, header(&r, "Content-Length"))
			}
		}},
		{"chunked to HTTP/1.1 streams chunked", "POST /v11/ HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n2\nde\n0\nX-Trailer: t\n\n", 200, b11, func(t *testing.T, r proxytest.Request) {
			if string(r.Body) != "abcde" || !r.Chunked || header(&r, "Content-Length") != "" {
				t.Errorf("got %q chunked=%v CL %q; want abcde chunked", r.Body, r.Chunked, header(&r, "Content-Length"))
			}
		}},
		{"expect dropped", "POST / HTTP/1.0\nExpect: 100-continue\nContent-Length: 3\n\nabc", 200, b10, func(t *testing.T, r proxytest.Request) {
			if header(&r, "Expect") != "" || string(r.Body) != "abc" {
				t.Errorf("got Expect %q body %q; want no Expect and abc", header(&r, "Expect"), r.Body)
			}
		}},
		{"client_max_body_size by length", "POST / HTTP/1.1\nHost: h\nContent-Length: 101\n\n" + strings.Repeat("x", 101), 413, b10, nil},
		{"client_max_body_size chunked", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n65\n" + strings.Repeat("x", 101) + "\n0\n\n", 413, b10, nil},
		{"client_max_body_size chunked to 1.1", "POST /v11/ HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n65\n" + strings.Repeat("x", 101) + "\n0\n\n", 413, b11, nil},
		{"CL and TE", "POST / HTTP/1.1\nHost: h\nContent-Length: 3\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", 400, b10, nil},
		{"two CL", "POST / HTTP/1.1\nHost: h\nContent-Length: 3\nContent-Length: 3\n\nabc", 400, b10, nil},
		{"TE not chunked", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip\n\nabc", 501, b10, nil},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", 400, b10, nil},
		{"long request line", "GET /" + long + " HTTP/1.1\nHost: h\n\n", 414, b10, nil},
		{"long header line", "GET / HTTP/1.1\nHost: h\nX-Long: " + long + "\n\n", 400, b10, nil},
		{"TRACE", "TRACE / HTTP/1.1\nHost: h\n\n", 405, b10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.Reset()
			method := strings.Fields(tt.req)[0]
			r := g.do(tt.req, method)
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
			if tt.check == nil {
				// Nothing to wait for: the backend must stay without a
				// request for a while after the answer.
				proxytest.Consistently(t, 50*time.Millisecond, func() bool { return len(tt.b.Requests()) == 0 },
					"backend got a request; want none")
				return
			}
			tt.check(t, waitOne(t, tt.b))
		})
	}

	t.Run("expect 100-continue", func(t *testing.T) {
		b10.Reset()
		c := g.dial()
		c.send("POST /e HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 5\n\n")
		r := c.read("POST")
		if r.Status != 100 {
			t.Fatalf("got status %d; want 100 before the body is sent", r.Status)
		}
		c.sendRaw("hello")
		if r = c.read("POST"); r.Status != 200 || string(r.Body) != "/e" {
			t.Fatalf("got %d %q; want 200 /e", r.Status, r.Body)
		}
		got := waitOne(t, b10)
		if string(got.Body) != "hello" || header(&got, "Expect") != "" {
			t.Errorf("got body %q Expect %q; want hello and no Expect", got.Body, header(&got, "Expect"))
		}
	})
	t.Run("expect 100-continue over limit", func(t *testing.T) {
		c := g.dial()
		c.send("POST /e HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 500\n\n")
		if r := c.read("POST"); r.Status != 413 {
			t.Fatalf("got status %d; want 413 without a 100", r.Status)
		}
	})
	// nginx answers "Expect: 100-continue" whenever it takes the body,
	// before it looks at the length (nginx-tests
	// http_expect_100_continue.t); an HTTP/1.0 client gets no 1xx.
	for _, tt := range []struct {
		name, req string
		want100   bool
		status    int
	}{
		{"expect 100-continue, Content-Length 0", "POST /e HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 0\n\n", true, 200},
		{"expect 100-continue, no body", "GET /e HTTP/1.1\nHost: h\nExpect: 100-continue\n\n", true, 200},
		{"expect 100-continue, return", "POST /ret HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 0\n\n", true, 204},
		{"expect 100-continue, HTTP/1.0", "POST /e HTTP/1.0\nExpect: 100-continue\nContent-Length: 0\n\n", false, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := g.dial()
			c.send(tt.req)
			method := strings.Fields(tt.req)[0]
			r := c.read(method)
			if tt.want100 {
				if r.Status != 100 {
					t.Fatalf("got status %d; want 100 first", r.Status)
				}
				r = c.read(method)
			}
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
		})
	}
}

// TestGateResponses checks what a client gets back from the backend.
func TestGateResponses(t *testing.T) {
	resp := map[string]string{
		"/hidden":  "HTTP/1.1 200 OK\r\nServer: up\r\nDate: x\r\nX-Pad: p\r\nX-Accel-Buffering: no\r\nKeep-Alive: 5\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nX-App: 1\r\nContent-Length: 2\r\n\r\nok",
		"/chunked": "HTTP/1.1 201 Made\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
		"/eof":     "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nto the end",
		"/loc":     "HTTP/1.1 302 Found\r\nLocation: http://{{b}}/login\r\nRefresh: 3; url=http://{{b}}/r\r\nContent-Length: 0\r\n\r\n",
		"/rel":     "HTTP/1.1 302 Found\r\nLocation: /rel2\r\nContent-Length: 0\r\n\r\n",
		"/204":     "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
		"/304":     "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n",
		"/500":     "HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nbad",
	}
	var b *proxytest.Backend
	b = proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		path, _, _ := strings.Cut(r.Target, "?")
		return []byte(strings.ReplaceAll(resp[path], "{{b}}", b.Addr))
	})
	g := startGate(t, `
server { listen {{listen}}; location / { proxy_pass http://{{b}}; } }
server { listen {{listen}}; server_name off.test; server_tokens off; location / { proxy_pass http://{{b}}; } }
`, map[string]string{"b": b.Addr})
	port := g.addr[strings.LastIndexByte(g.addr, ':')+1:]
	tests := []struct {
		name, req, method string
		line, head, body  string
		server            string
	}{
		{"hidden headers", "GET /hidden HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 200 OK",
			"Content-Type: text/plain\nContent-Length: 2\nConnection: keep-alive\nSet-Cookie: a=1\nX-App: 1\n", "ok", "wsgate/1.2.3"},
		{"server_tokens off", "GET /hidden HTTP/1.1\nHost: off.test\n\n", "GET", "HTTP/1.1 200 OK",
			"Content-Type: text/plain\nContent-Length: 2\nConnection: keep-alive\nSet-Cookie: a=1\nX-App: 1\n", "ok", "wsgate"},
		{"chunked relayed", "GET /chunked HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 201 Made",
			"Transfer-Encoding: chunked\nConnection: keep-alive\n", "abc", "wsgate/1.2.3"},
		{"chunked to HTTP/1.0 client", "GET /chunked HTTP/1.0\n\n", "GET", "HTTP/1.1 201 Made",
			"Connection: close\n", "abc", "wsgate/1.2.3"},
		{"body to EOF", "GET /eof HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 200 OK",
			"Transfer-Encoding: chunked\nConnection: keep-alive\nX-A: 1\n", "to the end", "wsgate/1.2.3"},
		{"proxy_redirect default", "GET /loc HTTP/1.1\nHost: ex.test\n\n", "GET", "HTTP/1.1 302 Found",
			"Content-Length: 0\nLocation: http://ex.test:" + port + "/login\nConnection: keep-alive\nRefresh: 3; url=/r\n", "", "wsgate/1.2.3"},
		{"relative Location kept", "GET /rel HTTP/1.1\nHost: ex.test\n\n", "GET", "HTTP/1.1 302 Found",
			"Content-Length: 0\nConnection: keep-alive\nLocation: /rel2\n", "", "wsgate/1.2.3"},
		{"204", "GET /204 HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 204 No Content",
			"Connection: keep-alive\nX-A: 1\n", "", "wsgate/1.2.3"},
		{"304", "GET /304 HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 304 Not Modified",
			"Connection: keep-alive\nETag: \"e\"\n", "", "wsgate/1.2.3"},
		{"500 relayed", "GET /500 HTTP/1.1\nHost: h\n\n", "GET", "HTTP/1.1 500 Oops",
			"Content-Length: 3\nConnection: keep-alive\n", "bad", "wsgate/1.2.3"},
		{"HEAD", "HEAD /hidden HTTP/1.1\nHost: h\n\n", "HEAD", "HTTP/1.1 200 OK",
			"Content-Type: text/plain\nContent-Length: 2\nConnection: keep-alive\nSet-Cookie: a=1\nX-App: 1\n", "", "wsgate/1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := g.dial()
			c.send(tt.req)
			r := c.read(tt.method)
			if r.StatusLine != tt.line || headLines(r) != tt.head || string(r.Body) != tt.body {
				t.Errorf("got %s\n%s%q; want %s\n%s%q", r.StatusLine, headLines(r), r.Body, tt.line, tt.head, tt.body)
			}
			if len(r.Headers) < 2 || r.Headers[0].String() != "Server: "+tt.server || r.Headers[1].Name != "Date" {
				t.Errorf("got first headers %v; want Server: %s then Date", r.Headers, tt.server)
			}
			if strings.HasPrefix(tt.req, "GET /eof") || strings.Contains(tt.req, "HTTP/1.0\n") {
				return
			}
			// The connection stays usable.
			c.send("GET /hidden HTTP/1.1\nHost: h\n\n")
			if r := c.read("GET"); string(r.Body) != "ok" {
				t.Errorf("next request: got %q; want ok", r.Body)
			}
		})
	}
}
