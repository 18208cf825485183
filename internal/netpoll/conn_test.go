//go:build linux

package netpoll

import (
	"errors"
	"io"
	"net"
	"net/netip"
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

// TestConnShortReadThenEOF checks that a read after a short one still
// sees the end of input that came with its bytes: a registered Conn
// waits for the next edge after a short read (drained), but a short read
// does not take the end of input queued behind its bytes, whose edge the
// loop reported before it.
func TestConnShortReadThenEOF(t *testing.T) {
	conn, pc := dialPair(t)
	// A read that times out puts the socket in its loop.
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := conn.Read(buf); !isTimeout(err) {
		t.Fatalf("got %v; want a timeout", err)
	}
	// The bytes and the end of input, both reported before the reads.
	pc.Write([]byte("ping!"))
	pc.Close()
	for deadline := time.Now().Add(5 * time.Second); !conn.hup.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the loop reported no end of input")
		}
		time.Sleep(time.Millisecond)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if string(buf[:n]) != "ping!" || err != nil {
		t.Fatalf("got %q, %v; want \"ping!\"", buf[:n], err)
	}
	if n, err := conn.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("got %d, %v; want EOF", n, err)
	}
}

// TestConnShortReadUnregistered checks the reads after a short one on a
// dialled socket that no wait has put in a loop yet: the next read
// registers it without trying first, and the registration reports what
// came meanwhile (more bytes, the end of input) as well as what comes
// later.
func TestConnShortReadUnregistered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(peer)
				return
			}
			peer <- c
		}
	}()
	for _, tc := range []struct {
		name string
		// then is what the peer does after the first read.
		then func(pc net.Conn)
		want string // the second read's bytes; "": EOF
	}{
		{"bytes before the next read", func(pc net.Conn) { pc.Write([]byte("more")) }, "more"},
		{"end of input before the next read", func(pc net.Conn) { pc.Close() }, ""},
		{"bytes during the next read", func(pc net.Conn) {
			go func() {
				time.Sleep(20 * time.Millisecond)
				pc.Write([]byte("late"))
			}()
		}, "late"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, ok, err := Dial(ln.Addr().String(), netip.AddrPort{}, time.Now().Add(5*time.Second))
			if !ok || err != nil {
				t.Fatalf("got ok %v, %v; want a connection", ok, err)
			}
			defer conn.Close()
			pc := <-peer
			if pc == nil {
				t.Fatal("accept failed")
			}
			defer pc.Close()
			pc.Write([]byte("ping!"))
			buf := make([]byte, 64)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			// The bytes may come in more than one read; the last is short.
			got := ""
			for len(got) < 5 {
				n, err := conn.Read(buf)
				if err != nil {
					t.Fatalf("got %q, %v; want \"ping!\"", got, err)
				}
				got += string(buf[:n])
			}
			tc.then(pc)
			n, err := conn.Read(buf)
			if tc.want == "" {
				if n != 0 || err != io.EOF {
					t.Errorf("got %q, %v; want EOF", buf[:n], err)
				}
				return
			}
			if string(buf[:n]) != tc.want || err != nil {
				t.Errorf("got %q, %v; want %q", buf[:n], err, tc.want)
			}
		})
	}
}

