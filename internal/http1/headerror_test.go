package http1

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// headErrorRecorder is a HeadErrorHandler that answers every head error
// with a 200 naming what it was given.
type headErrorRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (h *headErrorRecorder) ServeHTTP1(w *ResponseWriter, r *Request) {
	w.WriteHeader(204, "", 0)
}

func (h *headErrorRecorder) ServeHeadError(w *ResponseWriter, r *Request, status int) {
	s := fmt.Sprintf("%d method=%q host=%q", status, r.Method, r.Host)
	h.mu.Lock()
	h.seen = append(h.seen, s)
	h.mu.Unlock()
	w.AddHeader("Content-Type", "text/plain")
	w.WriteHeader(200, "", int64(len(s)))
	w.Write([]byte(s))
}

// TestServeHeadErrorHandler checks that a HeadErrorHandler answers the
// head errors nginx finishes through ngx_http_finalize_request, with the
// Host read before the error (none when invalid or missing), and that the
// connection closes after the answer, pipelined requests unread.
func TestServeHeadErrorHandler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConnConfig()
	h := &headErrorRecorder{}
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
			go func() { defer wg.Done(); Serve(c, &cfg, h) }()
		}
	}()
	addr := ln.Addr().String()
	next := "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	tests := []struct {
		name, raw, want string
	}{
		{"invalid host", "GET / HTTP/1.0\r\nHost: .\r\n\r\n", `400 method="GET" host=""`},
		{"no host", "GET / HTTP/1.1\r\n\r\n", `400 method="GET" host=""`},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: A\r\nHost: b\r\n\r\n", `400 method="GET" host="a"`},
		{"bad content length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", `400 method="GET" host="a"`},
		{"unknown transfer-encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", `501 method="POST" host="a"`},
		{"bad request line", "FOO\r\n\r\n", `400 method="" host=""`},
		{"version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", `505 method="" host=""`},
		{"414", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", `414 method="" host=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := roundTrip(t, addr, tt.raw+next, false)
			if got := statuses(out); len(got) != 1 || got[0] != "200" {
				t.Fatalf("got statuses %v; want [200]\n%s", got, out)
			}
			if !strings.HasSuffix(out, "\r\n\r\n"+tt.want) {
				t.Errorf("got\n%s\nwant the body %s", out, tt.want)
			}
			if !strings.Contains(out, "\r\nConnection: close\r\n") {
				t.Errorf("got no Connection: close in\n%s", out)
			}
		})
	}
}

var _ HeadErrorHandler = (*headErrorRecorder)(nil)
