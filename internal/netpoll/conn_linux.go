//go:build linux

package netpoll

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiter is where a goroutine waits for its Conn's socket: a wake-up
// channel that the socket's loop fills and a timer for the deadline, both
// made once. Keep one per goroutine that dials (a connection worker) and
// reuse it for its connections, one at a time: a Waiter is a Handler of
// the Default poller and must outlive the registrations it was given; a
// wake-up left from an earlier connection is harmless (the operation is
// tried again and waits again).
type Waiter struct {
	ch    chan struct{}
	timer *time.Timer
}

// Ready wakes the goroutine waiting in w, or the next one to wait.
func (w *Waiter) Ready(*Loop, Event) {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// park waits for a wake-up until deadline (zero: none).
func (w *Waiter) park(deadline time.Time) error {
	if deadline.IsZero() {
		<-w.ch
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.ch:
		w.timer.Stop()
		return nil
	case <-w.timer.C:
		return os.ErrDeadlineExceeded
	}
}

// Conn is a connected TCP socket made by DialTCP, for a connection that
// carries one request head and is then read to its end and closed: reads
// and writes are direct system calls, and only one that finds the socket
// not ready waits, through its Waiter, under the deadline set for it. A
// deadline costs nothing until then; the socket costs no *os.File and no
// registration with Go's poller. The socket goes into a loop of the
// Default poller at its first wait (edge-triggered readability;
// writability only once a write or connect has had to wait) and leaves it
// at Close. Methods are for the goroutine that owns the Conn; Shutdown may
// come from another.
type Conn struct {
	fd    int // -1 once closed
	name  string
	raddr netip.AddrPort
	w     *Waiter
	pl    *Poller
	loop  *Loop // nil until the first wait
	tok   Token // the registration in loop; guarded by loop's lock
	out   bool  // registered for writability too
	rd    time.Time
	wd    time.Time
}

// Operations a Conn waits for.
const (
	opRead = iota
	opWrite
	opConnect
)

// DialTCP connects c to addr, an IP literal with a port. It does without
// net's dialer: on loopback the connect has finished when the call
// returns, and then it costs no wait for writability, no local address
// lookup and no TCP_NODELAY (nginx sets none on such a connection either:
// one write, then only reads). socket, connect and getpeername are made
// directly (none of them blocks on a non-blocking socket), with the
// address on the stack. ok is false when addr is not an IP literal or
// there is no event loop, for net's dialer to take over. deadline bounds
// the connect (proxy_connect_timeout); zero means none. w is where c
// waits.
func DialTCP(c *Conn, w *Waiter, addr string, deadline time.Time) (ok bool, err error) {
	ap, perr := netip.ParseAddrPort(addr)
	if perr != nil || ap.Addr().Zone() != "" {
		return false, nil
	}
	pl, perr := Default()
	if perr != nil {
		return false, nil
	}
	if w.ch == nil {
		w.ch = make(chan struct{}, 1)
	}
	ip := ap.Addr().Unmap()
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	var sa4 unix.RawSockaddrInet4
	var sa6 unix.RawSockaddrInet6
	family, sa, salen := unix.AF_INET, unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	port := ap.Port()
	if ip.Is6() {
		family, sa, salen = unix.AF_INET6, unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
		sa6.Family = unix.AF_INET6
		sa6.Addr = ip.As16()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], port)
	} else {
		sa4.Family = unix.AF_INET
		sa4.Addr = ip.As4()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port)
	}
	r, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return true, opErr(os.NewSyscallError("socket", e))
	}
	fd := int(r)
	_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(sa), salen)
	connected := false
	switch e {
	case 0, unix.EISCONN:
		connected = true
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		// Connected already (loopback) when the peer's name is known.
		var peer unix.RawSockaddrAny
		n := uint32(unsafe.Sizeof(peer))
		_, _, pe := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&peer)), uintptr(unsafe.Pointer(&n)))
		connected = pe == 0
	default:
		unix.Close(fd)
		return true, opErr(os.NewSyscallError("connect", e))
	}
	*c = Conn{fd: fd, name: addr, raddr: ap, w: w, pl: pl}
	if !connected {
		if err := c.waitConnected(deadline); err != nil {
			c.Close()
			return true, opErr(err)
		}
	}
	return true, nil
}

// wait does op on c with p until it is done, fails, or deadline (zero:
// none) passes, trying it first. n is what a read or write moved.
func (c *Conn) wait(op int, p []byte, deadline time.Time) (n int, err error) {
	if err := c.register(op); err != nil {
		return 0, err
	}
	for {
		n, errn, done := c.try(op, p)
		if done {
			if errn != 0 {
				return n, errn
			}
			return n, nil
		}
		if err := c.w.park(deadline); err != nil {
			return 0, err
		}
	}
}

