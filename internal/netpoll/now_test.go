//go:build unix

package netpoll

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// pair returns a connected loopback TCP pair.
func pair(t *testing.T) (c, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	peer, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return c, peer
}

func rawConn(t *testing.T, c net.Conn) syscall.RawConn {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// TestNowReadPeek checks Now.Read and Peek on a socket with nothing, with
// bytes, and at its end.
func TestNowReadPeek(t *testing.T) {
	c, peer := pair(t)
	rc := rawConn(t, c)
	var x Now
	peek := func() PeekState {
		var st PeekState
		rc.Control(func(fd uintptr) { st = Peek(fd) })
		return st
	}
	buf := make([]byte, 16)
	if st := peek(); st != PeekEmpty {
		t.Errorf("peek on an empty socket: got %d; want PeekEmpty", st)
	}
	if n, err := x.Read(rc, buf); n != 0 || err != ErrAgain {
		t.Errorf("read on an empty socket: got %d, %v; want ErrAgain", n, err)
	}
	peer.Write([]byte("hi"))
	for deadline := time.Now().Add(5 * time.Second); !Readable(rc) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if st := peek(); st != PeekData {
		t.Errorf("peek with bytes waiting: got %d; want PeekData", st)
	}
	if n, err := x.Read(rc, buf); string(buf[:n]) != "hi" || err != nil {
		t.Errorf("read: got %q, %v; want \"hi\"", buf[:n], err)
	}
	peer.Close()
	for deadline := time.Now().Add(5 * time.Second); !Readable(rc) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if st := peek(); st != PeekEnd {
		t.Errorf("peek at the end: got %d; want PeekEnd", st)
	}
	if n, err := x.Read(rc, buf); n != 0 || err != io.EOF {
		t.Errorf("read at the end: got %d, %v; want EOF", n, err)
	}
}

// TestNowWrite checks that Now.Write writes what the socket takes and
// never waits for the rest.
func TestNowWrite(t *testing.T) {
	c, _ := pair(t)
	rc := rawConn(t, c)
	var w Now
	for _, tc := range []struct {
		name    string
		size    int
		partial bool
	}{
		{"small", 100, false},
		{"more than the socket buffers", 64 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			n, err := w.Write(rc, make([]byte, tc.size))
			if err != nil {
				t.Fatalf("got %v; want no error", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("write took %v; want no waiting", took)
			}
			if tc.partial && (n <= 0 || n >= tc.size) {
				t.Errorf("got %d bytes written; want some but not all %d", n, tc.size)
			}
			if !tc.partial && n != tc.size {
				t.Errorf("got %d bytes written; want %d", n, tc.size)
			}
		})
	}
}
