package http1

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// TestIdleHoldsNoBuffers checks that a connection waiting for a request's
// first byte on a socket gives its reader and writer back to their pools
// (waitIdle), before its first request and between two kept alive, and
// that the request that then arrives is served. A net.Pipe is no socket:
// it keeps its buffers and is served as before.
func TestIdleHoldsNoBuffers(t *testing.T) {
	tests := []struct {
		desc     string
		pipe     bool
		requests int
		want     int // waits without buffers: one before each request on a socket
	}{
		{desc: "fresh connection", requests: 1, want: 1},
		{desc: "kept alive", requests: 3, want: 3},
		{desc: "pipe, not a socket", pipe: true, requests: 2, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			// Other tests' connections run meanwhile: only this one's,
			// told by its server name, count.
			cfg := DefaultConnConfig()
			cfg.ServerName = "idle-test"
			waits := make(chan bool, 16)
			hook := func(c *serverConn) {
				if c.cfg.ServerName == "idle-test" {
					waits <- c.br == nil && c.bw == nil
				}
			}
			idleHook.Store(&hook)
			t.Cleanup(func() { idleHook.Store(nil) })
			var cli net.Conn
			if tc.pipe {
				srv, c := net.Pipe()
				cli = c
				done := make(chan struct{})
				go func() { defer close(done); Serve(srv, &cfg, HandlerFunc(okHandler)) }()
				t.Cleanup(func() { cli.Close(); <-done })
			} else {
				addr, _ := startServer(t, cfg, okHandler)
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				cli = c
				t.Cleanup(func() { cli.Close() })
			}
			cli.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(cli)
			got := 0
			for i := range tc.requests {
				if !tc.pipe {
					// The server is waiting for this request's first
					// byte before it is sent.
					select {
					case empty := <-waits:
						got++
						if !empty {
							t.Fatalf("request %d: the idle connection holds its buffers", i)
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("request %d: the connection never waited without its buffers", i)
					}
				}
				if _, err := cli.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if status, body := readResponse(t, br); status != 200 || body != "ok" {
					t.Fatalf("request %d: got %d %q; want 200 \"ok\"", i, status, body)
				}
			}
			if got += len(waits); tc.pipe && got != tc.want {
				t.Errorf("got %d waits without buffers; want %d", got, tc.want)
			}
		})
	}
}

func okHandler(w *ResponseWriter, r *Request) {
	w.WriteHeader(200, "", 2)
	w.Write([]byte("ok"))
}
