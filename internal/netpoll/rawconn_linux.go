//go:build linux

package netpoll

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// This file gives a Conn's socket to code that works on descriptors (the
// tunnel's event loops, the keepalive probe), as *net.TCPConn's
// SyscallConn does, and sets the TCP options the proxy uses.

// sockConn is a Conn as a syscall.RawConn.
type sockConn Conn

// SyscallConn returns c's socket as a syscall.RawConn. Its callbacks run
// with the descriptor held open: Close waits for them to return, so a
// callback must not close c. Read and Write call f until it reports done,
// waiting between calls for the socket in c's loop under the direction's
// deadline, as net's do; the descriptor is never duplicated, and c stays
// its only owner (its Close is the one close).
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return (*sockConn)(c), nil }

func (rc *sockConn) Control(f func(fd uintptr)) error {
	c := (*Conn)(rc)
	if !c.incref() {
		return c.opError("raw-control", net.ErrClosed)
	}
	f(uintptr(c.fd))
	c.decref()
	return nil
}

func (rc *sockConn) Read(f func(fd uintptr) bool) error {
	return (*Conn)(rc).rawWait(opRead, "raw-read", f)
}

func (rc *sockConn) Write(f func(fd uintptr) bool) error {
	return (*Conn)(rc).rawWait(opWrite, "raw-write", f)
}

// rawWait calls f until it reports done, waiting for the socket to be
// ready for op between calls.
func (c *Conn) rawWait(op int, name string, f func(fd uintptr) bool) error {
	if !c.incref() {
		return c.opError(name, net.ErrClosed)
	}
	defer c.decref()
	tp, dl, ws := &c.w.rt, &c.rd, &c.rw
	if op != opRead {
		tp, dl, ws = &c.w.wt, &c.wd, &c.ww
	} else {
		// f may read some of what is there and leave the rest.
		c.drained.Store(false)
	}
	// One clock reading per wait: the deadline check's, which the park
	// after it arms its timer from.
	now, err := c.waitableAt(dl)
	if err != nil {
		return c.opError(name, err)
	}
	// ch is nil until the first registration (Conn.chans): no wake-up
	// can be waiting in it then.
	ch := c.waitChan(op)
	for drain(ch); !f(uintptr(c.fd)); drain(ch) {
		if err := c.register(op); err != nil {
			return c.opError(name, err)
		}
		if c.closed() {
			// Close's wake-up may have been drained above.
			return c.opError(name, net.ErrClosed)
		}
		ch = c.waitChan(op)
		parkCounted(ch, tp, dl, ws, now)
		if now, err = c.waitableAt(dl); err != nil {
			return c.opError(name, err)
		}
	}
	return nil
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Addr: c.RemoteAddr(), Err: err}
}

// SetNoDelay sets TCP_NODELAY, as (*net.TCPConn).SetNoDelay; nginx sets
// it on both sockets of an upgraded connection (tcp_nodelay, on by
// default). Turning it on where this Conn already did makes no system
// call (nginx's NGX_TCP_NODELAY_SET).
func (c *Conn) SetNoDelay(on bool) error {
	if on && c.noDelay.Load() {
		return nil
	}
	err := c.setsockopt(unix.IPPROTO_TCP, unix.TCP_NODELAY, on, "TCP_NODELAY")
	if err == nil {
		c.noDelay.Store(on)
	}
	return err
}

// SetKeepAlive sets SO_KEEPALIVE with the system's probe timings, as
// proxy_socket_keepalive and listen's "so_keepalive=on" do.
func (c *Conn) SetKeepAlive(on bool) error {
	return c.setsockopt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, on, "SO_KEEPALIVE")
}

func (c *Conn) setsockopt(level, opt int, on bool, name string) error {
	if !c.incref() {
		return c.opError("set", net.ErrClosed)
	}
	defer c.decref()
	v := 0
	if on {
		v = 1
	}
	if err := unix.SetsockoptInt(c.fd, level, opt, v); err != nil {
		return c.opError("set", os.NewSyscallError("setsockopt "+name, err))
	}
	return nil
}

var _ syscall.Conn = (*Conn)(nil)
