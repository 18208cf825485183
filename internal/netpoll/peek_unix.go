//go:build unix

package netpoll

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// PeekConn waits until c has input, or c's read deadline passes, and
// copies what waits, up to len(p), into p without consuming it. It lets a
// reader look at bytes before it knows how many are its own: the PROXY
// protocol reader takes exactly the header and leaves what follows (a TLS
// ClientHello, a request head) in the socket, as ngx_http_ssl_handshake
// peeks at it. 0 bytes and no error is the input's end. ErrUnsupported
// when c is not a socket (a syscall.Conn).
func PeekConn(c net.Conn, p []byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		n, perr = PeekInto(fd, p)
		return perr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	if perr != nil {
		return 0, os.NewSyscallError("recvfrom", perr)
	}
	return n, nil
}
