//go:build unix && !linux

package netpoll

import (
	"os"

	"golang.org/x/sys/unix"
)

// Read is one read(2) of a non-blocking socket: 0 bytes and no error is
// its end, ErrAgain (unix.EAGAIN) that nothing is there yet; any other
// error is the bare errno.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}

// Write writes p to a non-blocking socket until it is written or the
// socket takes no more (EAGAIN: fewer bytes and no error). Errors are
// *os.SyscallError "write".
func Write(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return done, nil
		case err != nil:
			return done, os.NewSyscallError("write", err)
		case n <= 0:
			return done, nil
		}
	}
	return done, nil
}

// Peek looks at a socket's input without consuming it and without
// waiting (recv(2) with MSG_PEEK|MSG_DONTWAIT). Call it inside
// RawConn.Control or Read, which holds fd open.
func Peek(fd uintptr) PeekState {
	var b [1]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return PeekEmpty
	case err != nil || n == 0:
		return PeekEnd
	}
	return PeekData
}

// PeekInto copies what waits on a socket, up to len(p), into p without
// consuming it and without waiting (recv(2) with MSG_PEEK|MSG_DONTWAIT).
// 0 bytes and no error is the input's end; unix.EAGAIN that nothing is
// there yet; any other error is the bare errno.
func PeekInto(fd uintptr, p []byte) (int, error) {
	for {
		n, _, err := unix.Recvfrom(int(fd), p, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}
