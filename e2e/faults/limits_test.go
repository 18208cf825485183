package faults_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestHeadLimits checks nginx's head limits with the default
// large_client_header_buffers 4 8k: a request line longer than a buffer is
// 414, a header line longer than a buffer is 400 "Request Header Or Cookie
// Too Large", and so is a head that needs more than four buffers (many
// headers). The backend sees none of them.
func TestHeadLimits(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))

	var many strings.Builder
	for i := 0; i < 64; i++ {
		fmt.Fprintf(&many, "X-H%d: %s\r\n", i, strings.Repeat("v", 1000))
	}
	cases := []struct {
		name, raw string
		want      int
		text      string
	}{
		{"long request line", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "414 Request-URI Too Large"},
		{"long header line", "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + strings.Repeat("c", 9000) + "\r\n\r\n", 400, "Request Header Or Cookie Too Large"},
		{"too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + many.String() + "\r\n", 400, "Request Header Or Cookie Too Large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be.Reset()
			resp, c, br := g.roundTrip(tc.raw, "GET")
			if resp.Status != tc.want {
				t.Fatalf("got status %d; want %d", resp.Status, tc.want)
			}
			if !strings.Contains(string(resp.Body), tc.text) {
				t.Fatalf("body: got %q; want it to contain %q", resp.Body, tc.text)
			}
			expectClosed(t, c, br, 10*time.Second)
			if got := be.Requests(); len(got) != 0 {
				t.Fatalf("backend got %d requests; want none", len(got))
			}
			g.mustServe("/after", 200)
		})
	}
	if be.Accepted() != len(cases) {
		t.Fatalf("backend accepted %d connections; want %d (one per good request)", be.Accepted(), len(cases))
	}
}

// TestSlowloris sends a head one byte every 200 ms with
// client_header_timeout 2s. wsgate must close the connection silently
// (nginx logs 408 and sends nothing) once the timeout passes, and the
// backend must never be contacted.
func TestSlowloris(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "client_header_timeout 2s;", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))

	const n = 4
	done := make(chan error, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			c, err := net.Dial("tcp", g.Addr)
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			head := "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + strings.Repeat("s", 200) + "\r\n\r\n"
			for j := 0; j < len(head); j++ {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte{head[j]}); err != nil {
					break // closed by wsgate
				}
				time.Sleep(200 * time.Millisecond) // the slowloris pace is the case
				if time.Since(start) > 15*time.Second {
					done <- fmt.Errorf("still writing after 15s")
					return
				}
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			b, err := io.ReadAll(c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				done <- fmt.Errorf("connection not closed after the head timeout")
				return
			}
			if len(b) > 0 {
				done <- fmt.Errorf("got %q; want no response", b)
				return
			}
			done <- nil
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("closed after %v; want no earlier than client_header_timeout 2s", d)
	}
	if be.Accepted() != 0 {
		t.Fatalf("backend accepted %d connections; want 0", be.Accepted())
	}
	g.mustServe("/after", 200)
}

// TestSlowBody stalls a request body with client_body_timeout 1s: wsgate
// logs 408 and closes the client connection without a response (nginx:
// ngx_http_read_client_request_body_handler, "client timed out"). wsgate
// streams request bodies, so the backend sees the head, but never a whole
// request.
func TestSlowBody(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "client_body_timeout 1s;", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))

	c, br := g.dial()
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
	start := time.Now()
	b := expectClosed(t, c, br, 10*time.Second)
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Fatalf("closed after %v; want no earlier than client_body_timeout 1s", d)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408") {
		t.Fatalf("got %q; want nothing (or a 408)", b)
	}
	if !g.waitAccess(`"POST /upload HTTP/1.1" 408 `, 5*time.Second) {
		t.Fatalf("access log has no 408 for the stalled body:\n%s", g.accessLog())
	}
	// Nothing to wait for: the backend must stay without a complete
	// request for a while after the 408.
	proxytest.Consistently(t, 100*time.Millisecond, func() bool { return len(be.Requests()) == 0 },
		"backend recorded a complete request; want none")
	g.mustServe("/after", 200)
}

