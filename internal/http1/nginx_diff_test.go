package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// startNginx runs real nginx on a free loopback port with serverBody as
// its server block's body, or skips when nginx is absent.
func startNginx(t *testing.T, serverBody string) string {
	t.Helper()
	return proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(`
    server {
        listen %s;
        %s
    }`, proxytest.FreeAddr(t), serverBody))).Addr
}

// TestDifferentialNginx sends the same raw bytes to nginx 1.22 and to
// Serve and compares the status of the first response ("" for none).
func TestDifferentialNginx(t *testing.T) {
	ngx := startNginx(t, `location / { return 200 "ok"; }`)
	ours, _ := startServer(t, DefaultConnConfig(), echoHandler)
	long := strings.Repeat("a", 9000)
	cases := []struct{ name, raw string }{
		{"plain", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n"},
		{"no host", "GET / HTTP/1.1\r\n\r\n"},
		{"dup host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
		{"bad host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"},
		{"CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"dup CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
		{"bad CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
		{"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{"TE 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"CONNECT", "CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"},
		{"preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"dotdot", "GET /../a HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"%00", "GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"bad escape", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"absolute", "GET http://x.example:1/a?b HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"absolute bad host", "GET http://a..b/ HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"414", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"494 line", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long + "\r\n\r\n"},
		{"494 total", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+long[:4000]+"\r\n", 10) + "\r\n"},
		{"fits 4 buffers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+long[:4000]+"\r\n", 7) + "\r\n"},
		{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n"},
		{"space in name", "GET / HTTP/1.1\r\nHost: a\r\nA B: c\r\n\r\n"},
		{"0.9 POST", "POST /\r\n"},
		{"big CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"},
		{"dup Expect", "GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nExpect: y\r\n\r\n"},
	}
	// Buffer packing boundaries (ngx_http_alloc_large_header_buffer).
	for _, n := range []int{1000, 1010, 1024, 8170, 8176, 8177, 8178, 8200} {
		cases = append(cases, struct{ name, raw string }{
			fmt.Sprintf("request line %d", n), "GET /" + long[:n-16] + " HTTP/1.1\r\nHost: a\r\n\r\n"})
		cases = append(cases, struct{ name, raw string }{
			fmt.Sprintf("header line %d", n), "GET / HTTP/1.1\r\nHost: a\r\nX: " + long[:n-5] + "\r\n\r\n"})
		cases = append(cases, struct{ name, raw string }{
			fmt.Sprintf("4 headers %d", n), "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+long[:n-5]+"\r\n", 4) + "\r\n"})
		cases = append(cases, struct{ name, raw string }{
			fmt.Sprintf("2 headers %d then small", n), "GET / HTTP/1.1\r\n" + strings.Repeat("X: "+long[:n-5]+"\r\n", 2) + strings.Repeat("Host: a\r\n", 1) + strings.Repeat("Y: "+long[:n/2]+"\r\n", 3) + "\r\n"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := func(addr string) string {
				s := statuses(roundTrip(t, addr, tc.raw, true))
				if len(s) == 0 {
					return ""
				}
				return s[0]
			}
			want, got := first(ngx), first(ours)
			if got != want {
				t.Errorf("got %q; nginx %q", got, want)
			}
		})
	}
}

// TestDifferentialNginxNoEOF sends heads that nginx answers at once,
// before the request could be complete, and keeps the connection open:
// the status must come without the client ending its side, long before
// client_header_timeout (60 s here; the read waits 10 s at most).
func TestDifferentialNginxNoEOF(t *testing.T) {
	ngx := startNginx(t, `location / { return 200 "ok"; }`)
	ours, _ := startServer(t, DefaultConnConfig(), echoHandler)
	cases := []struct{ name, raw string }{
		{"CL max off_t", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n"},
		{"CL max off_t+1", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n"},
		{"CL 20 digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"},
		{"CL above client_max_body_size", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"},
		{"bare CR in method", "GE\rT / HTTP/1.1\r\nHost: a\r\n"},
		{"bare CR in URI", "GET /a\rb HTTP/1.1"},
		{"bare CR after URI", "GET /a\r HTTP/1.1"},
		{"bare CR in version", "GET / HTTP/1.1\rX"},
		{"CR CR after request line", "GET / HTTP/1.1\r\r"},
		{"bare CR in header name", "GET / HTTP/1.1\r\nHost: a\r\nX\rY: b"},
		{"bare CR in header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb"},
		{"bare CR after header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rY: b"},
		{"CR CR then a byte in a header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\rb"},
		{"bare CR at a header line's start", "GET / HTTP/1.1\r\nHost: a\r\n\rX"},
		{"CR CR at a header line's start", "GET / HTTP/1.1\r\nHost: a\r\n\r\r"},
		{"bare CR after the first line's CR LF", "GET / HTTP/1.1\r\n\rHost: a"},
		{"CR before the request line", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"CR CR before the request line", "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"CR CR LF in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, got := firstStatus(t, ngx, tc.raw), firstStatus(t, ours, tc.raw)
			if got != want {
				t.Errorf("got %q; nginx %q", got, want)
			}
			if want == "" {
				t.Errorf("nginx gave no status: the case cannot tell")
			}
		})
	}
}

// firstStatus writes raw on a new connection, leaves it open, and returns
// the status code of the first response line ("" when none came within
// 10 s).
func firstStatus(t *testing.T, addr, raw string) string {
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
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 ") || len(line) < 12 {
		return ""
	}
	return line[9:12]
}
