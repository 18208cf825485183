package tunnel

import (
	"io"
	"os"
	"time"

	"wsgate/internal/netpoll"
)

// startLoop starts a direction of an Options.Loop tunnel: with nothing
// buffered for it, its source goes straight into the event loop, with no
// goroutine and no read that would find nothing yet (a socket that is
// readable already is reported at once when it is added). Bytes buffered
// past the handshake are relayed first by a goroutine (run), which parks
// the direction at its first would-block read; so does it when the
// Parker is closed.
func (c *copier) startLoop() {
	if len(c.out) == 0 {
		p := c.t.parker
		c.parkedOnce = true // set before registering: a resume may start at once
		if p.park(c) == nil {
			// A request or forceClose may have tried to wake the
			// direction before it was registered (an idle timer already
			// due): resume it now.
			if c.req.Load() != 0 || c.t.forced.Load() {
				p.unpark(c)
			}
			return
		}
		c.parkedOnce = false
	}
	if c.dir == clientToUpstream {
		go c.copyClientToUpstream()
	} else {
		go c.copyUpstreamToClient()
	}
}

// loopStep serves one readiness event of a parked direction in the
// goroutine of its tunnel's loop (Options.Loop): it reads what src has (sfd) and
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
		n, err := netpoll.Read(sfd, buf)
		if err == netpoll.ErrAgain {
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
		c.t.last.Store(int64(now.Sub(epoch)) - c.t.start)
		p := buf[:n]
		if c.g != nil {
			pre, out, rest := c.gatePass(p)
			c.noteClose()
			c.publish()
			if pre != nil || c.g.reject != 0 {
				// Rare: withheld bytes go first, or src broke a
				// limit; the goroutine writes and acts.
				c.out = append(pre, out...)
				if c.g.reject != 0 {
					c.g.held = append(c.g.held[:0], rest...)
				}
				return false, false
			}
			p = out
		} else if c.t.opts.FrameAware {
			c.feed(p)
			c.noteClose()
			c.publish()
		}
		var wn int
		var werr error
		if len(p) > 0 {
			wn, werr = netpoll.Write(dfd, p)
			c.counter().Add(int64(wn))
		}
		if werr != nil || wn < len(p) {
			// A write error: the copier's goroutine sees the same error
			// when it writes the rest.
			c.out = append([]byte(nil), p[wn:]...)
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
