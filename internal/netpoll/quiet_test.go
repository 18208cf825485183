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
