//go:build linux

package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair dials a full-duplex Conn to a loopback listener and returns it
// with the accepted peer; both close at the test's end.
func dialPair(t *testing.T) (*Conn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, ok, err := Dial(ln.Addr().String(), netip.AddrPort{}, time.Now().Add(5*time.Second))
	if !ok || err != nil {
		t.Fatalf("got ok %v, %v; want a connection", ok, err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case p := <-accepted:
		if p == nil {
			t.Fatal("accept failed")
		}
		t.Cleanup(func() { p.Close() })
		return c, p.(*net.TCPConn)
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
	}
	return nil, nil
}

// within fails the test unless done is closed within a generous bound
// (a hang, not a slow machine, is what it catches).
func within(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still waiting", what)
	}
}

// TestConnDuplex: a read and a write wait at the same time in two
// goroutines; the peer echoes, so each direction fills and waits for the
// other.
func TestConnDuplex(t *testing.T) {
	c, peer := dialPair(t)
	go io.Copy(peer, peer)
	const size = 8 << 20
	out := make([]byte, size)
	for i := range out {
		out[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, werr = c.Write(out)
	}()
	in := make([]byte, size)
	_, rerr := io.ReadFull(c, in)
	wg.Wait()
	if werr != nil || rerr != nil {
		t.Fatalf("write %v, read %v; want neither to fail", werr, rerr)
	}
	if !bytes.Equal(in, out) {
		t.Fatal("read back bytes that differ from those written")
	}
}

// TestConnDeadlines: each direction has its own deadline, a deadline set
// from another goroutine wakes the wait under way, and a passed read
// deadline fails a read before it is tried, as net's.
func TestConnDeadlines(t *testing.T) {
	tests := []struct {
		desc string
		run  func(t *testing.T, c *Conn, peer *net.TCPConn)
	}{
		{"read deadline passes, writes go on", func(t *testing.T, c *Conn, peer *net.TCPConn) {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				t.Fatalf("read: got %v; want a timeout", err)
			}
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatalf("write after the read's timeout: %v", err)
			}
		}},
		{"deadline in the past wakes a waiting read", func(t *testing.T, c *Conn, peer *net.TCPConn) {
			done := make(chan struct{})
			var err error
			go func() { _, err = c.Read(make([]byte, 1)); close(done) }()
			waitRegistered(t, c)
			c.SetReadDeadline(time.Unix(1, 0))
			within(t, done, "read after SetReadDeadline in the past")
			if !isTimeout(err) {
				t.Fatalf("got %v; want a timeout", err)
			}
			// Data waiting does not beat a passed deadline.
			peer.Write([]byte("y"))
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				t.Fatalf("read with a passed deadline: got %v; want a timeout", err)
			}
			c.SetReadDeadline(time.Time{})
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatalf("read with the deadline cleared: %v", err)
			}
		}},
		{"a deadline moved earlier ends a waiting read then", func(t *testing.T, c *Conn, peer *net.TCPConn) {
			c.SetReadDeadline(time.Now().Add(time.Hour))
			done := make(chan struct{})
			var err error
			go func() { _, err = c.Read(make([]byte, 1)); close(done) }()
			waitRegistered(t, c)
			c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
			within(t, done, "read after its deadline was moved earlier")
			if !isTimeout(err) {
				t.Fatalf("got %v; want a timeout", err)
			}
		}},
		{"a timer armed for an earlier deadline is kept and does not end a later wait", func(t *testing.T, c *Conn, peer *net.TCPConn) {
			first := time.Now().Add(200 * time.Millisecond)
			c.SetReadDeadline(first)
			writeWhenWaiting(c, peer, "a")
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatalf("first read: %v", err)
			}
			// A later deadline keeps the armed timer: the next wait is
			// woken by it, finds its own deadline not passed, and waits
			// on, re-armed.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if at := c.own.rt.at; at != first.UnixNano() {
				t.Errorf("the timer was moved to %v; want it left at %v", time.Unix(0, at), first)
			}
			go func() {
				for time.Now().Before(first.Add(100 * time.Millisecond)) {
					time.Sleep(10 * time.Millisecond)
				}
				peer.Write([]byte("b"))
			}()
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatalf("read under the later deadline: %v", err)
			}
		}},
		{"write deadline passes while the peer reads nothing, reads go on", func(t *testing.T, c *Conn, peer *net.TCPConn) {
			c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			if n, err := c.Write(make([]byte, 64<<20)); !isTimeout(err) {
				t.Fatalf("got %d, %v; want a timeout", n, err)
			}
			peer.Write([]byte("z"))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatalf("read after the write's timeout: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, peer := dialPair(t)
			tt.run(t, c, peer)
		})
	}
}

