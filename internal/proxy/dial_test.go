//go:build linux

package proxy

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/netpoll"
)

// blackhole returns the address of a loopback listener that never accepts
// and whose accept queue is full, so that a further connect gets no answer.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the accept queue; the dials that complete stay open.
	for range 4 {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the loopback accept queue never filled; cannot make a connect hang")
	return ""
}

// TestDialTimeout checks that proxy_connect_timeout bounds a connect that
// gets no answer, and that the error reads as a timeout.
func TestDialTimeout(t *testing.T) {
	addr := blackhole(t)
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		oneShot bool
		wsDial  bool
	}{
		{"short", 300 * time.Millisecond, false, false},
		{"longer", 700 * time.Millisecond, false, false},
		{"one-shot short", 300 * time.Millisecond, true, false},
		{"one-shot longer", 700 * time.Millisecond, true, false},
		{"websocket short", 300 * time.Millisecond, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := new(Local)
			defer ws.Close()
			c := clientConn{oneShot: tc.oneShot, wsDial: tc.wsDial, work: ws}
			start := time.Now()
			conn, err := c.dial("tcp", addr, tc.timeout, start)
			took := time.Since(start)
			if err == nil {
				conn.Close()
				t.Fatalf("got a connection to %s; want a connect timeout", addr)
			}
			if !isTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("got error %v; want a timeout", err)
			}
			// The upper bound is loose (a loaded machine delays the
			// timer), yet far below the kernel's own connect
			// timeout (about two minutes of SYN retries).
			if took < tc.timeout-50*time.Millisecond || took > tc.timeout+10*time.Second {
				t.Errorf("got the error after %v; want it after about %v", took, tc.timeout)
			}
		})
	}
}

// TestDialConnects checks a dial with and without a connect timeout.
func TestDialConnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		timeout time.Duration
		oneShot bool
		wsDial  bool
	}{{0, false, false}, {100 * time.Millisecond, false, false}, {0, true, false}, {100 * time.Millisecond, true, false}, {100 * time.Millisecond, false, true}} {
		timeout := tc.timeout
		ws := new(Local)
		defer ws.Close()
		c := clientConn{oneShot: tc.oneShot, wsDial: tc.wsDial, work: ws}
		conn, err := c.dial("tcp", ln.Addr().String(), timeout, time.Now())
		if err != nil {
			t.Fatalf("timeout %v: got %v; want a connection", timeout, err)
		}
		if _, raw := conn.(*netpoll.Conn); raw != (tc.oneShot || tc.wsDial) {
			t.Errorf("timeout %v, one-shot %v, websocket %v: got a %T", timeout, tc.oneShot, tc.wsDial, conn)
		}
		if got := conn.RemoteAddr().String(); got != ln.Addr().String() {
			t.Errorf("timeout %v: got remote %s; want %s", timeout, got, ln.Addr())
		}
		// The deadline was for the connect only: a write after it still works.
		time.Sleep(timeout + 50*time.Millisecond)
		if _, err := conn.Write([]byte("x")); err != nil {
			t.Errorf("timeout %v: write after dial: %v", timeout, err)
		}
		conn.Close()
	}
}
