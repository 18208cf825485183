package tunnel

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"wsgate/internal/ws"
)

// Request bits stored in copier.req; the low 16 bits hold a Close code.
const (
	reqPark  uint32 = 1 << 29 // the tunnel is idle: hand src to the Parker and end the goroutine
	reqClose uint32 = 1 << 30 // send a Close to dst at the next frame boundary, then drain src
	reqDrain uint32 = 1 << 31 // dst is gone: stop forwarding, read src until its Close
)

// copier states (frame-aware mode).
const (
	stateRelay   = iota // forward everything
	stateClosing        // forward up to the next frame boundary, then send our Close
	stateDrain          // our Close was sent (or dst is gone): read and discard until src's Close
)

// errDrained ends a copier whose drain finished.
var errDrained = errors.New("drained")

// errNoBoundary ends a copier that owed a Close but lost the frame structure.
var errNoBoundary = errors.New("no frame boundary for close")

// longAgo is a deadline in the past, used to interrupt a blocked Read.
var longAgo = time.Unix(1, 0)

// copier moves one direction of a tunnel: reads src, writes dst. Its
// goroutine is the only writer to dst, so a Close frame it sends can never
// tear a frame apart. The tunnel's event handlers talk to it through req.
type copier struct {
	t        *tunnel
	dir      direction
	src, dst net.Conn
	other    *copier
	pending  []byte        // bytes read past the handshake, sent first
	counter  *atomic.Int64 // the Handle's live byte count for this direction
	mask     bool          // dst is the upstream: frames we send are masked (RFC 6455 5.3)
	goneCode uint16        // Close code sent to dst when src goes away without Close

	req    atomic.Uint32
	reason atomic.Pointer[string]
	// closePassed is set once a Close frame, relayed or ours, has been
	// written whole to dst.
	closePassed atomic.Bool

	// Owned by the copier goroutine (one at a time: a resumed copier runs
	// in a new goroutine).
	state      int
	tr         ws.Tracker
	sentClose  bool
	noted      bool    // the Close of src was reported to the tunnel
	parkedOnce bool    // the copier has parked: a resume clears the interrupt first
	small      *[]byte // smallBufferSize bytes from smallPool; nil while parked
	big        *[]byte // from Options.Pool while reads fill more than small
	own        []byte  // large buffer when Options.Pool is nil

	// Non-blocking first write (see writeN); dstRC is nil when dst has no
	// socket.
	dstRC   syscall.RawConn
	writeFn func(fd uintptr) bool
	wp      []byte
	wn      int
	werr    error

	srcRC  syscall.RawConn       // src's socket, for the Parker; nil when src has none
	readFn func(fd uintptr) bool // non-blocking read of rawRead
	rp     []byte
	rn     int
	rerr   error

	// Left by the event loop for the copier's goroutine (Options.Loop):
	// bytes read and processed that dst did not take without blocking,
	// and how the last read ended (io.EOF or an error) when it ended src.
	unwritten []byte
	stash     error
	parkTok   uint64 // Parker registration while parked, 0 otherwise; guarded by Parker.mu

	ended bool // guarded by tunnel.mu
}

// smallPool holds the smallBufferSize read buffers of running copiers.
var smallPool = sync.Pool{New: func() any {
	b := make([]byte, smallBufferSize)
	return &b
}}