// waitRegistered polls until c's socket is in a loop (a wait has begun).
func waitRegistered(t *testing.T, c *Conn) {
	t.Helper()
	if !pollRegistered(c) {
		t.Fatal("the wait never registered")
	}
}

// pollRegistered polls until c's socket is in a loop, for 20 s at most.
func pollRegistered(c *Conn) bool {
	for range 20000 {
		c.mu.Lock()
		in := c.loop != nil
		c.mu.Unlock()
		if in {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// writeWhenWaiting writes p to peer once c waits in a loop.
func writeWhenWaiting(c *Conn, peer net.Conn, p string) {
	go func() {
		if pollRegistered(c) {
			peer.Write([]byte(p))
		}
	}()
}

// TestConnCloseWakes: Close from a third goroutine ends a waiting read
// and a waiting write with net.ErrClosed, closes the socket once (the
// peer reads its end), and a second Close fails.
func TestConnCloseWakes(t *testing.T) {
	c, peer := dialPair(t)
	var wg sync.WaitGroup
	var rerr, werr error
	wg.Add(2)
	go func() { defer wg.Done(); _, rerr = c.Read(make([]byte, 1)) }()
	go func() { defer wg.Done(); _, werr = c.Write(make([]byte, 64<<20)) }()
	waitRegistered(t, c)
	for {
		c.mu.Lock()
		out := c.out
		c.mu.Unlock()
		if out {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	within(t, done, "read and write after Close")
	if !errors.Is(rerr, net.ErrClosed) || !errors.Is(werr, net.ErrClosed) {
		t.Errorf("read %v, write %v; want net.ErrClosed for both", rerr, werr)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: got %v; want net.ErrClosed", err)
	}
	peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, peer); err != nil && !errors.Is(err, unix.ECONNRESET) {
		t.Errorf("peer: got %v; want the end of the connection", err)
	}
}

// TestConnSyscallConn: the RawConn gives the socket itself, its Read
// waits between calls until the callback is done, Now reads through it,
// and after Close every callback is refused.
func TestConnSyscallConn(t *testing.T) {
	c, peer := dialPair(t)
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var typ int
	rc.Control(func(fd uintptr) { typ, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE) })
	if typ != unix.SOCK_STREAM {
		t.Fatalf("Control's descriptor has type %d; want a stream socket", typ)
	}
	writeWhenWaiting(c, peer, "hello")
	buf := make([]byte, 16)
	n := 0
	err = rc.Read(func(fd uintptr) bool {
		m, err := Read(int(fd), buf)
		if err == ErrAgain {
			return false
		}
		n = m
		return true
	})
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("got %q, %v; want \"hello\"", buf[:n], err)
	}
	var now Now
	if _, err := now.Read(rc, buf); err != ErrAgain {
		t.Errorf("Now.Read of an empty socket: got %v; want ErrAgain", err)
	}
	if n, err := now.Write(rc, []byte("back")); n != 4 || err != nil {
		t.Errorf("Now.Write: got %d, %v; want 4 bytes", n, err)
	}
	c.Close()
	called := false
	if err := rc.Control(func(uintptr) { called = true }); err == nil || called {
		t.Errorf("Control after Close: got %v, called %v; want an error and no call", err, called)
	}
	if err := rc.Read(func(uintptr) bool { called = true; return true }); err == nil || called {
		t.Errorf("Read after Close: got %v, called %v; want an error and no call", err, called)
	}
}

// TestNoDelayOnce: turning TCP_NODELAY on where the Conn already did makes
// no setsockopt (a dialled upstream upgraded to a tunnel is set once): a
// flag cleared behind the Conn's back stays cleared, and turning it off
// and on again reaches the socket.
func TestNoDelayOnce(t *testing.T) {
	c, _ := dialPair(t)
	rc, _ := c.SyscallConn()
	get := func() (v int) {
		rc.Control(func(fd uintptr) { v, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY) })
		return v
	}
	if err := c.SetNoDelay(true); err != nil || get() == 0 {
		t.Fatalf("SetNoDelay(true): %v, TCP_NODELAY %d; want it set", err, get())
	}
	rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY, 0) })
	if err := c.SetNoDelay(true); err != nil || get() != 0 {
		t.Errorf("second SetNoDelay(true): %v, TCP_NODELAY %d; want no system call (0)", err, get())
	}
	c.SetNoDelay(false)
	if err := c.SetNoDelay(true); err != nil || get() == 0 {
		t.Errorf("SetNoDelay(true) after false: %v, TCP_NODELAY %d; want it set", err, get())
	}
}