// TestSlowReader downloads a 1 GiB body from a fast backend with a client
// that reads the head and then nothing. wsgate streams with backpressure
// (it never buffers a response whole): the backend must stall after a few
// MiB in socket buffers, and wsgate's heap must stay bounded.
func TestSlowReader(t *testing.T) {
	const size = 1 << 30
	var written atomic.Int64
	be := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		req, err := proxytest.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Target != "/big" {
			io.WriteString(c, proxytest.DefaultResponse)
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
		buf := make([]byte, 64<<10)
		for left := int64(size); left > 0; {
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			n, err := c.Write(buf[:min(int64(len(buf)), left)])
			written.Add(int64(n))
			left -= int64(n)
			if err != nil {
				return
			}
		}
	})
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; proxy_read_timeout 60s; send_timeout 60s; }", be.Addr))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const clients = 4
	for i := 0; i < clients; i++ {
		c, br := g.dial()
		io.WriteString(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("status line: got %q, %v; want 200", line, err)
		}
	}
	// Wait until the backend's writes stall.
	var last int64 = -1
	proxytest.Poll(20*time.Second, func() bool {
		time.Sleep(300 * time.Millisecond) // stalled: no progress over a 300 ms sample
		n := written.Load()
		stalled := n == last
		last = n
		return stalled
	})
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	w := written.Load()
	t.Logf("backend wrote %d MiB for %d stalled clients; heap in use %d -> %d MiB", w>>20, clients, before.HeapInuse>>20, after.HeapInuse>>20)
	if w > 256<<20 {
		t.Fatalf("backend wrote %d MiB to clients that read nothing; want it stalled by backpressure (< 256 MiB)", w>>20)
	}
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Fatalf("heap grew by %d MiB; want under 64 MiB", grow>>20)
	}
	g.mustServe("/small-"+strconv.Itoa(clients), 200)
}

// TestBodyTooLarge: a Content-Length above client_max_body_size (1m by
// default) is 413 before a byte of the body is read, with or without
// "Expect: 100-continue", up to 2^63-1, the largest off_t; a longer number
// is not a length at all (400), as ngx_atoof reads it. The backend sees
// nothing.
func TestBodyTooLarge(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))
	cases := []struct {
		length, expect string
		want           int
	}{
		{"2000000", "", 413},
		{"2000000", "Expect: 100-continue\r\n", 413},
		{"9223372036854775807", "", 413},
		{"9223372036854775807", "Expect: 100-continue\r\n", 413},
		{"9223372036854775808", "", 400},
		{"99999999999999999999", "", 400},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s expect=%v", tc.length, tc.expect != ""), func(t *testing.T) {
			resp, _, _ := g.roundTrip("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: "+tc.length+"\r\n"+tc.expect+"\r\n", "POST")
			if resp.Status != tc.want {
				t.Fatalf("got status %d; want %d", resp.Status, tc.want)
			}
			if n := be.Accepted(); n != 0 {
				t.Fatalf("backend accepted %d connections; want 0", n)
			}
		})
	}
	g.mustServe("/after", 200)
}

// TestBareCR: a request head with a CR followed by a byte other than LF is
// answered 400 as soon as that byte arrives, as nginx does, though the
// head never ends: not at client_header_timeout (60 s; the read waits 20 s
// at most). The backend sees nothing.
func TestBareCR(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("client_header_timeout 60s;\nlocation / { proxy_pass http://%s; }", be.Addr))
	for _, raw := range []string{
		"GET /a\rb HTTP/1.1",
		"GET / HTTP/1.1\rHost: a",
		"GET / HTTP/1.1\r\nHost: a\r\nX\rY: b",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb",
		"GET / HTTP/1.1\r\nHost: a\r\n\rX",
	} {
		t.Run(strings.NewReplacer("\r", "<CR>", "\n", "<LF>").Replace(raw), func(t *testing.T) {
			resp, c, br := g.roundTrip(raw, "GET")
			if resp.Status != 400 {
				t.Fatalf("got status %d; want 400", resp.Status)
			}
			expectClosed(t, c, br, 10*time.Second)
			if n := be.Accepted(); n != 0 {
				t.Fatalf("backend accepted %d connections; want 0", n)
			}
		})
	}
}
