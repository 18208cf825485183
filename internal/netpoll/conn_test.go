//go:build linux

package netpoll

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestDialTCP checks the connection DialTCP makes: it carries
// bytes both ways, a read waits for the peer's answer, reads EOF when the
// peer closes, and a refused connect fails as net's does.
func TestDialTCP(t *testing.T) {
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
	w := new(Waiter)
	conn := new(Conn)
	ok, err := DialTCP(conn, w, ln.Addr().String(), time.Now().Add(5*time.Second))
	if !ok || err != nil {
		t.Fatalf("got ok %v, %v; want a connection", ok, err)
	}
	defer conn.Close()
	// WriteNow writes what the socket takes at once: all of a short head.
	if n := conn.WriteNow([]byte("pi")); n != 2 {
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
	ok, err = DialTCP(new(Conn), w, closed, time.Time{})
	if !ok || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("got ok %v, %v; want connection refused", ok, err)
	}
	if ok, _ := DialTCP(new(Conn), w, "localhost:80", time.Time{}); ok {
		t.Errorf("got ok for a host name; want it left to net's dialer")
	}
}

// TestConnWaits checks the waits of a Conn in its loop, one connection after another: a read deadline that passes, a
// write larger than the socket takes at once, and a Shutdown from another
// goroutine that ends a waiting read.
func TestConnWaits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w := new(Waiter)
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
	dial := func() (*Conn, net.Conn) {
		t.Helper()
		conn := new(Conn)
		if ok, err := DialTCP(conn, w, ln.Addr().String(), time.Now().Add(5*time.Second)); !ok || err != nil {
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
	// The upper bound is loose: a loaded machine delays the wake-up.
	if took := time.Since(start); took < 50*time.Millisecond || took > 10*time.Second {
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

	// Shutdown from another goroutine ends a read that waits.
	conn, _ = dial()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	shut := make(chan struct{})
	time.AfterFunc(50*time.Millisecond, func() { conn.Shutdown(); close(shut) })
	if n, err := conn.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("got %d, %v; want EOF", n, err)
	}
	<-shut // as the proxy waits for its client watch before the close
	conn.Close()
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: got %v; want net.ErrClosed", err)
	}
}

// TestReadNow checks ReadNow's answers: nothing yet, the bytes there, a
// read deadline passed by the clock reading given (and not by an earlier
// one), the input's end, and a closed Conn.
func TestReadNow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(peer)
			return
		}
		peer <- c
	}()
	conn := new(Conn)
	ok, err := DialTCP(conn, new(Waiter), ln.Addr().String(), time.Now().Add(5*time.Second))
	if !ok || err != nil {
		t.Fatalf("got ok %v, %v; want a connection", ok, err)
	}
	defer conn.Close()
	pc, ok := <-peer
	if !ok {
		t.Fatal("accept failed")
	}
	buf := make([]byte, 8)
	now := time.Now().UnixNano()
	if n, err := conn.ReadNow(buf, now); n != 0 || err != ErrAgain {
		t.Fatalf("empty socket: got %d, %v; want 0, ErrAgain", n, err)
	}
	if _, err := pc.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	conn.SetReadDeadline(deadline)
	// The bytes arrive through loopback at once; poll for them.
	var n int
	for {
		if n, err = conn.ReadNow(buf, now); err != ErrAgain {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if string(buf[:n]) != "hi" || err != nil {
		t.Fatalf("got %q, %v; want \"hi\"", buf[:n], err)
	}
	if _, err := conn.ReadNow(buf, deadline.UnixNano()); !isTimeout(err) {
		t.Errorf("at the deadline: got %v; want a timeout", err)
	}
	conn.SetReadDeadline(time.Time{})
	pc.Close()
	for {
		if n, err = conn.ReadNow(buf, now); err != ErrAgain {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if n != 0 || err != io.EOF {
		t.Errorf("after the peer's close: got %d, %v; want 0, io.EOF", n, err)
	}
	conn.Close()
	if _, err := conn.ReadNow(buf, now); !errors.Is(err, net.ErrClosed) {
		t.Errorf("closed: got %v; want net.ErrClosed", err)
	}
}
