package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startServer runs Serve on a loopback listener and returns its address
// and a counter of handler calls.
func startServer(t *testing.T, cfg ConnConfig, h HandlerFunc) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				Serve(c, &cfg, HandlerFunc(func(w *ResponseWriter, r *Request) {
					calls.Add(1)
					h(w, r)
				}))
			}()
		}
	}()
	return ln.Addr().String(), &calls
}

// echoHandler answers "<method> <uri> <body>" with Content-Length.
func echoHandler(w *ResponseWriter, r *Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if st := StatusOf(err); st != 0 {
			w.WriteError(st)
		}
		return
	}
	out := fmt.Sprintf("%s %s %s", r.Method, r.URI, body)
	for _, tr := range r.Body.(*Body).Trailers {
		out += fmt.Sprintf(" [%s=%s]", tr.Name, tr.Value)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/plain")
	w.WriteHeader(200, "", int64(len(out)))
	io.WriteString(w, out)
}

// roundTrip writes raw, half-closes when closeWrite, and reads everything
// the server sends until it closes or the deadline passes.
func roundTrip(t *testing.T, addr, raw string, closeWrite bool) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// statuses returns the status codes of the responses in out, in order.
func statuses(out string) []string {
	var s []string
	for {
		i := strings.Index(out, "HTTP/1.1 ")
		if i < 0 || len(out) < i+12 {
			return s
		}
		if code := out[i+9 : i+12]; code != "100" {
			s = append(s, code)
		}
		out = out[i+12:]
	}
}

func TestServeErrorStatuses(t *testing.T) {
	cfg := DefaultConnConfig()
	addr, calls := startServer(t, cfg, echoHandler)
	long := strings.Repeat("a", 9000)
	tests := []struct {
		name, raw, want string
	}{
		{"bad request line", "FOO\r\n\r\n", "400"},
		{"414", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", "414"},
		{"494", "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + long + "\r\n\r\n", "400"},
		{"no host", "GET / HTTP/1.1\r\n\r\n", "400"},
		{"505", "GET / HTTP/2.0\r\n\r\n", "505"},
		{"501", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		{"405", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", "405"},
		{"CL+TE smuggling", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"double CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 10\r\n\r\nxGET /smuggled HTTP/1.1\r\n\r\n", "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", "400"},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			out := roundTrip(t, addr, tt.raw, false)
			got := statuses(out)
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got statuses %v; want [%s]\n%s", got, tt.want, out)
			}
			if !strings.Contains(out, "\r\nConnection: close\r\n") {
				t.Errorf("got no Connection: close in\n%s", out)
			}
			if !strings.Contains(out, "<hr><center>wsgate</center>") {
				t.Errorf("got no wsgate error page in\n%s", out)
			}
			if n := calls.Load() - before; n != 0 {
				t.Errorf("got %d handler calls; want 0", n)
			}
		})
	}
}

func TestServe494Page(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), echoHandler)
	out := roundTrip(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nCookie: "+strings.Repeat("c", 9000)+"\r\n\r\n", false)
	want := "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n<hr><center>wsgate</center>\r\n</body>\r\n</html>\r\n"
	if !strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\nServer: wsgate\r\nDate: ") || !strings.HasSuffix(out, want) {
		t.Fatalf("got\n%q\nwant 400 with body\n%q", out, want)
	}
	if !strings.Contains(out, fmt.Sprintf("Content-Length: %d\r\n", len(want))) {
		t.Errorf("got no Content-Length %d in %q", len(want), out)
	}
}