// rawConn returns the socket of a conn that exposes one through
// SyscallConn (*net.TCPConn, *net.UnixConn, or a caller's own socket conn
// such as the proxy's dialled upstream), nil for any other conn (TLS).
func rawConn(conn net.Conn) syscall.RawConn {
	if sc, ok := conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// setup prepares the raw socket access of the non-blocking write path and
// of parking before the copier starts: srcRC and dstRC are the sockets of
// src and dst (rawConn), nil for conns without one.
func (c *copier) setup(srcRC, dstRC syscall.RawConn) {
	c.srcRC = srcRC
	if srcRC != nil {
		c.readFn = c.tryRead
	}
	if dstRC != nil {
		c.dstRC = dstRC
		c.writeFn = c.tryWrite
	}
}

// request asks the copier to close (reqClose with code) or drain, and
// interrupts a Read it may be blocked in. The copier keeps the first request
// of each kind; a drain overrides a pending close.
func (c *copier) request(kind uint32, code uint16, reason string) {
	if kind == reqClose {
		c.reason.CompareAndSwap(nil, &reason)
	}
	for {
		old := c.req.Load()
		nv := old | kind
		if kind == reqClose && old&reqClose == 0 {
			nv |= uint32(code)
		}
		if c.req.CompareAndSwap(old, nv) {
			break
		}
	}
	c.src.SetReadDeadline(longAgo)
	if kind != reqPark && c.t.parker != nil {
		c.t.parker.unpark(c)
	}
}

// copyClientToUpstream and copyUpstreamToClient run the userspace relay;
// the names make goroutine dumps say which way a tunnel is stuck.
func (c *copier) copyClientToUpstream() { c.run() }
func (c *copier) copyUpstreamToClient() { c.run() }

// resume continues a parked copier in a new goroutine.
func (c *copier) resume() {
	c.t.armPark()
	c.run()
}

func (c *copier) run() {
	e, parked := c.copy()
	if parked {
		return // the copier may already run in another goroutine
	}
	c.releaseBuffers()
	c.t.onEnd(e)
}

// spliceClientToUpstream and spliceUpstreamToClient run the kernel splice
// relay.
func (c *copier) spliceClientToUpstream() { c.t.onEnd(c.splice()) }
func (c *copier) spliceUpstreamToClient() { c.t.onEnd(c.splice()) }

// releaseBuffers gives the read buffers back to their pools.
func (c *copier) releaseBuffers() {
	if c.small != nil {
		smallPool.Put(c.small)
		c.small = nil
	}
	if c.big != nil {
		c.t.opts.Pool.Put(c.big)
		c.big = nil
	}
	c.own = nil
}

// readBuffer returns the buffer for the next read: a large one while reads
// fill more than the small one, the small one otherwise.
func (c *copier) readBuffer() []byte {
	switch {
	case c.big != nil:
		return *c.big
	case c.own != nil:
		return c.own
	}
	if c.small == nil {
		c.small = smallPool.Get().(*[]byte)
	}
	return *c.small
}

// sized adapts the read buffer to a read of n bytes into buf: a read that
// fills the small buffer switches to a large one, which is kept while
// reads bring more than the small one holds (a stream) and given back at
// the first read that does not.
func (c *copier) sized(n int, buf []byte) {
	large := c.big != nil || c.own != nil
	switch {
	case !large && n == len(buf):
		if pool := c.t.opts.Pool; pool != nil {
			c.big = pool.Get()
		} else {
			c.own = make([]byte, DefaultBufferSize)
		}
	case large && n <= smallBufferSize:
		if c.big != nil {
			c.t.opts.Pool.Put(c.big)
			c.big = nil
		}
		c.own = nil
	}
}

// park hands src to the Parker. It reports whether the goroutine must end
// (a new one resumes the copier); false means a request or an error came
// first and the copier goes on.
func (c *copier) park() bool {
	for {
		old := c.req.Load()
		if c.req.CompareAndSwap(old, old&^reqPark) {
			if old&^reqPark != 0 {
				return false
			}
			break
		}
	}
	p := c.t.parker
	if p == nil || c.t.forced.Load() {
		return false
	}
	c.releaseBuffers()
	c.parkedOnce = true // set before registering: a resume may start at once
	if err := p.park(c); err != nil {
		return false
	}
	// A request or forceClose may have tried to wake the copier before it
	// was registered: take the registration back and go on here.
	if c.req.Load() != 0 || c.t.forced.Load() {
		return !p.take(c)
	}
	return true
}

func (c *copier) end(kind endKind, err error) copierEnd {
	if c.t.forced.Load() {
		kind, err = endAborted, nil
	}
	return copierEnd{dir: c.dir, kind: kind, err: err}
}

// copy relays with userspace buffers (see readBuffer and sized), until the
// copier ends or parks (parked true: the copier's goroutine must end).
// It starts over after a park: a request that woke the copier is handled
// first.
func (c *copier) copy() (e copierEnd, parked bool) {
	if c.unwritten != nil {
		p := c.unwritten
		c.unwritten = nil
		if err := c.write(p); err != nil {
			return c.end(endWriteError, err), false
		}
		if c.t.opts.FrameAware {
			c.notePassed()
		}
	}
	if err := c.stash; err != nil {
		c.stash = nil
		return c.sourceEnded(err), false
	}
	if len(c.pending) > 0 {
		p := c.pending
		c.pending = nil
		c.t.touch()
		if e, done := c.process(p); done {
			return e, false
		}
	}
	if c.req.Load()&^reqPark != 0 || c.parkedOnce {
		// Resumed: clear the park interrupt and act on requests so far.
		if e, done := c.onRequest(); done {
			return e, false
		}
	}
	for {
		buf := c.readBuffer()
		var n int
		var err error
		if c.t.loop && c.state == stateRelay && c.req.Load() == 0 {
			// Never block: a read that would wait parks the direction
			// in the event loop. A closing direction stays here.
			n, err = c.rawRead(buf)
			if err == unix.EAGAIN {
				if c.park() {
					return copierEnd{}, true
				}
				if c.req.Load() != 0 || c.t.forced.Load() {
					if e, done := c.onRequest(); done {
						return e, false
					}
					continue
				}
				// The Parker is closed: wait here, with a buffer taken
				// again (park gave the last one back).
				buf = c.readBuffer()
				n, err = c.src.Read(buf)
			}
		} else {
			n, err = c.src.Read(buf)
		}
		if n > 0 {
			c.t.touch()
			if e, done := c.process(buf[:n]); done {
				return e, false
			}
			c.sized(n, buf)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.req.Load() == 0 && !c.t.forced.Load() {
			// A stale interrupt: request set its bit, an earlier
			// onRequest cleared the bit and the deadline, then request
			// set the deadline. Read deadlines here only interrupt, so
			// clear it and read on.
			c.src.SetReadDeadline(time.Time{})
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.req.Load() != 0 && !c.t.forced.Load() {
			if c.req.Load() == reqPark {
				if c.park() {
					return copierEnd{}, true
				}
			}
			if e, done := c.onRequest(); done {
				return e, false
			}
			continue
		}
		return c.sourceEnded(err), false
	}
}

// onRequest handles a request after an interrupted Read: it clears the
// interrupt, then acts on every request bit set so far. A park request
// left is dropped: the copier is busy again.
func (c *copier) onRequest() (copierEnd, bool) {
	c.src.SetReadDeadline(time.Time{})
	for {
		old := c.req.Load()
		if old&reqPark == 0 || c.req.CompareAndSwap(old, old&^reqPark) {
			break
		}
	}
	return c.process(nil)
}

// applyRequest moves the state machine on according to req.
func (c *copier) applyRequest() {
	r := c.req.Load()
	switch {
	case r&reqDrain != 0:
		c.state = stateDrain
	case r&reqClose != 0 && c.state == stateRelay:
		c.state = stateClosing
	}
}

// process handles one chunk read from src (or none, after a request). It
// returns done when the copier must end.
func (c *copier) process(p []byte) (copierEnd, bool) {
	if !c.t.opts.FrameAware {
		if err := c.write(p); err != nil {
			return c.end(endWriteError, err), true
		}
		return copierEnd{}, false
	}
	if c.req.Load() != 0 {
		c.applyRequest()
	}
	for {
		switch c.state {
		case stateRelay:
			if len(p) == 0 {
				return copierEnd{}, false
			}
			c.feed(p) // a lost Tracker keeps relaying; it only can't place a Close
			c.noteClose()
			if err := c.write(p); err != nil {
				return c.end(endWriteError, err), true
			}
			c.notePassed()
			return copierEnd{}, false
		case stateClosing:
			if c.tr.AtBoundary() {
				if _, seen, _ := c.tr.CloseSeen(); !seen {
					if err := c.sendClose(); err != nil {
						return c.end(endWriteError, err), true
					}
				}
				c.state = stateDrain
				continue
			}
			if c.tr.Err() != nil {
				return c.end(endLost, nil), true
			}
			if len(p) == 0 {
				return copierEnd{}, false
			}
			n, _ := c.feedFrame(p)
			c.noteClose()
			if err := c.write(p[:n]); err != nil {
				return c.end(endWriteError, err), true
			}
			c.notePassed()
			p = p[n:]
		case stateDrain:
			c.tr.Feed(p)
			if _, _, done := c.tr.CloseSeen(); done || c.tr.Err() != nil {
				return c.end(endDrained, nil), true
			}
			return copierEnd{}, false
		}
	}
}

// noteClose reports the first complete Close frame from src to the tunnel.
func (c *copier) noteClose() {
	if c.noted {
		return
	}
	if code, _, done := c.tr.CloseSeen(); done {
		c.noted = true
		c.t.noteClose(code, sideOf(c.dir))
	}
}

// notePassed marks the Close of src as written to dst, once it has been
// relayed whole.
func (c *copier) notePassed() {
	if c.noted && !c.closePassed.Load() {
		c.closePassed.Store(true)
		c.t.onClosePassed()
	}
}

// sendClose writes our Close frame, with the requested code, to dst.
func (c *copier) sendClose() error {
	code := uint16(c.req.Load())
	reason := ""
	if r := c.reason.Load(); r != nil {
		reason = *r
	}
	return c.sendCloseCode(code, reason)
}

func (c *copier) sendCloseCode(code uint16, reason string) error {
	c.sentClose = true
	c.t.noteClose(code, CauseNone)
	f := ws.AppendClose(make([]byte, 0, ws.MaxHeaderLen+ws.MaxControlPayload), code, reason, c.mask)
	if err := c.writeRaw(f); err != nil {
		return err
	}
	if !c.closePassed.Load() {
		c.closePassed.Store(true)
		c.t.onClosePassed()
	}
	return nil
}

// write relays p to dst and counts it.
func (c *copier) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	n, err := c.writeN(p)
	c.counter.Add(int64(n))
	return err
}

func (c *copier) writeRaw(p []byte) error {
	_, err := c.writeN(p)
	return err
}

// writeN writes p with the SendTimeout deadline: proxy_send_timeout runs
// only while a write is blocked, as nginx arms it only when a send could
// not complete (ngx_http_upstream_process_upgraded). A TCP destination is
// first written without waiting; only what the socket did not take is
// written with the deadline armed, so that the usual write, which the
// socket takes whole, costs no timer.
func (c *copier) writeN(p []byte) (int, error) {
	c.t.writing.Add(1)
	defer c.t.writing.Add(-1)
	done := 0
	if c.dstRC != nil {
		c.wp, c.wn, c.werr = p, 0, nil
		err := c.dstRC.Write(c.writeFn)
		c.wp = nil
		if err == nil {
			err = c.werr
		}
		done = c.wn
		if err != nil {
			return done, err
		}
		if done == len(p) {
			return done, nil
		}
	}
	if st := c.t.opts.SendTimeout; st > 0 {
		c.dst.SetWriteDeadline(time.Now().Add(st))
	}
	n, err := c.dst.Write(p[done:])
	return done + n, err
}

// rawRead reads src once without waiting: unix.EAGAIN when nothing is
// there, io.EOF at its end.
func (c *copier) rawRead(buf []byte) (int, error) {
	c.rp, c.rn, c.rerr = buf, 0, nil
	err := c.srcRC.Read(c.readFn)
	c.rp = nil
	if err != nil {
		return 0, err
	}
	if c.rerr == nil && c.rn == 0 {
		return 0, io.EOF
	}
	return c.rn, c.rerr
}

func (c *copier) tryRead(fd uintptr) bool {
	for {
		n, err := unix.Read(int(fd), c.rp)
		if err == unix.EINTR {
			continue
		}
		switch {
		case err == unix.EAGAIN:
			c.rerr = err
		case err != nil:
			c.rerr = os.NewSyscallError("read", err)
		default:
			c.rn = n
		}
		return true
	}
}

// loopStep serves one readiness event of a parked direction in the
// Parker's goroutine (Options.Loop): it reads what src has (sfd) and
// writes it to dst (dfd) without blocking; the caller holds both sockets
// open. hup says the event reported src's end or an error, which only a
// read until EOF or EAGAIN sees (a short read is not the end of it). now
// is the time of the event's batch, recorded as the tunnel's last
// activity. It reports whether the direction stays in the loop; false
// hands it to a goroutine of its own (Parker.handoff), with what dst did
// not take in unwritten and the end of src in stash. It stops after
// relaying src's Close whole, with passed true: the caller then calls
// notePassed.
//
// The reads and writes are raw system calls: on non-blocking sockets they
// never wait, so the runtime need not prepare a hand-off of its P for
// them.
func (c *copier) loopStep(sfd, dfd int, buf []byte, hup bool, now time.Time) (stay, passed bool) {
	for range 4 {
		if c.req.Load() != 0 || c.t.forced.Load() || c.state != stateRelay {
			return false, false
		}
		n, err := rawRead(sfd, buf)
		if err == unix.EAGAIN {
			return true, false
		}
		if err != nil {
			c.stash = os.NewSyscallError("read", err)
			return false, false
		}
		if n == 0 {
			c.stash = io.EOF
			return false, false
		}
		c.t.last.Store(int64(now.Sub(c.t.start)))
		p := buf[:n]
		if c.t.opts.FrameAware {
			c.feed(p)
			c.noteClose()
		}
		wn, werr := rawWrite(dfd, p)
		c.counter.Add(int64(wn))
		if werr != nil || wn < n {
			// A write error: the copier's goroutine sees the same error
			// when it writes the rest.
			c.unwritten = append([]byte(nil), p[wn:]...)
			return false, false
		}
		if c.noted && !c.closePassed.Load() {
			// src's Close went whole: the caller reports it once the
			// sockets are no longer held (it may close them); what
			// follows the Close is for the goroutine unless src is
			// drained.
			return n < len(buf) && !hup, true
		}
		if n < len(buf) && !hup {
			return true, false // drained: the next arrival is an event
		}
	}
	// Still more to read after a few full buffers: a stream, which its
	// own goroutine serves better (and an edge-triggered registration
	// would not report the bytes already there).
	return false, false
}

// rawRead is one read(2) of a non-blocking fd; 0 bytes and no error is
// its end.
func rawRead(fd int, p []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

// rawWrite writes p to a non-blocking fd until it is written or the
// socket takes no more (EAGAIN: fewer bytes and no error).
func rawWrite(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
		switch {
		case e == unix.EINTR:
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

// tryWrite is the raw write of writeN's first attempt: one write(2) that
// does not wait for the socket to drain.
func (c *copier) tryWrite(fd uintptr) bool {
	for c.wn < len(c.wp) {
		n, err := unix.Write(int(fd), c.wp[c.wn:])
		if n > 0 {
			c.wn += n
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return true
		case err != nil:
			c.werr = os.NewSyscallError("write", err)
			return true
		case n <= 0:
			return true
		}
	}
	return true
}

// sourceEnded decides how the copier ends when src's Read failed.
func (c *copier) sourceEnded(err error) copierEnd {
	if c.t.forced.Load() {
		return c.end(endAborted, nil)
	}
	eof := err == io.EOF
	if !c.t.opts.FrameAware {
		if eof {
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst)}
		}
		return c.end(endReadError, err)
	}
	if c.state == stateDrain {
		return c.end(endDrained, nil)
	}
	if _, _, done := c.tr.CloseSeen(); done {
		if eof {
			if c.t.handshakeDone() {
				// Both Close frames passed: the tunnel closes both
				// sockets now, no FIN to pass on.
				return copierEnd{dir: c.dir, kind: endEOF}
			}
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst)}
		}
		// src's Close passed whole (a failed write would have ended the
		// copier): src failed after it.
		return copierEnd{dir: c.dir, kind: endBroken, err: err}
	}
	// src went away without a Close: tell dst, if a frame boundary allows.
	e := copierEnd{dir: c.dir, kind: endGone}
	if !eof {
		e.err = err
	}
	if c.tr.AtBoundary() && !c.sentClose {
		reason := "upstream went away"
		if c.dir == clientToUpstream {
			reason = "client went away"
		}
		e.sentClose = c.sendCloseCode(c.goneCode, reason) == nil
	}
	return e
}

// closeWrite passes a FIN on; it reports whether conn supports it and it
// worked.
func closeWrite(conn net.Conn) bool {
	cw, ok := conn.(interface{ CloseWrite() error })
	return ok && cw.CloseWrite() == nil
}

// splice relays through the kernel: (*net.TCPConn).ReadFrom of a
// *net.TCPConn uses splice(2). With ReadTimeout set, src gets a read deadline
// every ReadTimeout/4 so that the copier can report activity to the idle
// timer; the idle time is thus known to a quarter of ReadTimeout, and a
// write blocked longer than ReadTimeout counts as idle. SendTimeout is
// armed per interval on dst.
func (c *copier) splice() copierEnd {
	if len(c.pending) > 0 {
		p := c.pending
		c.pending = nil
		c.t.touch()
		if err := c.write(p); err != nil {
			return c.end(endWriteError, err)
		}
	}
	dst := c.dst.(*net.TCPConn)
	iv := c.t.opts.ReadTimeout / 4
	if iv <= 0 {
		iv = c.t.opts.SendTimeout / 4
	}
	var writeDeadline time.Time
	for {
		if iv > 0 {
			now := time.Now()
			c.src.SetReadDeadline(now.Add(iv))
			if st := c.t.opts.SendTimeout; st > 0 {
				writeDeadline = now.Add(iv + st)
				dst.SetWriteDeadline(writeDeadline)
			}
		}
		n, err := dst.ReadFrom(c.src)
		if n > 0 {
			c.t.touch()
			c.counter.Add(n)
		}
		switch {
		case err == nil: // EOF
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst)}
		case iv > 0 && errors.Is(err, os.ErrDeadlineExceeded) && !c.t.forced.Load():
			if !writeDeadline.IsZero() && !time.Now().Before(writeDeadline) {
				return c.end(endWriteError, err)
			}
		default:
			return c.end(endReadError, err)
		}
	}
}
