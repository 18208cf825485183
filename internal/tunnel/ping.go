package tunnel

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"wsgate/internal/ws"
)

// PingOptions make a frame-aware tunnel send its own Ping frames
// (ws_ping_interval, ws_pong_timeout; RFC 6455 5.5.2). The zero value sends
// none.
//
// Every Interval, a Ping goes to each side named, at the next frame
// boundary of what wsgate writes to it. The Pongs that answer these Pings
// are taken out of the stream and never reach the other side; the peers'
// own Pings and Pongs pass untouched. A side that has sent nothing at all
// (no Pong, no frame) Timeout after a Ping was written to it is dead: the
// other side gets Close 1001 and the dead side's socket is closed
// (Result.ClosedBy CausePing). A Ping that falls due while a frame is
// being written to the side waits for that frame's end, and so does the
// side's time to answer: a peer busy receiving a long frame is not dead
// (a peer that stops reading is found by SendTimeout); the death is then
// found up to an Interval later than Timeout after the write. A Pong of wsgate's is read like any other byte, so it
// re-arms ReadTimeout: with Interval below ReadTimeout, an idle tunnel
// whose pinged peers answer outlives proxy_read_timeout.
type PingOptions struct {
	Interval time.Duration // 0: no Pings
	// Timeout is how long a pinged side has to answer; 0 means Interval.
	Timeout  time.Duration
	Client   bool // ping the client
	Upstream bool // ping the upstream
}

func (o PingOptions) on() bool { return o.Interval > 0 && (o.Client || o.Upstream) }

// pingPayloadLen is the size of wsgate's Ping payload: pingMagic, the
// process's pingKey and the send time in nanoseconds since the tunnel's
// start. A Pong echoes it (RFC 6455 5.5.3), which is how ours are told from
// the peers' own.
const pingPayloadLen = 16

var pingMagic = [4]byte{'w', 's', 'g', 'p'}

// pingKey tells this process's Pings from another wsgate's on the same
// path.
var pingKey = func() (k [4]byte) {
	rand.Read(k[:])
	return k
}()

// pinger is a tunnel's periodic work, driven by its one timer (onIdle):
// the Pings, and the Progress reports. Indexes are directions: [d] is
// about the side behind copiers[d].src, which answers the Pings that
// copiers[d].other writes.
type pinger struct {
	interval, timeout time.Duration // 0: no Pings
	on                [2]bool
	next              time.Duration // the next round, since the tunnel's start; guarded by tunnel.mu

	// Options.Progress, every Options.ProgressEvery; nextReport is
	// guarded by tunnel.mu.
	report     func(Progress)
	every      time.Duration
	nextReport time.Duration
	// msgs are the data messages relayed each way so far, published by
	// the copiers for the reports (copier.publish).
	msgs [2]atomic.Uint64
	// await is, for a Ping to the side not answered yet, when it was
	// written (nanoseconds since the tunnel's start), or minus when it
	// fell due while it waits for a frame boundary to be written; 0: none.
	// Only a written Ping can time out.
	await [2]atomic.Int64
	// rtt is the round-trip time of the side's latest answered Ping, in
	// nanoseconds; 0: none yet.
	rtt [2]atomic.Int64
}

// newPinger returns the periodic work of o, nil when there is none.
func newPinger(o *Options) *pinger {
	pings := o.FrameAware && o.Ping.on()
	reports := o.Progress != nil && o.ProgressEvery > 0
	if !pings && !reports {
		return nil
	}
	p := &pinger{}
	if pings {
		// The first round comes between half an interval and one: the
		// tunnels a burst of clients opened do not ping in step.
		half := o.Ping.Interval / 2
		p.interval, p.timeout, p.next = o.Ping.Interval, o.Ping.Timeout, half+mrand.N(o.Ping.Interval-half+1)
		if p.timeout <= 0 {
			p.timeout = o.Ping.Interval
		}
		p.on[clientToUpstream], p.on[upstreamToClient] = o.Ping.Client, o.Ping.Upstream
	}
	if reports {
		p.report, p.every, p.nextReport = o.Progress, o.ProgressEvery, o.ProgressEvery
	}
	return p
}

// firstWait is when the timer must first run for this work.
func (p *pinger) firstWait() time.Duration {
	switch {
	case p.interval == 0:
		return p.every
	case p.every == 0:
		return p.next
	}
	return min(p.next, p.every)
}

