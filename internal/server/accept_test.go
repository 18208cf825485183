package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestAcceptOrder: connections are numbered ($connection) in the order
// they were accepted, as nginx's ngx_connection_counter counts them at
// accept, and a request that came on an earlier connection is served
// first: a client that sends a request and, without waiting for its
// answer, sends another on a new connection finds the first holding the
// limit_conn count and the second refused, as a single nginx worker
// handles the two in order (nginx-tests limit_conn_dry_run.t).
func TestAcceptOrder(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	addr := proxytest.FreeAddr(t)
	start(t, `events {}
http {
    access_log off;
    limit_conn_zone $binary_remote_addr zone=one:1m;
    server {
        listen `+addr+`;
        location = /n { return 200 "$connection"; }
        location = /slow { limit_conn one 1; proxy_pass http://`+slow.Addr+`; }
    }
}
`, Options{})
	send := func(path string) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.0\r\n\r\n")
		return c
	}
	answer := func(c net.Conn) (status int, body string) {
		t.Helper()
		b, err := io.ReadAll(c)
		if err != nil {
			// A second connection served first waits for the upstream.
			t.Fatalf("reading the answer: %v (got %q): served out of order?", err, b)
		}
		head, body, _ := strings.Cut(string(b), "\r\n\r\n")
		if len(head) < 12 {
			t.Fatalf("answer %q", b)
		}
		status, _ = strconv.Atoi(head[9:12])
		return status, body
	}
	for round := range 5 {
		a, b := send("/n"), send("/n")
		_, na := answer(a)
		_, nb := answer(b)
		ia, _ := strconv.Atoi(na)
		ib, _ := strconv.Atoi(nb)
		if ia == 0 || ib != ia+1 {
			t.Errorf("round %d: $connection %q then %q; want n then n+1", round, na, nb)
		}
	}
	// Both requests are sent before the server runs again (one P, raw
	// system calls that do not yield), so that both connections wait in
	// the listen queue when it does, as a client in another process
	// makes them wait.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	rawSend := func(path string) net.Conn {
		t.Helper()
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), "client")
		defer f.Close()
		if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
			t.Fatal(err)
		}
		if _, err := syscall.Write(fd, []byte("GET "+path+" HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		return c
	}
	for round := range 10 {
		a, b := rawSend("/slow"), rawSend("/slow")
		if st, _ := answer(b); st != 503 {
			t.Fatalf("round %d: second connection: got %d; want 503 (the first holds the limit_conn count)", round, st)
		}
		release <- struct{}{}
		if st, body := answer(a); st != 200 || body != "ok" {
			t.Fatalf("round %d: first connection: got %d %q; want 200 \"ok\"", round, st, body)
		}
	}
}