// TestConnOptions: CloseWrite half-closes (the peer reads its end and can
// still answer), and the TCP options land on the socket.
func TestConnOptions(t *testing.T) {
	c, peer := dialPair(t)
	if err := c.SetNoDelay(true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetKeepAlive(true); err != nil {
		t.Fatal(err)
	}
	rc, _ := c.SyscallConn()
	var nd, ka int
	rc.Control(func(fd uintptr) {
		nd, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY)
		ka, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	})
	if nd == 0 || ka == 0 {
		t.Errorf("got TCP_NODELAY %d, SO_KEEPALIVE %d; want both set", nd, ka)
	}
	c.Write([]byte("req"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	if b, err := io.ReadAll(peer); string(b) != "req" || err != nil {
		t.Fatalf("peer read %q, %v; want \"req\" then its end", b, err)
	}
	peer.Write([]byte("resp"))
	peer.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if b, err := io.ReadAll(c); string(b) != "resp" || err != nil {
		t.Fatalf("read %q, %v; want \"resp\" after the half-close", b, err)
	}
	if got, want := c.RemoteAddr().String(), peer.LocalAddr().String(); got != want {
		t.Errorf("remote %s; want %s", got, want)
	}
	if got, want := c.LocalAddr().String(), peer.RemoteAddr().String(); got != want {
		t.Errorf("local %s; want %s", got, want)
	}
}

// TestConnUnregister: a Conn taken out of its loop waits again (and is
// registered again) at its next read.
func TestConnUnregister(t *testing.T) {
	c, peer := dialPair(t)
	writeWhenWaiting(c, peer, "a")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	c.Unregister()
	c.mu.Lock()
	in, tok := c.loop != nil, c.tok
	c.mu.Unlock()
	if in || tok != 0 {
		t.Fatalf("still registered after Unregister")
	}
	writeWhenWaiting(c, peer, "b")
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil || b[0] != 'b' {
		t.Fatalf("read after Unregister: got %q, %v; want \"b\"", b, err)
	}
}

// TestDialBind: a Conn dialled with a local address (proxy_bind) comes
// from it, with the port the kernel picked at the connect, or the one
// asked for; a local address of the other family is left to net's dialer.
func TestDialBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, local := range []string{"127.0.0.2:0", "127.0.0.3:0"} {
		c, ok, err := Dial(ln.Addr().String(), netip.MustParseAddrPort(local), time.Now().Add(5*time.Second))
		if !ok || err != nil {
			t.Fatalf("%s: got ok %v, %v; want a connection", local, ok, err)
		}
		p, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		from := p.RemoteAddr().(*net.TCPAddr).AddrPort()
		if want := netip.MustParseAddrPort(local).Addr(); from.Addr() != want || from.Port() == 0 {
			t.Errorf("%s: the peer sees %v; want %v with a port", local, from, want)
		}
		p.Close()
		c.Close()
	}
	if _, ok, _ := Dial(ln.Addr().String(), netip.MustParseAddrPort("[::1]:0"), time.Time{}); ok {
		t.Error("an IPv6 local address for an IPv4 peer was dialled raw; want net's dialer to report it")
	}
	// A local address in use: the bind's error, the socket closed.
	busy, err := net.Listen("tcp", "127.0.0.4:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, ok, err := Dial(ln.Addr().String(), busy.Addr().(*net.TCPAddr).AddrPort(), time.Time{}); !ok || !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("binding a listening address: ok %v, %v; want EADDRINUSE", ok, err)
	}
}