// TestConnDeadlineWakes checks which deadline changes wake a waiting
// read: one that comes sooner ends the wait at once, one moved later
// keeps it waiting until the later one (its timer wakes it at the old one
// to wait again), and one set while no read waits leaves no wake-up for
// the next read.
func TestConnDeadlineWakes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dial := func(t *testing.T) *Conn {
		t.Helper()
		conn, ok, err := Dial(ln.Addr().String(), netip.AddrPort{}, time.Now().Add(5*time.Second))
		if !ok || err != nil {
			t.Fatalf("got ok %v, %v; want a connection", ok, err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// parked polls until a read waits on conn.
	parked := func(t *testing.T, conn *Conn) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); conn.rw.Load() == 0; {
			if time.Now().After(deadline) {
				t.Fatal("no read waits")
			}
			time.Sleep(time.Millisecond)
		}
	}

	t.Run("sooner", func(t *testing.T) {
		conn := dial(t)
		conn.SetReadDeadline(time.Now().Add(time.Hour))
		done := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			done <- err
		}()
		parked(t, conn)
		conn.SetReadDeadline(time.Now())
		select {
		case err := <-done:
			if !isTimeout(err) {
				t.Errorf("got %v; want a timeout", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the read did not end at the sooner deadline")
		}
	})
	t.Run("later", func(t *testing.T) {
		conn := dial(t)
		start := time.Now()
		conn.SetReadDeadline(start.Add(20 * time.Millisecond))
		done := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			done <- err
		}()
		parked(t, conn)
		conn.SetReadDeadline(start.Add(200 * time.Millisecond))
		select {
		case err := <-done:
			if !isTimeout(err) {
				t.Errorf("got %v; want a timeout", err)
			}
			if took := time.Since(start); took < 200*time.Millisecond {
				t.Errorf("timed out after %v; want the later deadline, 200ms", took)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the read did not end at the later deadline")
		}
	})
	t.Run("nobody waits", func(t *testing.T) {
		conn := dial(t)
		conn.SetReadDeadline(time.Now().Add(time.Hour))
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		if n := len(conn.w.rch); n != 0 {
			t.Errorf("got %d wake-ups left; want none", n)
		}
	})
}

// TestReadNow checks ReadNow's answers: nothing yet, the bytes there, a
// read deadline passed by the clock reading given (and not by an earlier
// one), the input's end, and a closed Conn.
func TestReadNow(t *testing.T) {
	conn, pc := dialPair(t)
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
	var err error
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

// TestWaitReadable checks the wait after a ReadNow that found nothing:
// it ends at the peer's next bytes, it does not end for bytes a ReadNow
// has read already (their wake-up is spent), and it ends at the read
// deadline and at Close.
func TestWaitReadable(t *testing.T) {
	conn, pc := dialPair(t)
	buf := make([]byte, 8)
	if _, err := conn.ReadNow(buf, time.Now().UnixNano()); err != ErrAgain {
		t.Fatalf("empty socket: got %v; want ErrAgain", err)
	}
	done := make(chan error, 1)
	go func() { done <- conn.WaitReadable() }()
	for deadline := time.Now().Add(5 * time.Second); conn.rw.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("WaitReadable does not wait")
		}
		time.Sleep(time.Millisecond)
	}
	pc.Write([]byte("a"))
	if err := <-done; err != nil {
		t.Fatalf("bytes came: got %v; want nil", err)
	}
	if n, err := conn.ReadNow(buf, time.Now().UnixNano()); string(buf[:n]) != "a" || err != nil {
		t.Fatalf("got %q, %v; want \"a\"", buf[:n], err)
	}

	// Bytes whose edge the loop has reported, read by ReadNow: the
	// wake-up they left is not a reason to end the next wait.
	pc.Write([]byte("b"))
	for deadline := time.Now().Add(5 * time.Second); len(conn.waitChan(opRead)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the loop reported no edge")
		}
		time.Sleep(time.Millisecond)
	}
	if n, err := conn.ReadNow(buf, time.Now().UnixNano()); string(buf[:n]) != "b" || err != nil {
		t.Fatalf("got %q, %v; want \"b\"", buf[:n], err)
	}
	if _, err := conn.ReadNow(buf, time.Now().UnixNano()); err != ErrAgain {
		t.Fatalf("drained socket: got %v; want ErrAgain", err)
	}
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if err := conn.WaitReadable(); !isTimeout(err) {
		t.Fatalf("nothing new came: got %v; want a timeout", err)
	}

	conn.SetReadDeadline(time.Time{})
	go func() { done <- conn.WaitReadable() }()
	for deadline := time.Now().Add(5 * time.Second); conn.rw.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("WaitReadable does not wait")
		}
		time.Sleep(time.Millisecond)
	}
	conn.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("closed: got %v; want net.ErrClosed", err)
	}
}
