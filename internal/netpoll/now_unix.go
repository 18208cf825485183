//go:build unix

package netpoll

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Now reads and writes a socket through its syscall.RawConn without
// waiting for it. A write that the socket takes whole needs no write
// deadline, which is what send_timeout and proxy_send_timeout bound: the
// wait for a socket that takes no more (nginx arms them only when a write
// would block). The zero value is ready to use; keep one per connection
// or relay direction and use it from one goroutine at a time, as each
// call reuses its callbacks instead of allocating them.
type Now struct {
	p   []byte
	n   int
	err error
	rfn func(fd uintptr) bool
	wfn func(fd uintptr) bool
}

// Read reads rc's socket once without waiting: ErrAgain when nothing is
// there, io.EOF at its end; other errors are *os.SyscallError "read", or
// rc's own (a closed conn).
func (x *Now) Read(rc syscall.RawConn, p []byte) (int, error) {
	if x.rfn == nil {
		x.rfn = x.read
	}
	x.p, x.n, x.err = p, 0, nil
	err := rc.Read(x.rfn)
	n, rerr := x.n, x.err
	x.p, x.err = nil, nil
	if err != nil {
		return 0, err
	}
	if rerr == nil && n == 0 {
		return 0, io.EOF
	}
	return n, rerr
}

func (x *Now) read(fd uintptr) bool {
	n, err := Read(int(fd), x.p)
	switch {
	case err == unix.EAGAIN:
		x.err = ErrAgain
	case err != nil:
		x.err = os.NewSyscallError("read", err)
	default:
		x.n = n
	}
	return true // never wait: the caller decides
}

// Write writes as much of p to rc's socket as it takes at once and
// returns how much that was; fewer bytes and no error when the socket
// takes no more. The error is the write's (*os.SyscallError "write") or
// rc's (a closed conn, an expired write deadline): the caller writes the
// rest the ordinary way, under a deadline, or meets the error.
func (x *Now) Write(rc syscall.RawConn, p []byte) (int, error) {
	if x.wfn == nil {
		x.wfn = x.write
	}
	x.p, x.n, x.err = p, 0, nil
	err := rc.Write(x.wfn)
	n, werr := x.n, x.err
	x.p, x.err = nil, nil
	if err == nil {
		err = werr
	}
	return n, err
}

func (x *Now) write(fd uintptr) bool {
	x.n, x.err = Write(int(fd), x.p)
	return true // never wait for the socket: the caller does that under its deadline
}

// PeekState is what Peek found on a socket.
type PeekState uint8

const (
	PeekEmpty PeekState = iota // nothing to read yet (EAGAIN, EINTR)
	PeekData                   // bytes are waiting
	PeekEnd                    // end of input (FIN) or an error
)

// Readable reports whether rc's socket has input (bytes or end of input)
// now, without waiting or consuming it (poll(2) with a zero timeout).
func Readable(rc syscall.RawConn) bool {
	ready := false
	rc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		ready = err == nil && n > 0 && pfd[0].Revents&unix.POLLIN != 0
	})
	return ready
}