func TestServePipeliningAndKeepalive(t *testing.T) {
	cfg := DefaultConnConfig()
	addr, _ := startServer(t, cfg, echoHandler)
	raw := "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
		"POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nde\r\n1\r\nf\r\n0\r\nT-A: 1\r\n\r\n" +
		"HEAD /4 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" +
		"GET /never HTTP/1.1\r\nHost: a\r\n\r\n"
	out := roundTrip(t, addr, raw, false)
	for _, want := range []string{"GET /1 \x00", "POST /2 abc", "POST /3 def [T-A=1]", "GET /5 \x00"} {
		want = strings.TrimSuffix(want, "\x00")
		if !strings.Contains(out, want) {
			t.Errorf("got no %q in\n%s", want, out)
		}
	}
	if got := statuses(out); len(got) != 5 {
		t.Fatalf("got %d responses; want 5\n%s", len(got), out)
	}
	order := []string{"/1", "/2", "/3", "/5"}
	last := -1
	for _, o := range order {
		i := strings.Index(out, " "+o+" ")
		if i < last {
			t.Errorf("response for %s out of order", o)
		}
		last = i
	}
	if strings.Contains(out, "HEAD /4") {
		t.Errorf("HEAD response carried a body:\n%s", out)
	}
	if strings.Contains(out, "/never") {
		t.Errorf("request after Connection: close was served")
	}
	if strings.Count(out, "Connection: keep-alive") != 4 || strings.Count(out, "Connection: close") != 1 {
		t.Errorf("got wrong Connection headers:\n%s", out)
	}
}

func TestServeKeepaliveLimits(t *testing.T) {
	t.Run("requests", func(t *testing.T) {
		cfg := DefaultConnConfig()
		cfg.Limits.KeepaliveRequests = 2
		addr, _ := startServer(t, cfg, echoHandler)
		req := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
		out := roundTrip(t, addr, req+req+req, false)
		if got := statuses(out); len(got) != 2 {
			t.Fatalf("got %d responses; want 2", len(got))
		}
		if !strings.Contains(out, "Connection: close") {
			t.Errorf("second response lacks Connection: close")
		}
	})
	t.Run("timeout", func(t *testing.T) {
		cfg := DefaultConnConfig()
		cfg.Limits.KeepaliveTimeout = 200 * time.Millisecond
		addr, _ := startServer(t, cfg, echoHandler)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		start := time.Now()
		b, _ := io.ReadAll(c)
		if len(statuses(string(b))) != 1 {
			t.Fatalf("got %q; want one response then close", b)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("got close after %v; want about the keepalive timeout", d)
		}
	})
	t.Run("http10", func(t *testing.T) {
		addr, _ := startServer(t, DefaultConnConfig(), echoHandler)
		out := roundTrip(t, addr, "GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n", false)
		if got := statuses(out); len(got) != 1 || !strings.Contains(out, "Connection: close") {
			t.Fatalf("HTTP/1.0 without keep-alive: got %v\n%s", got, out)
		}
		out = roundTrip(t, addr, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n", false)
		if got := statuses(out); len(got) != 2 || !strings.Contains(out, "Connection: keep-alive") {
			t.Fatalf("HTTP/1.0 with keep-alive: got %v\n%s", got, out)
		}
	})
}

func TestServeHeaderTimeoutClosesSilently(t *testing.T) {
	cfg := DefaultConnConfig()
	cfg.ClientHeaderTimeout = 200 * time.Millisecond
	addr, calls := startServer(t, cfg, echoHandler)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n")
	b, err := io.ReadAll(c)
	if len(b) != 0 || err != nil {
		t.Fatalf("got %q, %v; want a silent close", b, err)
	}
	if calls.Load() != 0 {
		t.Errorf("handler was called")
	}
}

func TestServeExpectContinue(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), echoHandler)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q; want 100 Continue first", line)
	}
	br.ReadString('\n')
	io.WriteString(c, "hi")
	rest := make([]byte, 0, 512)
	for !strings.Contains(string(rest), "POST /e hi") {
		b := make([]byte, 512)
		n, err := br.Read(b)
		rest = append(rest, b[:n]...)
		if err != nil {
			t.Fatalf("got %q, %v; want the echo", rest, err)
		}
	}

	// A handler that answers without reading gets no 100 and closes.
	addr2, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		w.WriteHeader(204, "", 0)
	})
	out := roundTrip(t, addr2, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", true)
	if strings.Contains(out, "100 Continue") || !strings.Contains(out, "Connection: close") {
		t.Fatalf("got %q; want 204 without 100 and with Connection: close", out)
	}
}

