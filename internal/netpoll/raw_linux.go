//go:build linux

package netpoll

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read is one read of a non-blocking socket: 0 bytes and no error is
// its end, ErrAgain (unix.EAGAIN) that nothing is there yet; any other
// error is the bare errno. A raw system call: on a non-blocking socket it
// never waits, so the runtime need not prepare a hand-off of its P. It is
// recvfrom(2) with no flags and no address, as nginx's recv: the socket
// call skips read(2)'s file layers (the position lock, the permission and
// notification hooks); a descriptor that is not a socket is read(2).
func Read(fd int, p []byte) (int, error) {
	nr := uintptr(unix.SYS_RECVFROM)
	for {
		n, _, e := unix.RawSyscall6(nr, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.ENOTSOCK:
			if nr != unix.SYS_READ {
				nr = unix.SYS_READ
				continue
			}
		}
		return 0, e
	}
}

// Write writes p to a non-blocking socket until it is written or the
// socket takes no more (EAGAIN: fewer bytes and no error). Errors are
// *os.SyscallError "write". A raw system call, as Read: sendto(2) with
// MSG_NOSIGNAL and no address, as nginx's send (a peer gone is EPIPE
// without a SIGPIPE to deliver); a descriptor that is not a socket is
// write(2).
func Write(fd int, p []byte) (int, error) {
	done := 0
	nr, flags := uintptr(unix.SYS_SENDTO), uintptr(unix.MSG_NOSIGNAL)
	for done < len(p) {
		n, _, e := unix.RawSyscall6(nr, uintptr(fd), uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done), flags, 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.ENOTSOCK && nr != unix.SYS_WRITE:
			nr, flags = unix.SYS_WRITE, 0
			continue
		case e == unix.EAGAIN:
			return done, nil
		case e != 0:
			return done, os.NewSyscallError("write", e)
		case n == 0:
			return done, nil
		}
		done += int(n)
	}
	return done, nil
}

// Write2 is one sendmsg(2) of a then b to a non-blocking socket, with
// MSG_NOSIGNAL as Write: how much of the two the socket took at once
// (EAGAIN: 0 and no error). A raw system call, as Write. The caller
// sends what is left otherwise.
func Write2(fd int, a, b []byte) (int, error) {
	iov := [2]unix.Iovec{
		{Base: unsafe.SliceData(a), Len: uint64(len(a))},
		{Base: unsafe.SliceData(b), Len: uint64(len(b))},
	}
	msg := unix.Msghdr{Iov: &iov[0], Iovlen: 2}
	for {
		n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, os.NewSyscallError("sendmsg", e)
	}
}

// Peek looks at a socket's input without consuming it and without
// waiting (recv(2) with MSG_PEEK|MSG_DONTWAIT, as a raw system call with
// no source address, so that it allocates nothing). Call it inside
// RawConn.Control or Read, which holds fd open.
func Peek(fd uintptr) PeekState {
	var b [1]byte
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	switch {
	case e == unix.EAGAIN || e == unix.EINTR:
		return PeekEmpty
	case e != 0 || n == 0:
		return PeekEnd
	}
	return PeekData
}

// PeekInto copies what waits on a socket, up to len(p), into p without
// consuming it and without waiting (recv(2) with MSG_PEEK|MSG_DONTWAIT,
// raw as Peek). 0 bytes and no error is the input's end; unix.EAGAIN
// that nothing is there yet; any other error is the bare errno.
func PeekInto(fd uintptr, p []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}
