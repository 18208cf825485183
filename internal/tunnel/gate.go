package tunnel

import (
	"time"

	"wsgate/internal/ws"
)

// Limits bound what one side of a frame-aware tunnel sends, as the frames
// stream through: nothing is buffered to enforce them (ws_max_frame_size,
// ws_max_message_size, ws_message_rate). The zero value limits nothing.
type Limits struct {
	// MaxFrame is the largest frame payload, in bytes, a side may send; 0:
	// no limit. A frame whose header announces more ends the tunnel before
	// any of its bytes is relayed: Close 1009 (Message Too Big, RFC 6455
	// 7.4.1) to the sender, 1001 to the other side.
	MaxFrame uint64
	// MaxMessage is the largest data message payload, in bytes, summed over
	// its frames as their headers arrive; 0: no limit. Exceeded: as
	// MaxFrame, at the boundary before the frame that exceeds it.
	MaxMessage uint64
	// Rate is the data messages per second a side may send, a token bucket
	// of Burst tokens (at least 1) refilled at Rate; 0: no limit. A message
	// that finds the bucket empty ends the tunnel with Close 1008 (Policy
	// Violation) to the sender and 1001 to the other side, or, with Drop,
	// is dropped whole (its frames are not relayed; control frames between
	// them are).
	Rate  float64
	Burst int
	Drop  bool
}

func (l Limits) on() bool { return l.MaxFrame > 0 || l.MaxMessage > 0 || l.Rate > 0 }

// gate is a direction's frame policy, in the copier's hands: the Pongs
// that answer wsgate's own Pings are taken out of the stream (src is a
// pinged side), and src's frames are held to its Limits. Each frame's
// header is read before any of its bytes is relayed, so that a frame
// wsgate drops or refuses never reaches dst in part, and what dst has been
// written always ends at a frame boundary while a frame is withheld.
type gate struct {
	lim Limits

	held []byte // withheld bytes of the current frame from earlier chunks

	msg    uint64 // payload bytes of the data message in progress, announced so far
	tokens float64
	refill time.Duration // when tokens was last refilled, since the tunnel's start

	dropped uint64 // data messages dropped (Limits.Drop)
	relayed uint64 // with stopped: the data messages relayed before src broke a limit

	// reject is the Close code for src once it broke a limit (1008 or
	// 1009), why the limit (reasons); the copier then ends the tunnel
	// (copier.rejected). After a rejection in the event loop, held has
	// src's bytes after the part of the chunk the Tracker took, for the
	// drain.
	reject uint16
	why    uint8

	pongs bool // src is pinged (Options.Ping)
	// The current frame: undecided while its bytes are withheld (its
	// header is incomplete, or it is a Pong that may be ours and is
	// withheld to its end); drop while its remaining bytes are dropped.
	undecided bool
	drop      bool
	dropMsg   bool // the data message in progress is dropped (Limits.Drop)
	stopped   bool
	// (The small fields last: 112 bytes, the 112-byte size class; in
	// declaration order with padding between them, 144.)
}

// verdict is what the gate does with a frame whose header it has read.
type verdict uint8

const (
	vPass      verdict = iota // relay it
	vDrop                     // drop it
	vCandidate                // a Pong that may answer our Ping: withhold it to its end
	vReject                   // src broke a limit: end the tunnel here
)

func newGate(pongs bool, lim Limits) *gate {
	g := &gate{pongs: pongs, lim: lim}
	if lim.Rate > 0 {
		if g.lim.Burst < 1 {
			g.lim.Burst = 1
		}
		g.tokens = float64(g.lim.Burst)
	}
	return g
}

// decide judges the frame whose header h has just been read. now is
// called only when the rate limit needs the time.
func (g *gate) decide(h ws.Header, now func() time.Duration) verdict {
	if h.Opcode.IsControl() {
		if g.pongs && h.Opcode == ws.OpPong && h.Length == pingPayloadLen {
			return vCandidate
		}
		return vPass
	}
	if g.lim.MaxFrame > 0 && h.Length > g.lim.MaxFrame {
		g.reject, g.why = closeTooBig, whyFrame
		return vReject
	}
	if h.Opcode != ws.OpContinuation {
		// A data message begins (RFC 6455 5.4).
		g.msg = 0
		g.dropMsg = false
		if g.lim.Rate > 0 && !g.take(now()) {
			if !g.lim.Drop {
				g.reject, g.why = closePolicy, whyRate
				return vReject
			}
			g.dropMsg = true
		}
	}
	g.msg += h.Length
	if g.lim.MaxMessage > 0 && g.msg > g.lim.MaxMessage {
		g.reject, g.why = closeTooBig, whyMessage
		return vReject
	}
	if g.dropMsg {
		return vDrop
	}
	return vPass
}

// take takes one token from the bucket, refilled up to now.
func (g *gate) take(now time.Duration) bool {
	if el := now - g.refill; el > 0 {
		g.tokens += el.Seconds() * g.lim.Rate
		if max := float64(g.lim.Burst); g.tokens > max {
			g.tokens = max
		}
		g.refill = now
	}
	if g.tokens < 1 {
		return false
	}
	g.tokens--
	return true
}

// The limits a side may break, and the reasons of wsgate's Close frames
// for them, indexed by gate.why.
const (
	whyFrame uint8 = iota
	whyMessage
	whyRate
)

var reasons = [...]string{whyFrame: "frame too big", whyMessage: "message too big", whyRate: "message rate exceeded"}

// Close codes of the limits (RFC 6455 7.4.1).
const (
	closePolicy uint16 = 1008 // Policy Violation: ws_message_rate
	closeTooBig uint16 = 1009 // Message Too Big: ws_max_frame_size, ws_max_message_size
)

