//go:build linux

package netpoll

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Acceptor takes connections from a listening TCP socket with accept4(2)
// (SOCK_NONBLOCK|SOCK_CLOEXEC), as raw Conns: the new socket never enters
// Go's poller, and costs no getsockname (LocalAddr asks when called) and
// no TCP_NODELAY unless asked. The listening socket itself still waits in
// Go's poller, through a second descriptor of it (a net.Listener's
// RawConn cannot wait): Close ends a waiting Accept with net.ErrClosed,
// as a listener's Close does. One goroutine accepts at a time.
type Acceptor struct {
	file   *os.File // the second descriptor, in Go's poller
	closed atomic.Bool
	rc     syscall.RawConn // file's
	// laddr is the listener's address when it names one (not a
	// wildcard): every connection's local address.
	laddr netip.AddrPort
	fn    func(fd uintptr) bool
	nfd   int
	errn  unix.Errno
	sa    unix.RawSockaddrAny
}

// NewAcceptor makes an Acceptor for l's socket. l keeps its own
// descriptor: close both (l, then the Acceptor) to close the socket.
func NewAcceptor(l *net.TCPListener) (*Acceptor, error) {
	lrc, err := l.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := lrc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	a := &Acceptor{file: os.NewFile(uintptr(nfd), "listener")}
	if a.rc, err = a.file.SyscallConn(); err != nil {
		a.file.Close()
		return nil, err
	}
	a.fn = a.accept
	if ta, ok := l.Addr().(*net.TCPAddr); ok {
		if ap := ta.AddrPort(); !ap.Addr().IsUnspecified() {
			a.laddr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	return a, nil
}

// Close closes the Acceptor's descriptor, which ends a waiting Accept.
func (a *Acceptor) Close() error {
	a.closed.Store(true)
	return a.file.Close()
}

// Accept waits for the next connection. Errors are *net.OpError "accept":
// a transient one (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves the listener
// usable, as net's. A connection aborted before it was taken
// (ECONNABORTED) is skipped, as net's accept does.
func (a *Acceptor) Accept() (*Conn, error) {
	pl, err := Default()
	if err != nil {
		return nil, err
	}
	for {
		a.nfd, a.errn = -1, 0
		if err := a.rc.Read(a.fn); err != nil {
			if a.closed.Load() {
				err = net.ErrClosed
			}
			return nil, &net.OpError{Op: "accept", Net: "tcp", Err: err}
		}
		if a.errn == unix.ECONNABORTED {
			continue
		}
		if a.errn != 0 {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", a.errn)}
		}
		c := new(Conn)
		c.setup(a.nfd, sockaddrPort(&a.sa), "", nil, pl)
		c.laddr = a.laddr
		return c, nil
	}
}

// accept is the RawConn.Read callback: one accept4, done unless the
// queue is empty.
func (a *Acceptor) accept(fd uintptr) bool {
	for {
		n := uint32(unsafe.Sizeof(a.sa))
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, fd, uintptr(unsafe.Pointer(&a.sa)), uintptr(unsafe.Pointer(&n)),
			unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch e {
		case 0:
			a.nfd = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		a.errn = e
		return true
	}
}

// sockaddrPort is an accepted peer's address.
func sockaddrPort(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		s := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&s.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(s.Addr), port)
	case unix.AF_INET6:
		s := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&s.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(s.Addr), port)
	}
	return netip.AddrPort{}
}
