//go:build linux

package netpoll

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadWriteDescriptors: Read and Write move bytes on a socket
// (recvfrom and sendto) and on a descriptor that is not one (a pipe:
// read and write), and report a pipe's end and its EAGAIN as on a socket.
func TestReadWriteDescriptors(t *testing.T) {
	c, peer := pair(t)
	var cfd, pfd int
	rawConn(t, c).Control(func(fd uintptr) { cfd = int(fd) })
	rawConn(t, peer).Control(func(fd uintptr) { pfd = int(fd) })
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]) })
	for _, tc := range []struct {
		name   string
		wfd    int
		rfd    int
		finish func()
	}{
		{"socket", cfd, pfd, func() { c.(*net.TCPConn).CloseWrite() }},
		{"pipe", p[1], p[0], func() { unix.Close(p[1]) }},
	} {
		buf := make([]byte, 16)
		if _, err := Read(tc.rfd, buf); err != ErrAgain {
			t.Errorf("%s: read of nothing: %v; want ErrAgain", tc.name, err)
		}
		if n, err := Write(tc.wfd, []byte("hello")); n != 5 || err != nil {
			t.Fatalf("%s: write: %d, %v; want 5, nil", tc.name, n, err)
		}
		// The socket's bytes cross loopback: poll until they are there.
		var n int
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if n, err = Read(tc.rfd, buf); err != ErrAgain {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("%s: read: %q, %v; want hello", tc.name, buf[:n], err)
		}
		tc.finish()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if n, err = Read(tc.rfd, buf); err != ErrAgain {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if n != 0 || err != nil {
			t.Errorf("%s: read at the end: %d, %v; want 0, nil", tc.name, n, err)
		}
	}
}