// register puts c's socket in a loop for what op waits for: readability,
// and writability only for a write or a connect (a socket that is
// writable at once would wake the loop for nothing). It is
// edge-triggered: data, end of input or an error that arrive after the
// registration wake the Waiter once each, and what is there at
// registration wakes it too.
func (c *Conn) register(op int) error {
	out := op != opRead || c.out
	if c.loop != nil && c.out == out {
		return nil
	}
	if c.loop == nil {
		c.loop = c.pl.Pick()
	}
	if err := c.loop.WatchFD(c.fd, c.w, out, &c.tok); err != nil {
		return err
	}
	c.out = out
	return nil
}

// try does op once; done is false when the socket is not ready yet.
func (c *Conn) try(op int, p []byte) (n int, errn unix.Errno, done bool) {
	for {
		var r uintptr
		var e unix.Errno
		switch op {
		case opRead:
			r, _, e = unix.RawSyscall(unix.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		case opWrite:
			r, _, e = unix.RawSyscall(unix.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		default:
			v, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return 0, err.(unix.Errno), true
			}
			switch e := unix.Errno(v); e {
			case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
				return 0, 0, false
			case 0, unix.EISCONN:
				// Against spurious wake-ups, as net's connect.
				_, err := unix.Getpeername(c.fd)
				return 0, 0, err == nil
			default:
				return 0, e, true
			}
		}
		switch e {
		case 0:
			return int(r), 0, true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, 0, false
		}
		return 0, e, true
	}
}

// Read reads through the loop: the socket goes into it at the first read,
// which on the request path almost always waits for the upstream's
// answer, so that the wait costs no read that finds nothing before the
// registration.
func (c *Conn) Read(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "read", Path: c.name, Err: os.ErrClosed}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.wait(opRead, p, c.rd)
	if err != nil {
		return 0, c.pathError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes p, waiting under the write deadline while the socket takes
// no more.
func (c *Conn) Write(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "write", Path: c.name, Err: os.ErrClosed}
	}
	n := 0
	for n < len(p) {
		m, err := Write(c.fd, p[n:])
		n += m
		if err != nil {
			return n, c.pathError("write", err.(*os.SyscallError).Err)
		}
		if n < len(p) {
			m, err := c.wait(opWrite, p[n:], c.wd)
			if err != nil {
				return n, c.pathError("write", err)
			}
			n += m
		}
	}
	return n, nil
}

// pathError is err as an *os.File's: "read 127.0.0.1:3000: ...".
func (c *Conn) pathError(op string, err error) error {
	return &os.PathError{Op: op, Path: c.name, Err: err}
}

// WriteNow writes as much of p as the socket takes at once and returns
// how much that was.
func (c *Conn) WriteNow(p []byte) int {
	n, _ := Write(c.fd, p)
	return n
}

// Close closes the socket, which takes it out of its loop's set.
func (c *Conn) Close() error {
	if c.fd < 0 {
		return &os.PathError{Op: "close", Path: c.name, Err: os.ErrClosed}
	}
	fd := c.fd
	c.fd = -1
	if c.loop != nil {
		c.loop.Forget(&c.tok)
		c.loop = nil
	}
	if err := unix.Close(fd); err != nil {
		return c.pathError("close", err)
	}
	return nil
}

// Shutdown ends both directions of the socket, from any goroutine while
// the owner has not closed it: a read waiting in the loop wakes to the
// end of input.
func (c *Conn) Shutdown() {
	unix.Shutdown(c.fd, unix.SHUT_RDWR)
}

func (c *Conn) SetDeadline(t time.Time) error      { c.rd, c.wd = t, t; return nil }
func (c *Conn) SetReadDeadline(t time.Time) error  { c.rd = t; return nil }
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd = t; return nil }

func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// LocalAddr asks the socket (getsockname), as nothing on the request
// path needs it.
func (c *Conn) LocalAddr() net.Addr {
	if c.fd >= 0 {
		switch sa, _ := unix.Getsockname(c.fd); sa := sa.(type) {
		case *unix.SockaddrInet4:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
		case *unix.SockaddrInet6:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		}
	}
	return &net.TCPAddr{}
}

// waitConnected waits for a connect in progress to finish, until deadline
// (zero: none), and returns its error (as net's connect does: SO_ERROR,
// then getpeername against spurious wake-ups).
func (c *Conn) waitConnected(deadline time.Time) error {
	_, err := c.wait(opConnect, nil, deadline)
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError("connect", errno)
	}
	return err
}

var _ net.Conn = (*Conn)(nil)
