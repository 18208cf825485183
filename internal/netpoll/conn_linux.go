//go:build linux

package netpoll

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is a connected TCP socket that never enters Go's poller: reads and
// writes are direct system calls, and only one that finds the socket not
// ready waits, through its Waiter, under the deadline set for its
// direction. A deadline costs nothing until then; the socket costs no
// *os.File and no registration with Go's poller. The socket goes into a
// loop of the Default poller at its first wait (edge-triggered
// readability; writability only once a write or connect has had to wait)
// and leaves it at Close, or at Unregister.
//
// A Conn is full duplex, as a *net.TCPConn: a Read and a Write may run
// (and wait) at the same time in two goroutines; deadlines, Close,
// CloseWrite and Shutdown may come from any goroutine. Close wakes every
// wait, which fails with net.ErrClosed, and waits for the operations
// under way (and the callbacks of SyscallConn) to return before it
// closes the descriptor, once.
type Conn struct {
	fd    int
	name  string // the peer, for errors: "read 127.0.0.1:3000: ..."; "": raddr's
	raddr netip.AddrPort
	laddr netip.AddrPort // known without asking (Acceptor); else zero
	w     *Waiter
	pl    *Poller
	own   Waiter // w for a Conn with its own Waiter (Dial, Accept)

	// state counts the operations under way (the low bits) and holds
	// closedBit once Close has begun; closing is locked by Close while
	// it waits and unlocked by whoever ends the last operation.
	state   atomic.Int64
	closing sync.Mutex

	rd, wd atomic.Int64 // deadlines, Unix nanoseconds; 0: none
	// rw and ww count the waits parked (or about to park) on the read and
	// write channels: a deadline set while none is wakes nothing
	// (setDeadline).
	rw, ww atomic.Int32

	parkFn atomic.Pointer[func()] // Park's request

	mu   sync.Mutex // guards the registration
	loop *Loop      // nil until the first wait
	tok  Token      // the registration in loop; guarded by loop's lock too
	out  bool       // registered for writability too

	// dialed is set for a socket Dial or DialTCP connected: its first
	// read waits for the answer to what its owner writes first.
	dialed bool
	// drained is set when a read of the socket came back short: its
	// receive queue was empty then (a TCP read takes all there is, up to
	// the room given), and whatever arrives since is an edge its loop
	// reports (or its registration, for a socket not in a loop yet).
	// Quiet tells from it that nothing came since. A dialled Conn's next
	// read then waits for that edge without first trying the
	// read that would find nothing, as nginx's ngx_unix_recv clears
	// rev->ready after a short read. Only for a
	// Conn with its own Waiter (Dial, Accept), which notes the end of
	// input (hup): a short read does not take an end of input queued
	// behind its bytes, whose edge came before it. ReadNow sets it too
	// when it found nothing. Any other read of the socket (SyscallConn's,
	// Unregister's new owner) clears it: it may leave bytes behind.
	drained atomic.Bool
	// hup is set by the own Waiter once the loop reported the end of
	// input or an error (EPOLLRDHUP, EPOLLHUP, EPOLLERR), before it
	// wakes the reads: nginx's rev->pending_eof.
	hup atomic.Bool
	// noDelay is set once SetNoDelay(true) succeeded: a second call
	// (a dialled upstream socket upgraded to a tunnel) makes no system
	// call, as nginx's c->tcp_nodelay state spares it.
	noDelay atomic.Bool
}

const closedBit = 1 << 62

// Operations a Conn waits for.
const (
	opRead = iota
	opWrite
	opConnect
)

// setup makes c the Conn of fd, connected to raddr, waiting through w
// (nil: c's own Waiter).
func (c *Conn) setup(fd int, raddr netip.AddrPort, name string, w *Waiter, pl *Poller) {
	*c = Conn{fd: fd, name: name, raddr: raddr, w: w, pl: pl}
	if w == nil {
		// Its channels are made at its first registration for a wait
		// (register): a connection whose bytes are there when read (a
		// request that came with the handshake's ACK) or that is only
		// parked never needs them.
		c.w = &c.own
		c.own.c = c
		return
	}
	c.w.init()
}

// chans returns the wake-up channels of c's Waiter, nil before its first
// registration for a wait; read under c.mu, which register makes them
// under, so that a wake from another goroutine (Close, a deadline) finds
// them or finds that no wait can have begun.
func (c *Conn) chans() (r, w chan struct{}) {
	c.mu.Lock()
	r, w = c.w.rch, c.w.wch
	c.mu.Unlock()
	return r, w
}

