package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the one-shot upstream connection: a socket dialed without
// net's dialer for one HTTP/1.0 request head, waiting in its worker's
// epoll set (shotPoller) instead of the runtime's poller.

// dialOneShot connects sc to addr, an IP literal with a port, for a
// connection that carries one request head and is then read to its end
// and closed. It does without net's dialer: on loopback the connect has
// finished when the call returns, and then it costs no wait for
// writability, no local address lookup and no TCP_NODELAY (nginx sets
// none on such a connection either: one write, then only reads). socket,
// connect and getpeername are made directly (none of them blocks on a
// non-blocking socket), with the address on the stack. The socket waits,
// when it must, in pl (see shotConn). ok is false when addr is not an IP
// literal, for net's dialer to take over. deadline is
// proxy_connect_timeout's; zero means none.
func dialOneShot(sc *shotConn, pl *shotPoller, addr string, deadline time.Time) (ok bool, err error) {
	ap, perr := netip.ParseAddrPort(addr)
	if perr != nil || ap.Addr().Zone() != "" {
		return false, nil
	}
	ip := ap.Addr().Unmap()
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	var sa4 syscall.RawSockaddrInet4
	var sa6 syscall.RawSockaddrInet6
	family, sa, salen := syscall.AF_INET, unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	port := ap.Port()
	if ip.Is6() {
		family, sa, salen = syscall.AF_INET6, unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
		sa6.Family = syscall.AF_INET6
		sa6.Addr = ip.As16()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], port)
	} else {
		sa4.Family = syscall.AF_INET
		sa4.Addr = ip.As4()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port)
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if e != 0 {
		return true, opErr(os.NewSyscallError("socket", e))
	}
	fd := int(r)
	_, _, e = syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(sa), salen)
	connected := false
	switch e {
	case 0, syscall.EISCONN:
		connected = true
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		// Connected already (loopback) when the peer's name is known.
		var peer syscall.RawSockaddrAny
		n := uint32(unsafe.Sizeof(peer))
		_, _, pe := syscall.RawSyscall(syscall.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&peer)), uintptr(unsafe.Pointer(&n)))
		connected = pe == 0
	default:
		syscall.Close(fd)
		return true, opErr(os.NewSyscallError("connect", e))
	}
	*sc = shotConn{fd: fd, name: addr, raddr: ap, pl: pl}
	if !connected {
		if err := sc.waitConnected(deadline); err != nil {
			sc.Close()
			return true, opErr(err)
		}
	}
	return true, nil
}

// shotPoller is where the sockets of one-shot upstream connections wait:
// an epoll set of its own, itself a file in Go's poller, into which a
// socket goes at its first read (or at a write or connect that must
// wait). A goroutine that waits for its socket waits for the set to
// become readable, under the set's read deadline. A socket leaves the set when it is closed (it is never
// duplicated), so such a connection costs no *os.File, no registration
// with Go's poller of its own and no epoll_ctl to leave. Each connection
// worker makes one at its first one-shot dial and closes it when it ends;
// only the goroutine that owns it may use it, one connection at a time.
type shotPoller struct {
	epfd  int
	f     *os.File // owns epfd
	rc    syscall.RawConn
	armed time.Time // f's read deadline; zero: none
	fn    func(fd uintptr) bool
	// The wait in progress: the connection, the operation and its
	// buffer, and the result.
	c    *shotConn
	op   int
	p    []byte
	n    int
	errn syscall.Errno
}

// Operations a shotPoller waits for.
const (
	shotRead = iota
	shotWrite
	shotConnect
)

// newShotPoller makes an epoll set and puts it in Go's poller.
func newShotPoller() (*shotPoller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating epoll set: %w", os.NewSyscallError("epoll_create1", err))
	}
	// Non-blocking, so that os.NewFile puts it in Go's poller.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("setting epoll set non-blocking: %w", err)
	}
	pl := &shotPoller{epfd: fd, f: os.NewFile(uintptr(fd), "epoll")}
	pl.rc, err = pl.f.SyscallConn()
	if err != nil {
		pl.f.Close()
		return nil, fmt.Errorf("polling epoll set: %w", err)
	}
	pl.fn = pl.try
	return pl, nil
}

// close closes the set; no connection may be waiting in it.
func (pl *shotPoller) close() {
	if pl != nil {
		pl.f.Close()
	}
}

// wait does op on c with p until it is done, fails, or deadline (zero:
// none) passes, trying it first. n is what a read or write moved. The
// set's read deadline is the wait's; it stays armed after the wait, for
// the next one with the same deadline.
func (pl *shotPoller) wait(c *shotConn, op int, p []byte, deadline time.Time) (n int, err error) {
	if err := pl.register(c, op); err != nil {
		return 0, err
	}
	if !deadline.Equal(pl.armed) {
		pl.f.SetReadDeadline(deadline)
		pl.armed = deadline
	}
	pl.c, pl.op, pl.p, pl.n, pl.errn = c, op, p, 0, 0
	err = pl.rc.Read(pl.fn)
	n, errn := pl.n, pl.errn
	pl.c, pl.p = nil, nil
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, os.ErrDeadlineExceeded
		}
		return 0, err
	}
	if errn != 0 {
		return n, errn
	}
	return n, nil
}

