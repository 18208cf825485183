//go:build linux

package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// parkedCount returns the number of parked connections.
func (s *Server) parkedCount() int {
	s.parked.mu.Lock()
	defer s.parked.mu.Unlock()
	return len(s.parked.m)
}

// TestIdleConnsPark: fresh connections with no bytes and keep-alive ones
// between requests wait parked, with no goroutine each; a request on a
// parked connection is served where its connection stood
// ($connection, $connection_requests), and a graceful stop closes the
// parked ones.
func TestIdleConnsPark(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	ts := start(t, `events {}
http {
    access_log off;
    server {
        listen `+addr+`;
        location / { return 200 "$connection $connection_requests"; }
    }
}
`, Options{})
	const n = 50
	type client struct {
		c  net.Conn
		br *bufio.Reader
	}
	base := runtime.NumGoroutine()
	cs := make([]client, n)
	for i := range cs {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		cs[i] = client{c, bufio.NewReader(c)}
	}
	waitParked := func(want int) {
		t.Helper()
		if !proxytest.Poll(20*time.Second, func() bool { return ts.s.parkedCount() == want }) {
			t.Fatalf("got %d parked connections; want %d", ts.s.parkedCount(), want)
		}
	}
	waitParked(n)
	// The workers that parked them end once idle (workerIdle): what is
	// left costs no goroutine per connection.
	var g int
	proxytest.Poll(20*time.Second, func() bool { g = runtime.NumGoroutine(); return g < base+n/2 })
	if g >= base+n/2 {
		t.Errorf("with %d idle connections: %d goroutines, %d before; want far fewer than one per connection", n, g, base)
	}
	serial := make([]string, n)
	for round := 1; round <= 2; round++ {
		for i, cl := range cs {
			io.WriteString(cl.c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			r, err := proxytest.ReadResponse(cl.br, "GET")
			if err != nil {
				t.Fatalf("round %d, connection %d: %v", round, i, err)
			}
			var conn string
			var reqs int
			if _, err := fmt.Sscanf(string(r.Body), "%s %d", &conn, &reqs); err != nil || reqs != round {
				t.Fatalf("round %d, connection %d: got %q; want $connection_requests %d", round, i, r.Body, round)
			}
			if round == 1 {
				serial[i] = conn
			} else if conn != serial[i] {
				t.Errorf("connection %d: $connection %s after a park; want %s", i, conn, serial[i])
			}
		}
		waitParked(n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.s.Shutdown(ctx); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	for i, cl := range cs {
		if b, err := cl.br.ReadByte(); err == nil {
			t.Fatalf("parked connection %d got %q after the stop; want it closed", i, b)
		}
	}
}

// TestParkedTimeouts: a parked connection is closed without an answer at
// its deadline: client_header_timeout before the first request,
// keepalive_timeout after one.
func TestParkedTimeouts(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	ts := start(t, `events {}
http {
    access_log off;
    client_header_timeout 300ms;
    keepalive_timeout 300ms;
    server {
        listen `+addr+`;
        location / { return 200 "ok"; }
    }
}
`, Options{})
	for _, tc := range []struct {
		desc    string
		request bool
	}{{"fresh: client_header_timeout", false}, {"keep-alive: keepalive_timeout", true}} {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			if tc.request {
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
				if _, err := proxytest.ReadResponse(br, "GET"); err != nil {
					t.Fatal(err)
				}
			}
			if b, err := io.ReadAll(br); err != nil || len(b) != 0 {
				t.Fatalf("got %q, %v; want the connection closed without a byte", b, err)
			}
			if !proxytest.Poll(10*time.Second, func() bool { return ts.s.parkedCount() == 0 }) {
				t.Errorf("%d connections still parked", ts.s.parkedCount())
			}
		})
	}
}

// TestFreshConnsParkAtAccept: a burst of fresh connections that send
// nothing is parked by the accept loop itself, with no worker serving
// (or waiting after) any of them, and each is served once its request
// comes.
func TestFreshConnsParkAtAccept(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	ts := start(t, `events {}
http {
    access_log off;
    server {
        listen `+addr+`;
        location / { return 200 "ok"; }
    }
}
`, Options{})
	const n = 20
	cs := make([]net.Conn, n)
	for i := range cs {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		cs[i] = c
	}
	if !proxytest.Poll(20*time.Second, func() bool { return ts.s.parkedCount() == n }) {
		t.Fatalf("got %d parked connections; want %d", ts.s.parkedCount(), n)
	}
	// A worker that had parked one would now wait for the next
	// connection (workerIdle).
	if w := ts.s.idleWorkers.Load(); w != 0 {
		t.Errorf("%d idle workers after %d fresh connections; want none started", w, n)
	}
	for i, c := range cs {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil || string(r.Body) != "ok" {
			t.Fatalf("connection %d: %v, %v; want 200 ok", i, r, err)
		}
	}
}

// TestAcceptReadAhead: what the accept loop reads from a new connection
// (parkAtAccept) is served first by its worker: a request sent with the
// connect, one larger than the read, two pipelined, and a client gone
// before its first byte, which is closed without an answer and not
// parked. Each runs on several connections at once, so that most bytes
// are there when the connection is accepted.
func TestAcceptReadAhead(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	ts := start(t, `events {}
http {
    access_log off;
    large_client_header_buffers 4 16k;
    server {
        listen `+addr+`;
        location / { return 200 "ok"; }
        location /two { return 200 "two"; }
    }
}
`, Options{})
	big := strings.Repeat("b", 6000)
	tests := []struct {
		desc string
		send string
		want []string // bodies, in order; none: the connection closes
	}{
		{desc: "request with the connect", send: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"ok"}},
		{desc: "head larger than the read", send: "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big + "\r\n\r\n", want: []string{"ok"}},
		{desc: "two pipelined", send: "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"ok", "two"}},
		{desc: "gone before its first byte"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			const n = 8
			cs := make([]net.Conn, n)
			for i := range cs {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if tc.send != "" {
					io.WriteString(c, tc.send)
				} else {
					c.Close()
				}
				cs[i] = c
			}
			if tc.want == nil {
				if !proxytest.Poll(20*time.Second, func() bool { return ts.s.parkedCount() == 0 && ts.s.stats.Load().Active == 0 }) {
					t.Errorf("got %d parked, %d active connections; want none", ts.s.parkedCount(), ts.s.stats.Load().Active)
				}
				return
			}
			for i, c := range cs {
				br := bufio.NewReader(c)
				for _, want := range tc.want {
					r, err := proxytest.ReadResponse(br, "GET")
					if err != nil || r.Status != 200 || string(r.Body) != want {
						t.Fatalf("connection %d: %v, %v; want 200 %q", i, r, err, want)
					}
				}
			}
		})
	}
}
