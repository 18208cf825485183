package tunnel

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"wsgate/internal/ws"
)

// Request bits stored in copier.req; the low 16 bits hold a Close code.
const (
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
// tear a frame apart. Run's supervisor talks to it through req.
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

	// Owned by the copier goroutine.
	state     int
	tr        ws.Tracker
	sentClose bool
	noted     bool // the Close of src was reported to the tunnel
	small     [smallBufferSize]byte
	own       []byte // large buffer when Options.Pool is nil
	frame     [ws.MaxHeaderLen + ws.MaxControlPayload]byte

	ended bool // owned by the supervisor
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
}

// copyClientToUpstream and copyUpstreamToClient run the userspace relay;
// the names make goroutine dumps say which way a tunnel is stuck.
func (c *copier) copyClientToUpstream() { c.t.ends <- c.copy() }
func (c *copier) copyUpstreamToClient() { c.t.ends <- c.copy() }

// spliceClientToUpstream and spliceUpstreamToClient run the kernel splice
// relay.
func (c *copier) spliceClientToUpstream() { c.t.ends <- c.splice() }
func (c *copier) spliceUpstreamToClient() { c.t.ends <- c.splice() }

func (c *copier) end(kind endKind, err error) copierEnd {
	if c.t.forced.Load() {
		kind, err = endAborted, nil
	}
	return copierEnd{dir: c.dir, kind: kind, err: err}
}

// copy relays with userspace buffers. Reads go to the copier's small buffer;
// a read that fills it switches to a pooled buffer, which is given back at
// the first read that does not fill it, so an idle direction holds no
// pooled buffer.
func (c *copier) copy() copierEnd {
	if len(c.pending) > 0 {
		p := c.pending
		c.pending = nil
		c.t.touch()
		if e, done := c.process(p); done {
			return e
		}
	}
	var big *[]byte
	pool := c.t.opts.Pool
	defer func() {
		if big != nil {
			pool.Put(big)
		}
	}()
	for {
		buf := c.small[:]
		if big != nil {
			buf = *big
		} else if c.own != nil {
			buf = c.own
		}
		n, err := c.src.Read(buf)
		if n > 0 {
			c.t.touch()
			if e, done := c.process(buf[:n]); done {
				return e
			}
			if n == len(buf) {
				switch {
				case big != nil || c.own != nil:
				case pool != nil:
					big = pool.Get()
				default:
					c.own = make([]byte, DefaultBufferSize)
				}
			} else {
				if big != nil {
					pool.Put(big)
					big = nil
				}
				c.own = nil
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.req.Load() != 0 && !c.t.forced.Load() {
			if e, done := c.onRequest(); done {
				return e
			}
			continue
		}
		return c.sourceEnded(err)
	}
}

// onRequest handles a request after an interrupted Read: it clears the
// interrupt, then acts on every request bit set so far.
func (c *copier) onRequest() (copierEnd, bool) {
	c.src.SetReadDeadline(time.Time{})
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
			c.tr.Feed(p) // a lost Tracker keeps relaying; it only can't place a Close
			c.noteClose()
			if err := c.write(p); err != nil {
				return c.end(endWriteError, err), true
			}
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
			n, _ := c.tr.FeedFrame(p)
			c.noteClose()
			if err := c.write(p[:n]); err != nil {
				return c.end(endWriteError, err), true
			}
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
	f := ws.AppendClose(c.frame[:0], code, reason, c.mask)
	return c.writeRaw(f)
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
// only while a write is in progress (nginx arms it only while blocked; one
// Write of at most one buffer is the unit here).
func (c *copier) writeN(p []byte) (int, error) {
	if st := c.t.opts.SendTimeout; st > 0 {
		c.dst.SetWriteDeadline(time.Now().Add(st))
	}
	c.t.writing.Add(1)
	n, err := c.dst.Write(p)
	c.t.writing.Add(-1)
	return n, err
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
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst)}
		}
		return c.end(endDrained, nil)
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
