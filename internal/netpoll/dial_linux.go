//go:build linux

package netpoll

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DialTCP connects c to addr, an IP literal with a port, for a connection
// that carries one request head and is then read to its end and closed
// by the goroutine that owns it: c waits through w, a Waiter that goroutine
// keeps and reuses for its connections one at a time, and c itself may be
// reused once closed. It does without net's dialer: on loopback the
// connect has finished when the call returns, and then it costs no wait
// for writability, no local address lookup and no TCP_NODELAY (nginx sets
// none on such a connection either: one write, then only reads). socket,
// connect and getpeername are made directly (none of them blocks on a
// non-blocking socket), with the address on the stack. ok is false when
// addr is not an IP literal or there is no event loop, for net's dialer
// to take over. deadline bounds the connect (proxy_connect_timeout); zero
// means none.
func DialTCP(c *Conn, w *Waiter, addr string, deadline time.Time) (ok bool, err error) {
	return dial(c, w, addr, netip.AddrPort{}, deadline)
}

// Dial connects to addr as DialTCP does, for a connection of its own: the
// Conn has its own Waiter, and it is full duplex (a tunnel reads and
// writes it from two goroutines, or takes its descriptor through
// SyscallConn). local, when valid, is the address the socket binds
// before it connects (proxy_bind); with port 0 the kernel picks the port
// at the connect (IP_BIND_ADDRESS_NO_PORT, as nginx sets it), so that one
// local address serves more than 64K connections to distinct peers. A
// local address of the other family than addr's leaves the dial to net's
// dialer (ok false), which reports the mismatch.
func Dial(addr string, local netip.AddrPort, deadline time.Time) (c *Conn, ok bool, err error) {
	c = new(Conn)
	if ok, err = dial(c, nil, addr, local, deadline); !ok || err != nil {
		return nil, ok, err
	}
	return c, true, nil
}

func dial(c *Conn, w *Waiter, addr string, local netip.AddrPort, deadline time.Time) (ok bool, err error) {
	ap, perr := netip.ParseAddrPort(addr)
	if perr != nil || ap.Addr().Zone() != "" {
		return false, nil
	}
	if local.IsValid() && (local.Addr().Unmap().Is4() != ap.Addr().Unmap().Is4() || local.Addr().Zone() != "") {
		return false, nil
	}
	pl, perr := Default()
	if perr != nil {
		return false, nil
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
	if local.IsValid() {
		if err := bindLocal(fd, local); err != nil {
			unix.Close(fd)
			return true, opErr(err)
		}
	}
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
	c.setup(fd, ap, addr, w, pl)
	c.dialed = true
	if !connected {
		if err := c.waitConnected(deadline); err != nil {
			c.Close()
			return true, opErr(err)
		}
	}
	return true, nil
}

// bindLocal binds the socket fd to local before its connect
// (ngx_event_connect_peer with a local address).
func bindLocal(fd int, local netip.AddrPort) error {
	if local.Port() == 0 {
		// The port is chosen at the connect, per destination.
		if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
			return os.NewSyscallError("setsockopt(IP_BIND_ADDRESS_NO_PORT)", err)
		}
	}
	var sa unix.Sockaddr
	if ip := local.Addr().Unmap(); ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(local.Port()), Addr: ip.As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(local.Port()), Addr: ip.As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}