// Progress is a running tunnel's state, reported every
// Options.ProgressEvery (ws_log_interval's "still open" lines).
type Progress struct {
	Duration               time.Duration // since the tunnel started
	FromClient             int64         // bytes relayed client → upstream so far
	FromUpstream           int64
	ClientRTT, UpstreamRTT time.Duration // as Result's
	// MessagesFromClient and MessagesFromUpstream are the data messages
	// relayed so far, as Result's.
	MessagesFromClient, MessagesFromUpstream uint64
}

// reportTick is the Progress part of the tunnel's timer, at now: when a
// report is due it returns it (report true), for the caller to make once
// t.mu is released, and how long until the next. t.mu is held.
func (t *tunnel) reportTick(now time.Duration) (pr Progress, report bool, wait time.Duration) {
	p := t.ping
	if now >= p.nextReport {
		report = true
		pr = Progress{Duration: now, FromClient: t.h.fromClient.Load(), FromUpstream: t.h.fromUpstream.Load(),
			ClientRTT: p.RTT(clientToUpstream), UpstreamRTT: p.RTT(upstreamToClient),
			MessagesFromClient: p.msgs[clientToUpstream].Load(), MessagesFromUpstream: p.msgs[upstreamToClient].Load()}
		for p.nextReport <= now {
			p.nextReport += p.every
		}
	}
	return pr, report, p.nextReport - now
}

// written records that a Ping due to the side behind direction d was
// written at now (since the tunnel's start): its time to answer starts.
func (p *pinger) written(d direction, now time.Duration) {
	if a := p.await[d].Load(); a < 0 {
		p.await[d].CompareAndSwap(a, int64(max(now, 1)))
	}
}

// alive records that the side behind direction d sent something.
func (p *pinger) alive(d direction) {
	if p.await[d].Load() != 0 {
		p.await[d].Store(0)
	}
}

// ours reports whether the whole Pong frame f from the side behind d
// answers one of our Pings, and records its round-trip time if so.
func (p *pinger) ours(d direction, f []byte, now time.Duration) bool {
	if p == nil {
		return false
	}
	h, n, err := ws.ParseHeader(f)
	if err != nil || len(f)-n != pingPayloadLen {
		return false
	}
	var b [pingPayloadLen]byte
	copy(b[:], f[n:])
	if h.Masked {
		ws.Mask(b[:], h.MaskKey, 0)
	}
	if [4]byte(b[0:4]) != pingMagic || [4]byte(b[4:8]) != pingKey {
		return false
	}
	sent := time.Duration(binary.BigEndian.Uint64(b[8:]))
	if rtt := now - sent; rtt >= 0 && sent > 0 {
		p.rtt[d].Store(max(int64(rtt), 1))
	}
	return true
}

// RTT returns the round-trip time of the latest answered Ping to the side
// behind d; 0 when none was answered.
func (p *pinger) RTT(d direction) time.Duration {
	if p == nil {
		return 0
	}
	return time.Duration(p.rtt[d].Load())
}

// pingTick is the Ping part of the tunnel's timer, at now (since the
// start): it ends the tunnel when a side did not answer in time (dead
// true), marks this round's Pings in due when they are due (the caller
// delivers them with sendPings once t.mu is released), and returns how
// long until it needs to run again. t.mu is held.
func (t *tunnel) pingTick(now time.Duration, due *[2]*copier) (dead bool, wait time.Duration) {
	p := t.ping
	if p.interval == 0 {
		return false, 0
	}
	for d := range p.on {
		if a := p.await[d].Load(); p.on[d] && !t.copiers[d].ended && a > 0 && now-time.Duration(a) >= p.timeout {
			t.closeDead(direction(d))
			return true, 0
		}
	}
	if now >= p.next {
		for d := range p.on {
			// A side whose stream ended (a half-close) is not pinged.
			if p.on[d] && !t.copiers[d].ended && !t.copiers[d].other().ended {
				p.await[d].CompareAndSwap(0, -int64(max(now, 1)))
				due[d] = t.copiers[d].other()
			}
		}
		p.next = now + p.interval
	}
	wait = p.next - now
	for d := range p.on {
		if a := p.await[d].Load(); p.on[d] && a > 0 {
			wait = min(wait, time.Duration(a)+p.timeout-now)
		}
	}
	return false, max(wait, time.Millisecond)
}