func TestServeBodyLimits(t *testing.T) {
	cfg := DefaultConnConfig()
	cfg.Limits.ClientMaxBodySize = 4
	addr, calls := startServer(t, cfg, echoHandler)
	tests := []struct {
		name, raw, want string
	}{
		{"CL over", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "413"},
		{"chunked over", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", "413"},
		{"chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\n", "400"},
		{"chunk bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", "400"},
		{"chunk bad CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", "400"},
		{"chunk ext CTL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;\x01\r\nx\r\n0\r\n\r\n", "400"},
		{"chunk size junk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\nx\r\n0\r\n\r\n", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := roundTrip(t, addr, tt.raw+"GET /next HTTP/1.1\r\nHost: a\r\n\r\n", false)
			got := statuses(out)
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %v; want [%s] and close\n%s", got, tt.want, out)
			}
		})
	}
	_ = calls
}

func TestServeUnreadBodyDrained(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		io.WriteString(w, "x")
	})
	// The handler ignores the body; its bytes must not become a request.
	out := roundTrip(t, addr, "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 28\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"+
		"GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)
	if got := statuses(out); len(got) != 2 || got[0] != "200" || got[1] != "200" {
		t.Fatalf("got %v; want two 200s\n%s", got, out)
	}
	if !strings.Contains(out, "Transfer-Encoding: chunked\r\n") {
		t.Errorf("unknown length to HTTP/1.1: got no chunked framing\n%s", out)
	}
}

func TestServeChunkedTrailersOut(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		w.AddHeader("X-A", "1")
		w.AddHeader("x-b", "2")
		w.AddTrailer("X-Sum", "abc")
		w.WriteHeader(200, "Fine", -1)
		io.WriteString(w, "hello")
	})
	out := roundTrip(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)
	want := "HTTP/1.1 200 Fine\r\nX-A: 1\r\nx-b: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
}

func TestServeHijack(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		w.AddHeader("Upgrade", "websocket")
		w.WriteHeader(101, "Switching Protocols", -1)
		conn, br, err := w.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		// The bytes sent right after the head are in br.
		buf := make([]byte, 5)
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Error(err)
			return
		}
		conn.Write(append([]byte("echo:"), buf...))
	})
	out := roundTrip(t, addr, seedHandshake+"early", false)
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\necho:early"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
}

// TestServeStoppingSaysClose: a response whose head is written after a
// stop began says "Connection: close" and the connection ends after it,
// as nginx's header filter answers while its worker exits
// (http_keepalive_shutdown.t); the response before the stop kept the
// connection alive.
func TestServeStoppingSaysClose(t *testing.T) {
	var stopping atomic.Bool
	cfg := DefaultConnConfig()
	cfg.Limits.KeepaliveTimeout = time.Hour
	cfg.Stopping = &stopping
	addr, calls := startServer(t, cfg, func(w *ResponseWriter, r *Request) {
		if string(r.RawTarget) == "/second" {
			stopping.Store(true)
		}
		w.WriteHeader(200, "", 2)
		io.WriteString(w, "ok")
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading until the connection ends: %v (got %q)", err, b)
	}
	first, second, ok := strings.Cut(string(b), "\r\n\r\nok")
	if !ok || !strings.Contains(first+"\r\n", "\r\nConnection: keep-alive\r\n") {
		t.Fatalf("first response: got %q; want keep-alive", first)
	}
	if !strings.Contains(second, "\r\nConnection: close\r\n") || !strings.HasSuffix(second, "\r\n\r\nok") {
		t.Errorf("second response: got %q; want Connection: close and body ok", second)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times; want 2", n)
	}
}

// TestServeStoppingEndsKeepalive: a stop that begins while a request is
// served ends the connection after the response instead of waiting
// keepalive_timeout for a next request, even though the response already
// went out with keep-alive.
func TestServeStoppingEndsKeepalive(t *testing.T) {
	var stopping atomic.Bool
	cfg := DefaultConnConfig()
	cfg.Limits.KeepaliveTimeout = time.Hour
	cfg.Stopping = &stopping
	addr, calls := startServer(t, cfg, func(w *ResponseWriter, r *Request) {
		w.WriteHeader(200, "", 2)
		io.WriteString(w, "ok")
		stopping.Store(true)
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading until the connection ends: %v (got %q); want the response, then EOF", err, b)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200 ") || !strings.HasSuffix(string(b), "\r\n\r\nok") {
		t.Errorf("got %q; want one 200 response with body ok", b)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times; want 1", n)
	}
}