// atWriteBoundary reports whether what has been written to dst ends at a
// frame boundary, where wsgate may insert a frame of its own: src's stream
// is at one, or the frame in progress is withheld or dropped whole.
func (c *copier) atWriteBoundary() bool {
	if c.tr.AtBoundary() {
		return true
	}
	g := c.g
	return g != nil && c.tr.Err() == nil && (g.undecided || g.drop)
}

// gatePass runs chunk p from src through the gate, feeding the Tracker.
// What is to be relayed is moved to the front of p and returned as out;
// pre, when not nil, are withheld bytes of an earlier chunk that go before
// out. When src broke a limit (g.reject set), out ends at the boundary
// before the offending frame and rest is what p held after the part of
// it the Tracker took; rest is nil otherwise.
func (c *copier) gatePass(p []byte) (pre, out, rest []byte) {
	g := c.g
	w := 0
	now := func() time.Duration { return c.t.since() }
	if g.pongs && c.t.ping != nil {
		// Anything from a pinged side answers for it (pinger.alive).
		c.t.ping.alive(c.dir)
	}
	for i := 0; i < len(p); {
		if c.tr.Err() != nil {
			// A lost Tracker: everything goes on untouched.
			pre = g.flush(pre)
			w += copy(p[w:], p[i:])
			break
		}
		begin := c.tr.AtBoundary()
		fs := i
		n, err := c.tr.FeedFrame(p[i:])
		if err != nil {
			continue // lost: the check above relays the rest
		}
		i += n
		seg := p[fs:i]
		if begin {
			g.undecided, g.drop = true, false
		}
		if !g.undecided {
			if !g.drop {
				w += copy(p[w:], seg)
			}
			if c.tr.AtBoundary() {
				c.frameEnd()
			}
			continue
		}
		if c.tr.InHeader() {
			g.held = append(g.held, seg...) // the end of p
			continue
		}
		switch g.decide(c.tr.Header(), now) {
		case vPass:
			// Only the first frame of p can have begun in an earlier
			// chunk: w is 0 when held is not empty.
			pre = g.flush(pre)
			w += copy(p[w:], seg)
			g.undecided = false
		case vDrop:
			g.held = g.held[:0]
			g.undecided, g.drop = false, true
		case vCandidate:
			if !c.tr.AtBoundary() {
				g.held = append(g.held, seg...)
				continue
			}
			var buf [ws.MaxHeaderLen + ws.MaxControlPayload]byte
			f := append(append(buf[:0], g.held...), seg...)
			if c.t.ping.ours(c.dir, f, now()) {
				g.held = g.held[:0]
				g.undecided = false
				continue // consumed, not reported
			}
			pre = g.flush(pre)
			w += copy(p[w:], seg)
			g.undecided = false
		case vReject:
			g.held = g.held[:0]
			g.undecided = false
			g.relayed, g.stopped = c.tr.Messages()-g.dropped, true
			if h := c.tr.Header(); c.tr.AtBoundary() && h.Fin && !h.Opcode.IsControl() {
				g.relayed-- // the offending frame ended a message
			}
			return pre, p[:w], p[i:]
		}
		if c.tr.AtBoundary() {
			c.frameEnd()
		}
	}
	return pre, p[:w], nil
}

// flush returns the withheld bytes to relay before this chunk's: the
// caller's pre, which is nil, becomes a copy of them.
func (g *gate) flush(pre []byte) []byte {
	if len(g.held) == 0 {
		return pre
	}
	pre = append(pre, g.held...)
	g.held = g.held[:0]
	return pre
}

// frameEnd is the end of a frame the gate relayed or dropped: a dropped
// frame that ends a data message is counted, and a relayed one reported.
func (c *copier) frameEnd() {
	if g := c.g; g.drop {
		if h := c.tr.Header(); h.Fin && !h.Opcode.IsControl() {
			g.dropped++
		}
		return
	}
	c.reportFrame(false)
}

// messages returns the data messages relayed from src: the Tracker's,
// less those the gate dropped, and none after a limit stopped src.
func (c *copier) messages() uint64 {
	g := c.g
	switch {
	case g == nil:
		return c.tr.Messages()
	case g.stopped:
		return g.relayed
	}
	return c.tr.Messages() - g.dropped
}

// reportFrame tells the FrameObserver of the frame that just ended, unless
// it was dropped.
func (c *copier) reportFrame(dropped bool) {
	fn := c.t.h.frames
	if fn == nil || dropped {
		return
	}
	h := c.tr.Header()
	fn(Frame{FromClient: c.dir == clientToUpstream, Opcode: h.Opcode, Fin: h.Fin, Length: h.Length})
}

// rejected ends the tunnel after src broke a limit; what p held before the
// offending frame has been relayed. The Close for src (1008 or 1009) goes
// through the other direction, the only writer to src; this one sends
// 1001 to dst now (its stream is at a boundary) and drains src, starting
// with rest, until src's Close.
func (c *copier) rejected(rest []byte) (copierEnd, bool) {
	g := c.g
	t := c.t
	t.mu.Lock()
	t.setCause(CauseLimit)
	why := reasons[g.why]
	t.noteClose(g.reject, CauseNone, why)
	t.idleOff = true
	if !t.closing && !t.finished {
		t.closing = true
		t.armDeadline()
		c.other().request(reqClose, g.reject, why)
	}
	t.mu.Unlock()
	if _, seen, _ := c.tr.CloseSeen(); !seen && !c.sentClose {
		if err := c.sendCloseCode(ws.CloseGoingAway, why); err != nil {
			return c.end(endWriteError, err), true
		}
	}
	c.state = stateDrain
	g.reject = 0
	return c.process(rest)
}
