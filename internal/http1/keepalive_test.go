package http1

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestServeAtOnce checks which responses count as written at once, the
// ones after which the keep-alive loop yields before it reads the next
// request: a response finish writes whole, and no other. Each case serves
// two requests on one connection, read one after the other as a
// non-pipelining client sends them, and both must be answered.
func TestServeAtOnce(t *testing.T) {
	big := strings.Repeat("b", 8<<10) // more than the 4 KiB write buffer
	tests := []struct {
		desc   string
		h      func(w *ResponseWriter)
		status int // 0: 200
		body   string
		want   bool
	}{
		{desc: "small body", h: func(w *ResponseWriter) {
			w.WriteHeader(200, "", 2)
			w.Write([]byte("ok"))
		}, body: "ok", want: true},
		{desc: "empty 200 written by Serve", h: func(w *ResponseWriter) {}, want: true},
		{desc: "no body", h: func(w *ResponseWriter) {
			w.WriteHeader(204, "", -1)
		}, status: 204, want: true},
		{desc: "flushed by the handler", h: func(w *ResponseWriter) {
			w.WriteHeader(200, "", 2)
			w.Write([]byte("ok"))
			w.Flush()
		}, body: "ok", want: false},
		{desc: "larger than the write buffer", h: func(w *ResponseWriter) {
			w.WriteHeader(200, "", int64(len(big)))
			w.Write([]byte(big))
		}, body: big, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			srv, cli := net.Pipe()
			defer cli.Close()
			cfg := DefaultConnConfig()
			var last *ResponseWriter
			done := make(chan struct{})
			go func() {
				defer close(done)
				Serve(srv, &cfg, HandlerFunc(func(w *ResponseWriter, r *Request) {
					last = w
					tc.h(w)
				}))
			}()
			cli.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(cli)
			for i := range 2 {
				if _, err := cli.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				want := tc.status
				if want == 0 {
					want = 200
				}
				status, body := readResponse(t, br)
				if status != want || body != tc.body {
					t.Fatalf("request %d: got %d with %d body bytes; want %d with %d", i, status, len(body), want, len(tc.body))
				}
			}
			cli.Close()
			<-done
			// Serve has returned: the writer keeps the last response's.
			if last.atOnce != tc.want {
				t.Errorf("got atOnce %v; want %v", last.atOnce, tc.want)
			}
		})
	}
}