// waitChan is the channel a wait for op parks on (chans).
func (c *Conn) waitChan(op int) chan struct{} {
	r, w := c.chans()
	if op == opRead {
		return r
	}
	return w
}

// wakeAll wakes the waits of both directions.
func (c *Conn) wakeAll() {
	r, w := c.chans()
	wake(r)
	wake(w)
}

// incref begins an operation; false once c is closing.
func (c *Conn) incref() bool {
	for {
		s := c.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if c.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// decref ends an operation; the last one after Close began lets Close
// go on.
func (c *Conn) decref() {
	if c.state.Add(-1) == closedBit {
		c.closing.Unlock()
	}
}

// closed reports whether Close has begun.
func (c *Conn) closed() bool { return c.state.Load()&closedBit != 0 }

// expired reports whether the deadline d (Unix nanoseconds; 0: none) has
// passed.
func expired(d int64) bool { return d != 0 && time.Now().UnixNano() >= d }

// wait does op on c with p until it is done, fails, c is closed, or the
// direction's deadline passes. The caller holds a reference. n is what a
// read or write moved.
func (c *Conn) wait(op int, p []byte) (n int, err error) {
	skip := false
	if op == opRead {
		if c.drained.Swap(false) && c.dialed && !c.hup.Load() {
			// Nothing has come since the last read, or its edge is on
			// the way: wait for it without a read that would find
			// nothing, and without draining a wake-up that may be its.
			// A socket not in a loop yet goes in now, and the
			// registration reports what came since.
			skip = true
		} else if c.unregistered() {
			// A first read that would wait (an upstream's answer) yields
			// once first: the other goroutines' ready work runs meanwhile,
			// and a peer that answers within it costs no registration, no
			// event and no wake-up through the loop, and its close no
			// removal from the loop's set. A dialled socket's first read
			// follows its owner's first write, so it is not tried before
			// the yield: the answer is not there yet.
			if !c.dialed {
				if n, errn, done := c.try(op, p); done {
					return n, errnErr(errn)
				}
			}
			runtime.Gosched()
			if n, errn, done := c.try(op, p); done {
				c.noteShort(n, errn, len(p))
				return n, errnErr(errn)
			}
		}
	}
	if err := c.register(op); err != nil {
		return 0, err
	}
	ch, tp, dl, ws := c.w.rch, &c.w.rt, &c.rd, &c.rw
	if op != opRead {
		ch, tp, dl, ws = c.w.wch, &c.w.wt, &c.wd, &c.ww
	}
	// now is the clock reading of the latest deadline check, which the
	// next park arms its timer from: one reading per wait.
	var now int64
	checked := false
	for {
		if !skip {
			drain(ch)
			n, errn, done := c.try(op, p)
			if done {
				if op == opRead {
					c.noteShort(n, errn, len(p))
				}
				return n, errnErr(errn)
			}
		}
		skip = false
		if !checked {
			var err error
			if now, err = c.waitableAt(dl); err != nil {
				return 0, err
			}
		} else if c.closed() {
			return 0, net.ErrClosed
		}
		parkCounted(ch, tp, dl, ws, now)
		var err error
		if now, err = c.waitableAt(dl); err != nil {
			return 0, err
		}
		checked = true
	}
}

// noteShort sets drained after a read of n bytes into room bytes that
// came back short, for a Conn with its own Waiter.
func (c *Conn) noteShort(n int, errn unix.Errno, room int) {
	if errn == 0 && n > 0 && n < room && c.w == &c.own {
		c.drained.Store(true)
	}
}

// errnErr is errn as an error: nil for 0.
func errnErr(errn unix.Errno) error {
	if errn != 0 {
		return errn
	}
	return nil
}

// unregistered reports whether c's socket is in no loop yet.
func (c *Conn) unregistered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loop == nil
}

// waitableAt returns why a wait under the deadline in dl must end: c is
// closing, or the deadline passed; now is the clock reading it checked
// the deadline with (Unix nanoseconds; 0 when there is none).
func (c *Conn) waitableAt(dl *atomic.Int64) (now int64, err error) {
	if c.closed() {
		return 0, net.ErrClosed
	}
	if d := dl.Load(); d != 0 {
		now = time.Now().UnixNano()
		if now >= d {
			return now, os.ErrDeadlineExceeded
		}
	}
	return now, nil
}

// register puts c's socket in a loop for what op waits for: readability,
// and writability only for a write or a connect (a socket that is
// writable at once would wake the loop for nothing). It is
// edge-triggered: data, end of input or an error that arrive after the
// registration wake the Waiter once each, and what is there at
// registration wakes it too.
func (c *Conn) register(op int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.init()
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

// Unregister takes c's socket out of its loop's set (one epoll_ctl) when
// a wait put it there, for a caller that now waits for the socket by
// other means (a tunnel's event loop): its events then wake nothing
// here. A later wait registers it again. No goroutine may be waiting
// on c meanwhile: a Conn with its own Waiter lets its deadline timers
// go too (a long-lived tunnel would keep them for nothing), to be made
// again by a later wait under a deadline.
func (c *Conn) Unregister() {
	if !c.incref() {
		return
	}
	defer c.decref()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == &c.own {
		c.own.release()
	}
	// Its loop no longer reports what arrives.
	c.drained.Store(false)
	if c.loop == nil {
		return
	}
	c.loop.Unwatch(c.fd, &c.tok)
	c.loop, c.out = nil, false
}

// Park asks for *fn to be called once, in a loop's goroutine, when the
// socket becomes readable (bytes, end of input, an error), for a
// connection no goroutine waits for (an idle HTTP connection): the
// caller's read found nothing. The socket's registration is made or
// re-armed (one epoll_ctl), which reports a readiness that came since
// that read too. Unpark takes the request back; *fn must not block. Only
// for a Conn with its own Waiter (Dial, Acceptor).
func (c *Conn) Park(fn *func()) error {
	if !c.incref() {
		return net.ErrClosed
	}
	defer c.decref()
	if c.w == &c.own {
		// No goroutine waits while parked: the deadline timers go, to
		// be made again by the next wait under a deadline.
		c.own.release()
	}
	// The readiness goes to *fn, not to a read's wait.
	c.drained.Store(false)
	c.parkFn.Store(fn)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loop == nil {
		c.loop = c.pl.Pick()
	}
	if err := c.loop.WatchFD(c.fd, c.w, c.out, &c.tok); err != nil {
		c.parkFn.Store(nil)
		if c.tok == 0 {
			c.loop = nil
		}
		return err
	}
	return nil
}

// Empty reports whether nothing waits to be read on c's socket yet: one
// recv(2) with MSG_PEEK|MSG_DONTWAIT that finds nothing. Bytes, the
// input's end, an error or a closed c are not empty. It lets the accept
// loop park a fresh connection that has sent nothing (Park) without a
// goroutine reading it first.
func (c *Conn) Empty() bool {
	if !c.incref() {
		return false
	}
	defer c.decref()
	var b [1]byte
	_, err := PeekInto(uintptr(c.fd), b[:])
	return err == unix.EAGAIN
}

// Unpark takes Park's request back and reports whether it was still
// pending: true means its function has not been called and will not be.
func (c *Conn) Unpark() bool { return c.parkFn.Swap(nil) != nil }

// try does op once; done is false when the socket is not ready yet.
func (c *Conn) try(op int, p []byte) (n int, errn unix.Errno, done bool) {
	for {
		var r uintptr
		var e unix.Errno
		switch op {
		// A Conn is always a socket (accepted or dialled): recvfrom and
		// sendto as Read and Write, nginx's recv and send.
		case opRead:
			r, _, e = unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
		case opWrite:
			r, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
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

// Read reads through the loop: the socket goes into it at the first read
// that waits, which on the request path almost always waits for the
// upstream's answer, so that the wait costs no read that finds nothing
// before the registration. A read deadline that has passed fails the read
// before it is tried, as net's does.
func (c *Conn) Read(p []byte) (int, error) {
	if !c.incref() {
		return 0, c.pathError("read", net.ErrClosed)
	}
	defer c.decref()
	if expired(c.rd.Load()) {
		return 0, c.pathError("read", os.ErrDeadlineExceeded)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.wait(opRead, p)
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
	if !c.incref() {
		return 0, c.pathError("write", net.ErrClosed)
	}
	defer c.decref()
	if expired(c.wd.Load()) {
		return 0, c.pathError("write", os.ErrDeadlineExceeded)
	}
	n := 0
	for n < len(p) {
		m, err := Write(c.fd, p[n:])
		n += m
		if err != nil {
			return n, c.pathError("write", err.(*os.SyscallError).Err)
		}
		if n < len(p) {
			m, err := c.wait(opWrite, p[n:])
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
	name := c.name
	if name == "" {
		name = c.raddr.String()
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}

// ReadNow reads c once without waiting, as Now.Read does through
// SyscallConn, for a caller that has just read the clock: now (Unix
// nanoseconds) is checked against the read deadline, so the read reads
// the clock no more. ErrAgain when nothing is there yet, io.EOF at its
// end; other errors are *os.SyscallError "read", or a closed c's or a
// passed deadline's as Read's.
func (c *Conn) ReadNow(p []byte, now int64) (int, error) {
	if !c.incref() {
		return 0, c.pathError("read", net.ErrClosed)
	}
	if d := c.rd.Load(); d != 0 && now >= d {
		c.decref()
		return 0, c.pathError("read", os.ErrDeadlineExceeded)
	}
	// It may leave bytes behind.
	c.drained.Store(false)
	own := c.w == &c.own
	if own {
		// A wake-up waiting now is for bytes this read sees: any edge
		// after it is new, and WaitReadable waits for that one.
		drain(c.waitChan(opRead))
	}
	n, err := Read(c.fd, p)
	if own && (err == unix.EAGAIN || err == nil && n > 0 && n < len(p)) {
		// It found the queue empty, or left it so.
		c.drained.Store(true)
	}
	c.decref()
	switch {
	case err == unix.EAGAIN:
		return 0, ErrAgain
	case err != nil:
		return 0, os.NewSyscallError("read", err)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// WaitReadable waits, after a ReadNow that found nothing (or with Quiet
// true), until c's loop reports an edge since that read (the socket goes into a loop now if it
// is in none, and the registration reports what came meanwhile), the read
// deadline passes, or c is closed. It reads nothing: the caller reads
// next, and the read may still find nothing. It spares the look (a
// MSG_PEEK) a wait through SyscallConn's Read makes before it waits, as
// nginx waits for a keep-alive connection's next event without a read.
// Only for a Conn with its own Waiter (accepted, or Dial's).
func (c *Conn) WaitReadable() error {
	if !c.incref() {
		return c.opError("raw-read", net.ErrClosed)
	}
	defer c.decref()
	now, err := c.waitableAt(&c.rd)
	if err != nil {
		return c.opError("raw-read", err)
	}
	if err := c.register(opRead); err != nil {
		return c.opError("raw-read", err)
	}
	if c.closed() {
		return c.opError("raw-read", net.ErrClosed)
	}
	parkCounted(c.waitChan(opRead), &c.w.rt, &c.rd, &c.rw, now)
	// The wake-up may be the edge of what came since.
	c.drained.Store(false)
	if _, err := c.waitableAt(&c.rd); err != nil {
		return c.opError("raw-read", err)
	}
	return nil
}

// WriteNow writes as much of p as the socket takes at once and returns
// how much that was.
func (c *Conn) WriteNow(p []byte) int {
	if !c.incref() {
		return 0
	}
	n, _ := Write(c.fd, p)
	c.decref()
	return n
}

// WriteNow2 writes as much of a then b as the socket takes at once, in
// one system call (Write2), and returns how much that was; 0 also for a
// socket that is not a stream socket or failed: the caller's write
// through Write then says why.
func (c *Conn) WriteNow2(a, b []byte) int {
	if !c.incref() {
		return 0
	}
	n, _ := Write2(c.fd, a, b)
	c.decref()
	return n
}

// Close wakes every wait on c, waits for the operations under way to
// return, takes the socket out of its loop and closes it. Only the
// first Close closes; later ones fail with net.ErrClosed.
func (c *Conn) Close() error {
	if c.closed() {
		return c.pathError("close", net.ErrClosed)
	}
	c.closing.Lock()
	for {
		s := c.state.Load()
		if s&closedBit != 0 {
			// Another Close won meanwhile and has finished.
			c.closing.Unlock()
			return c.pathError("close", net.ErrClosed)
		}
		if c.state.CompareAndSwap(s, s|closedBit) {
			if s == 0 {
				c.closing.Unlock()
			}
			break
		}
	}
	c.wakeAll()
	c.closing.Lock() // until the last operation has ended
	c.closing.Unlock()
	if c.w == &c.own {
		// Its armed deadline timers would keep c until they fire.
		c.own.release()
	}
	c.mu.Lock()
	if c.loop != nil {
		c.loop.Forget(&c.tok)
		c.loop = nil
	}
	c.mu.Unlock()
	if err := unix.Close(c.fd); err != nil {
		return c.pathError("close", err)
	}
	return nil
}

// Shutdown ends both directions of the socket, from any goroutine: a read
// waiting in the loop wakes to the end of input.
func (c *Conn) Shutdown() {
	if c.incref() {
		unix.Shutdown(c.fd, unix.SHUT_RDWR)
		c.decref()
	}
}

// CloseWrite shuts the sending half (FIN), as (*net.TCPConn).CloseWrite.
func (c *Conn) CloseWrite() error {
	if !c.incref() {
		return c.pathError("close", net.ErrClosed)
	}
	defer c.decref()
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		return c.pathError("shutdown", err)
	}
	return nil
}

// SetDeadline sets both directions' deadlines; a wait under way ends by
// the new one (a deadline in the past ends it at once), as net's.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	setDeadline(&c.rd, unixNano(t), &c.w.rch, &c.rw)
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	setDeadline(&c.wd, unixNano(t), &c.w.wch, &c.ww)
	return nil
}

// setDeadline stores the deadline d in dl and wakes the waits on ch (ws
// counts them) when they must end sooner than they would. A wait is
// woken by its deadline's timer no later than the old deadline, and then
// waits again under the new one (park), so a deadline moved later or
// cleared needs no wake-up; nor does any deadline when no wait is
// parked. A wake-up for nobody would be left in ch for the next wait,
// which would then try its operation once for nothing (and a read after
// a short one would not wait for the edge: Conn.drained). A wait counts
// itself before it loads the deadline it parks under (parkCounted), so
// either it parks under d or ws shows it here.
//
// ch is read only once a wait is counted: a Conn's own channels are made
// by its first registration (Conn.chans), which comes before the count,
// so the count orders that read after their making.
func setDeadline(dl *atomic.Int64, d int64, ch *chan struct{}, ws *atomic.Int32) {
	if old := dl.Swap(d); d != 0 && (old == 0 || d < old) && ws.Load() != 0 {
		wake(*ch)
	}
}

// parkCounted is park under the deadline in dl, counted in ws for
// setDeadline; now is the caller's clock reading (see park).
func parkCounted(ch chan struct{}, dt *deadlineTimer, dl *atomic.Int64, ws *atomic.Int32, now int64) {
	ws.Add(1)
	park(ch, dt, dl.Load(), now)
	ws.Add(-1)
}

// unixNano is t in Unix nanoseconds, 0 for the zero time (no deadline);
// any time before 1970 counts as passed.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	n := t.UnixNano()
	if n <= 0 {
		n = 1
	}
	return n
}

func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// RemoteAddrPort is RemoteAddr without a net.Addr to allocate.
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.raddr }

// LocalAddr is the listener's address for a connection accepted on a
// specific one; otherwise the socket is asked (getsockname), when called,
// as nginx's ngx_connection_local_sockaddr does.
func (c *Conn) LocalAddr() net.Addr {
	if ap := c.LocalAddrPort(); ap.IsValid() {
		return net.TCPAddrFromAddrPort(ap)
	}
	return &net.TCPAddr{}
}

// LocalAddrPort is LocalAddr without a net.Addr to allocate; the zero
// AddrPort when the socket is closed.
func (c *Conn) LocalAddrPort() netip.AddrPort {
	if c.laddr.IsValid() {
		return c.laddr
	}
	if c.incref() {
		defer c.decref()
		var sa unix.RawSockaddrAny
		n := uint32(unsafe.Sizeof(sa))
		_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(c.fd), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&n)))
		if ap := sockaddrPort(&sa); e == 0 {
			return ap
		}
	}
	return netip.AddrPort{}
}

// waitConnected waits for a connect in progress to finish, until deadline
// (zero: none), and returns its error (as net's connect does: SO_ERROR,
// then getpeername against spurious wake-ups).
func (c *Conn) waitConnected(deadline time.Time) error {
	c.wd.Store(unixNano(deadline))
	defer c.wd.Store(0)
	if !c.incref() {
		return net.ErrClosed
	}
	defer c.decref()
	_, err := c.wait(opConnect, nil)
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError("connect", errno)
	}
	return err
}

var _ net.Conn = (*Conn)(nil)
