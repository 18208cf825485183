package tunnel

import (
	"io"
	"net"

	"wsgate/internal/ws"
)

// copierState is where a copier is in ending its direction (frame-aware
// mode).
type copierState uint8

const (
	stateRelay   copierState = iota // forward everything
	stateClosing                    // forward up to the next frame boundary, then send our Close
	stateDrain                      // our Close was sent (or dst is gone): read and discard until src's Close
)

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
			if len(p) > 0 {
				if c.g != nil {
					return c.relayGated(p)
				}
				c.feed(p) // a lost Tracker keeps relaying; it only can't place a Close
				c.noteClose()
				c.publish()
				if err := c.write(p); err != nil {
					return c.end(endWriteError, err), true
				}
				c.notePassed()
			}
			return c.pingIfDue()
		case stateClosing:
			if c.req.Load()&reqDead != 0 {
				return c.endDead()
			}
			if c.atWriteBoundary() {
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
			c.clearReq(reqPing)
			c.tr.Feed(p)
			if _, _, done := c.tr.CloseSeen(); done || c.tr.Err() != nil {
				c.srcClosed.Store(done)
				return c.end(endDrained, nil), true
			}
			return copierEnd{}, false
		}
	}
}

// relayGated relays chunk p through the gate (gatePass), then sends a
// Ping if one is due.
func (c *copier) relayGated(p []byte) (copierEnd, bool) {
	pre, out, rest := c.gatePass(p)
	c.noteClose()
	c.publish()
	if err := c.write(pre); err != nil {
		return c.end(endWriteError, err), true
	}
	if err := c.write(out); err != nil {
		return c.end(endWriteError, err), true
	}
	c.notePassed()
	if c.g.reject != 0 {
		return c.rejected(rest)
	}
	return c.pingIfDue()
}

// pingIfDue sends the Ping requested of this direction once what dst has
// been written ends at a frame boundary.
func (c *copier) pingIfDue() (copierEnd, bool) {
	if c.req.Load()&reqPing != 0 && c.atWriteBoundary() {
		if err := c.sendPing(); err != nil {
			return c.end(endWriteError, err), true
		}
	}
	return copierEnd{}, false
}

// noteClose reports the first complete Close frame from src to the tunnel.
func (c *copier) noteClose() {
	if c.noted {
		return
	}
	if code, _, done := c.tr.CloseSeen(); done {
		c.noted = true
		c.srcClosed.Store(true)
		c.t.noteClose(code, sideOf(c.dir), c.tr.CloseReason())
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
	c.t.noteClose(code, CauseNone, reason)
	f := ws.AppendClose(make([]byte, 0, ws.MaxHeaderLen+ws.MaxControlPayload), code, reason, c.mask())
	if err := c.writeRaw(f); err != nil {
		return err
	}
	if !c.closePassed.Load() {
		c.closePassed.Store(true)
		c.t.onClosePassed()
	}
	return nil
}

// sourceEnded decides how the copier ends when src's Read failed.
func (c *copier) sourceEnded(err error) copierEnd {
	if c.t.forced.Load() {
		return c.end(endAborted, nil)
	}
	eof := err == io.EOF
	if !c.t.opts.FrameAware {
		if eof {
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst())}
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
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst())}
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
		// The tunnel's cause is src's side, set before our Close goes
		// out: dst's answer to it, read by the other copier, would
		// otherwise make dst's side the cause before onEnd sets it.
		c.t.setCause(sideOf(c.dir))
		reason := "upstream went away"
		if c.dir == clientToUpstream {
			reason = "client went away"
		}
		e.sentClose = c.sendCloseCode(c.goneCode(), reason) == nil
	}
	return e
}

// closeWrite passes a FIN on; it reports whether conn supports it and it
// worked.
func closeWrite(conn net.Conn) bool {
	cw, ok := conn.(interface{ CloseWrite() error })
	return ok && cw.CloseWrite() == nil
}
