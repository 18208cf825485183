//go:build linux

package netpoll

import (
	"net"
	"testing"
	"time"
)

// TestQuiet checks what Quiet tells of a dialled socket: nothing before
// its loop reports on it, quiet after a short read in its loop, and not
// quiet once bytes, the input's end or a reset came since.
func TestQuiet(t *testing.T) {
	tests := []struct {
		name  string
		after func(pc *net.TCPConn) // nil: nothing comes
	}{
		{"nothing came", nil},
		{"bytes came", func(pc *net.TCPConn) { pc.Write([]byte("more")) }},
		{"end of input", func(pc *net.TCPConn) { pc.CloseWrite() }},
		{"reset", func(pc *net.TCPConn) { pc.SetLinger(0); pc.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, pc := dialPair(t)
			if c.Quiet() {
				t.Fatal("quiet before any read")
			}
			// A read that times out puts the socket in its loop.
			buf := make([]byte, 64)
			c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			if _, err := c.Read(buf); !isTimeout(err) {
				t.Fatalf("got %v; want a timeout", err)
			}
			// The answer comes, its loop reports it, and the read that
			// takes it leaves the queue empty.
			pc.Write([]byte("answer"))
			if !pollWoken(c) {
				t.Fatal("the loop reported no bytes")
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(buf); string(buf[:n]) != "answer" || err != nil {
				t.Fatalf("got %q, %v; want \"answer\"", buf[:n], err)
			}
			if !c.Quiet() {
				t.Fatal("not quiet after a short read with nothing since")
			}
			if tt.after == nil {
				return
			}
			tt.after(pc)
			for deadline := time.Now().Add(5 * time.Second); c.Quiet(); {
				if time.Now().After(deadline) {
					t.Fatal("still quiet after the peer's bytes, end or reset")
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// TestQuietUnregistered: a socket whose read found its bytes at once is
// in no loop, which could have told nothing since: Quiet cannot tell.
func TestQuietUnregistered(t *testing.T) {
	c, pc := dialPair(t)
	pc.Write([]byte("answer"))
	for deadline := time.Now().Add(5 * time.Second); c.Empty(); {
		if time.Now().After(deadline) {
			t.Fatal("the bytes never came")
		}
		time.Sleep(time.Millisecond)
	}
	buf := make([]byte, 64)
	if n, err := c.Read(buf); string(buf[:n]) != "answer" || err != nil {
		t.Fatalf("got %q, %v; want \"answer\"", buf[:n], err)
	}
	if inLoop(c) {
		t.Fatal("the read of bytes already there waited in a loop")
	}
	if c.Quiet() {
		t.Error("quiet for a socket in no loop")
	}
}

// pollWoken polls until c's loop has left a wake-up for its reads, for
// 5 s at most.
func pollWoken(c *Conn) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		woken := len(c.w.rch) > 0
		c.mu.Unlock()
		if woken {
			return true
		}
	}
	return false
}

// inLoop reports whether c's socket is in a loop now.
func inLoop(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loop != nil
}

// TestQuietKeepAlive follows an accepted connection between requests, as
// http1 reads it: a ReadNow that takes a request leaves Quiet unable to
// tell while the socket is in no loop; once its wait put it in one, the
// read of the next request makes it quiet until the request after it.
func TestQuietKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := NewAcceptor(ln.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c, err := a.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	readNow := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			n, err := c.ReadNow(buf, time.Now().UnixNano())
			if err == ErrAgain && time.Now().Before(deadline) {
				continue
			}
			if string(buf[:n]) != want || err != nil {
				t.Fatalf("got %q, %v; want %q", buf[:n], err, want)
			}
			return
		}
	}
	peer.Write([]byte("one"))
	readNow("one")
	if c.Quiet() {
		t.Fatal("quiet for a socket in no loop")
	}
	if _, err := c.ReadNow(buf, time.Now().UnixNano()); err != ErrAgain {
		t.Fatalf("got %v; want ErrAgain", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.WaitReadable() }()
	if !pollRegistered(c) {
		t.Fatal("the wait never registered")
	}
	peer.Write([]byte("two"))
	if err := <-done; err != nil {
		t.Fatalf("WaitReadable: %v", err)
	}
	if c.Quiet() {
		t.Fatal("quiet after a wake-up, before the read")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(buf); string(buf[:n]) != "two" || err != nil {
		t.Fatalf("got %q, %v; want \"two\"", buf[:n], err)
	}
	if !c.Quiet() {
		t.Fatal("not quiet after the request's short read")
	}
	peer.Write([]byte("three"))
	for deadline := time.Now().Add(5 * time.Second); c.Quiet(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still quiet after the next request came")
		}
	}
	readNow("three")
}