// publish makes the data messages relayed from src so far readable by
// the Progress reports, when there are any: one nil check per chunk
// otherwise.
func (c *copier) publish() {
	if p := c.t.ping; p != nil && p.report != nil {
		p.msgs[c.dir].Store(c.messages())
	}
}

// sendPings asks the copiers in due to send a Ping at their next frame
// boundary. A copier parked in the event loop is taken out and run here,
// in the timer's goroutine (the last one; an earlier one in a goroutine of
// its own), rather than in a new goroutine: it writes the Ping, finds
// nothing to read and parks again. t.mu is not held.
func (t *tunnel) sendPings(due *[2]*copier) {
	var run *copier
	for _, c := range due {
		if c == nil {
			continue
		}
		for {
			old := c.req.Load()
			if c.req.CompareAndSwap(old, old|reqPing) {
				break
			}
		}
		if t.parker == nil || !t.parker.take(c) {
			// Running in its goroutine: interrupt its read.
			c.src().SetReadDeadline(longAgo)
			continue
		}
		if run != nil {
			go run.resume()
		}
		run = c
	}
	if run != nil {
		run.resume()
	}
}

// closeDead ends the tunnel whose side behind direction d stopped
// answering: that direction sends Close 1001 to the live side at its next
// frame boundary and closes the dead side's socket; the other direction
// reads the live side's answer. t.mu is held.
func (t *tunnel) closeDead(d direction) {
	t.setCause(CausePing)
	t.idleOff = true
	if t.closing || t.finished {
		return
	}
	t.closing = true
	t.armDeadline()
	c := &t.copiers[d]
	c.request(reqDead, 0, "")
	c.request(reqClose, ws.CloseGoingAway, "peer did not answer ping")
	if !c.other().ended {
		c.other().request(reqDrain, 0, "")
	}
}

// endDead ends a direction whose source is dead (reqDead): Close to dst if
// its stream is at a frame boundary, then src's socket is closed.
func (c *copier) endDead() (copierEnd, bool) {
	kind := endLost
	e := copierEnd{dir: c.dir}
	if c.atWriteBoundary() {
		kind = endGone
		if _, seen, _ := c.tr.CloseSeen(); !seen && !c.sentClose {
			e.sentClose = c.sendClose() == nil
		}
	}
	c.src().Close()
	e.kind = kind
	if c.t.forced.Load() {
		e.kind = endAborted
	}
	return e, true
}

// sendPing writes one Ping of ours to dst (at a frame boundary of what dst
// has been written) and clears the request for it.
func (c *copier) sendPing() error {
	c.clearReq(reqPing)
	var b [ws.MaxHeaderLen + pingPayloadLen]byte
	h := ws.Header{Fin: true, Opcode: ws.OpPing, Masked: c.mask(), Length: pingPayloadLen}
	if c.mask() {
		rand.Read(h.MaskKey[:])
	}
	f := ws.AppendHeader(b[:0], h)
	start := len(f)
	f = append(f, pingMagic[:]...)
	f = append(f, pingKey[:]...)
	now := max(c.t.since(), 1)
	f = binary.BigEndian.AppendUint64(f, uint64(now))
	if c.mask() {
		ws.Mask(f[start:], h.MaskKey, 0)
	}
	if err := c.writeRaw(f); err != nil {
		return err
	}
	// The side this direction writes to answers on the other direction.
	c.t.ping.written(c.other().dir, now)
	return nil
}

// clearReq clears request bits.
func (c *copier) clearReq(bits uint32) {
	for {
		old := c.req.Load()
		if old&bits == 0 || c.req.CompareAndSwap(old, old&^bits) {
			return
		}
	}
}

// PingRTT returns the round-trip times of the latest answered Pings to the
// client and to the upstream of a running tunnel; 0 for a side not pinged
// or not answered yet. It is a pair of atomic loads, for status pages.
func (h *Handle) PingRTT() (client, upstream time.Duration) {
	t := h.t.Load()
	if t == nil || t.ping == nil {
		return 0, 0
	}
	return t.ping.RTT(clientToUpstream), t.ping.RTT(upstreamToClient)
}