// register puts c's socket in the set for what op waits for: readability,
// and writability only for a write or a connect (a socket that is
// writable at once would wake the set for nothing). It is edge-triggered:
// data, end of input or an error that arrive after the registration wake
// the set once each, and what is there at registration wakes it too.
func (pl *shotPoller) register(c *shotConn, op int) error {
	events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP | unix.EPOLLET)
	if op != shotRead || c.events&syscall.EPOLLOUT != 0 {
		events |= syscall.EPOLLOUT
	}
	if c.events == events {
		return nil
	}
	ctl := syscall.EPOLL_CTL_ADD
	if c.events != 0 {
		ctl = syscall.EPOLL_CTL_MOD
	}
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(pl.epfd, ctl, c.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	c.events = events
	return nil
}

// try is the set's RawConn.Read callback: it tries the wait's operation
// on its socket and reports whether it is done (false: not ready yet).
func (pl *shotPoller) try(uintptr) bool {
	c := pl.c
	for {
		var r uintptr
		var e syscall.Errno
		switch pl.op {
		case shotRead:
			r, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(pl.p))), uintptr(len(pl.p)))
		case shotWrite:
			r, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(pl.p))), uintptr(len(pl.p)))
		default:
			n, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
			if err != nil {
				pl.errn = err.(syscall.Errno)
				return true
			}
			switch e := syscall.Errno(n); e {
			case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
				return false
			case 0, syscall.EISCONN:
				// Against spurious wake-ups, as net's connect.
				_, err := syscall.Getpeername(c.fd)
				return err == nil
			default:
				pl.errn = e
				return true
			}
		}
		switch e {
		case 0:
			pl.n = int(r)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		pl.errn = e
		return true
	}
}

// shotConn is a connected TCP socket of a one-shot upstream connection
// (dialOneShot): reads and writes are made directly, and only one that
// finds the socket not ready waits, in its worker's shotPoller, under the
// deadline set for it. A deadline costs nothing until then. Close and the
// other methods are for the goroutine that owns the connection; shutdown
// may come from another.
type shotConn struct {
	fd     int // -1 once closed
	name   string
	raddr  netip.AddrPort
	pl     *shotPoller
	events uint32 // what fd is registered for in pl; 0: not in it
	rd, wd time.Time
}

// Read reads through the poller: the socket goes into the set at the
// first read, which on the request path almost always waits for the
// upstream's answer, so that the wait costs no read that finds nothing
// before the registration.
func (c *shotConn) Read(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "read", Path: c.name, Err: os.ErrClosed}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.pl.wait(c, shotRead, p, c.rd)
	if err != nil {
		return 0, c.pathError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *shotConn) Write(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "write", Path: c.name, Err: os.ErrClosed}
	}
	n := 0
	for n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		switch e {
		case 0:
			n += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			m, err := c.pl.wait(c, shotWrite, p[n:], c.wd)
			if err != nil {
				return n, c.pathError("write", err)
			}
			n += m
		default:
			return n, c.pathError("write", e)
		}
	}
	return n, nil
}

// pathError is err as an *os.File's: "read 127.0.0.1:3000: ...".
func (c *shotConn) pathError(op string, err error) error {
	return &os.PathError{Op: op, Path: c.name, Err: err}
}

// writeNow writes as much of p as the socket takes at once and returns
// how much that was.
func (c *shotConn) writeNow(p []byte) int {
	n := 0
	for n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || int(r) <= 0 {
			break
		}
		n += int(r)
	}
	return n
}

// Close closes the socket, which takes it out of its shotPoller's set.
func (c *shotConn) Close() error {
	if c.fd < 0 {
		return &os.PathError{Op: "close", Path: c.name, Err: os.ErrClosed}
	}
	fd := c.fd
	c.fd = -1
	if err := syscall.Close(fd); err != nil {
		return c.pathError("close", err)
	}
	return nil
}

// shutdown ends both directions of the socket, from any goroutine while
// the owner has not closed it: a read waiting in the set wakes to the end
// of input.
func (c *shotConn) shutdown() {
	syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
}

func (c *shotConn) SetDeadline(t time.Time) error      { c.rd, c.wd = t, t; return nil }
func (c *shotConn) SetReadDeadline(t time.Time) error  { c.rd = t; return nil }
func (c *shotConn) SetWriteDeadline(t time.Time) error { c.wd = t; return nil }

func (c *shotConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// LocalAddr asks the socket (getsockname), as nothing on the request
// path needs it.
func (c *shotConn) LocalAddr() net.Addr {
	if c.fd >= 0 {
		switch sa, _ := syscall.Getsockname(c.fd); sa := sa.(type) {
		case *syscall.SockaddrInet4:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
		case *syscall.SockaddrInet6:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		}
	}
	return &net.TCPAddr{}
}

// waitConnected waits for a connect in progress to finish, until deadline
// (zero: none), and returns its error (as net's connect does: SO_ERROR,
// then getpeername against spurious wake-ups).
func (c *shotConn) waitConnected(deadline time.Time) error {
	_, err := c.pl.wait(c, shotConnect, nil, deadline)
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError("connect", errno)
	}
	return err
}
