package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
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
	}{
		{"short", 300 * time.Millisecond, false},
		{"longer", 700 * time.Millisecond, false},
		{"one-shot short", 300 * time.Millisecond, true},
		{"one-shot longer", 700 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := new(Local)
			defer ws.Close()
			c := clientConn{oneShot: tc.oneShot, work: ws}
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
			if took < tc.timeout-50*time.Millisecond || took > tc.timeout+3*time.Second {
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
	}{{0, false}, {100 * time.Millisecond, false}, {0, true}, {100 * time.Millisecond, true}} {
		timeout := tc.timeout
		ws := new(Local)
		defer ws.Close()
		c := clientConn{oneShot: tc.oneShot, work: ws}
		conn, err := c.dial("tcp", ln.Addr().String(), timeout, time.Now())
		if err != nil {
			t.Fatalf("timeout %v: got %v; want a connection", timeout, err)
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

// TestDialOneShot checks the connection dialOneShot makes: it carries
// bytes both ways, a read waits for the peer's answer, reads EOF when the
// peer closes, and a refused connect fails as net's does.
func TestDialOneShot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		// The answer comes late: the read below waits for it.
		time.Sleep(50 * time.Millisecond)
		c.Write(append(buf, '!'))
		c.Close()
	}()
	pl, err := newShotPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.close()
	conn := new(shotConn)
	ok, err := dialOneShot(conn, pl, ln.Addr().String(), time.Now().Add(5*time.Second))
	if !ok || err != nil {
		t.Fatalf("got ok %v, %v; want a connection", ok, err)
	}
	defer conn.Close()
	// writeNow writes what the socket takes at once: all of a short head.
	if n := conn.writeNow([]byte("pi")); n != 2 {
		t.Fatalf("writeNow wrote %d bytes; want 2", n)
	}
	if got, want := conn.RemoteAddr().String(), ln.Addr().String(); got != want {
		t.Errorf("got remote %s; want %s", got, want)
	}
	if la := conn.LocalAddr().(*net.TCPAddr); la.Port == 0 || !la.IP.IsLoopback() {
		t.Errorf("got local %v; want a loopback address with a port", la)
	}
	if _, err := conn.Write([]byte("ng")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if string(b) != "ping!" || err != nil {
		t.Errorf("got %q, %v; want \"ping!\" then EOF", b, err)
	}

	// A port nothing listens on: refused, as from net's dialer.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l2.Addr().String()
	l2.Close()
	ok, err = dialOneShot(new(shotConn), pl, closed, time.Time{})
	if !ok || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("got ok %v, %v; want connection refused", ok, err)
	}
	if ok, _ := dialOneShot(new(shotConn), pl, "localhost:80", time.Time{}); ok {
		t.Errorf("got ok for a host name; want it left to net's dialer")
	}
}

// TestShotConnWaits checks the waits of a one-shot connection in its
// poller, one connection after another: a read deadline that passes, a
// write larger than the socket takes at once, and a shutdown from another
// goroutine that ends a waiting read.
func TestShotConnWaits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pl, err := newShotPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for range 3 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() (*shotConn, net.Conn) {
		t.Helper()
		conn := new(shotConn)
		if ok, err := dialOneShot(conn, pl, ln.Addr().String(), time.Now().Add(5*time.Second)); !ok || err != nil {
			t.Fatalf("got ok %v, %v; want a connection", ok, err)
		}
		select {
		case peer := <-accepted:
			t.Cleanup(func() { peer.Close() })
			return conn, peer
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
		}
		return nil, nil
	}

	// A read deadline: the read waits for it, then fails as a timeout.
	conn, _ := dial()
	start := time.Now()
	conn.SetReadDeadline(start.Add(100 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 10)); !isTimeout(err) {
		t.Errorf("got %v; want a timeout", err)
	}
	if took := time.Since(start); took < 50*time.Millisecond || took > 3*time.Second {
		t.Errorf("timed out after %v; want about 100ms", took)
	}
	conn.Close()

	// A write of 8 MiB waits for the peer to read it.
	conn, peer := dial()
	big := make([]byte, 8<<20)
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, peer)
		got <- n
	}()
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Write(big); n != len(big) || err != nil {
		t.Errorf("wrote %d, %v; want %d bytes", n, err, len(big))
	}
	conn.Close()
	if n := <-got; n != int64(len(big)) {
		t.Errorf("peer read %d bytes; want %d", n, len(big))
	}

	// shutdown from another goroutine ends a read that waits.
	conn, _ = dial()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	shut := make(chan struct{})
	time.AfterFunc(50*time.Millisecond, func() { conn.shutdown(); close(shut) })
	if n, err := conn.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("got %d, %v; want EOF", n, err)
	}
	<-shut // as unwatchClient waits for the watch before the close
	conn.Close()
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after close: got %v; want os.ErrClosed", err)
	}
}
