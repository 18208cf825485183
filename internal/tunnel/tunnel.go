// Package tunnel moves bytes between a client and an upstream after a 101
// Switching Protocols. It reproduces nginx's upgraded-connection timers
// (ngx_http_upstream_process_upgraded: proxy_read_timeout as an idle timeout
// re-armed by traffic either way, proxy_send_timeout only while a write is
// blocked), passes half-closes on, and in frame-aware mode follows the
// WebSocket frames of both directions so that it can end a tunnel with Close
// frames sent at frame boundaries (RFC 6455 7) instead of a reset.
//
// Close codes wsgate sends (RFC 6455 7.4):
//
//   - 1001 Going Away: idle timeout (to both sides), the client went away
//     (to the upstream), shutdown (to both sides).
//   - 1012 Service Restart: the tunnel's route changed at reload (the code is
//     the caller's choice, ws_reload_close_code).
//   - 1014 Bad Gateway: the upstream went away without a Close (to the client).
//   - 1001 to the live side when the other stopped answering wsgate's Pings
//     (PingOptions).
//   - 1009 Message Too Big, 1008 Policy Violation: to a side that broke its
//     Limits, with 1001 to the other side.
package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/ws"
)

// DefaultCloseTimeout bounds a frame-aware close (Options.CloseTimeout).
const DefaultCloseTimeout = 5 * time.Second

// Options configure one tunnel. The zero value relays bytes with no timers,
// not frame-aware, without splice.
type Options struct {
	// ReadTimeout is proxy_read_timeout: the tunnel ends when no byte has
	// moved in either direction for this long (and no write is blocked). 0
	// disables it. nginx's default is 60s.
	ReadTimeout time.Duration
	// SendTimeout is proxy_send_timeout / send_timeout: the tunnel ends when
	// one write to a peer has not completed within it. 0 disables it.
	SendTimeout time.Duration
	// FrameAware follows WebSocket frames in both directions: message
	// counts, the Close codes passing through, and Close frames at frame
	// boundaries when wsgate ends the tunnel. Off, the tunnel is a plain byte
	// relay that ends by closing both sockets, as nginx does.
	FrameAware bool
	// Splice allows the kernel splice path when both conns are *net.TCPConn
	// and FrameAware is off.
	Splice bool
	// CloseTimeout bounds a frame-aware close: finishing the frame in
	// flight, sending Close and waiting for the peers' Close; when it
	// expires both sockets are closed. Also bounds the wait for the peers
	// to close their connections after a clean closing handshake. Default
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Handle is the tunnel's Registry entry (nil: unregistered). Run removes
	// it when the tunnel ends.
	Handle *Handle
	// Pool lends relay buffers (nil: each tunnel allocates its own large
	// buffer on first need).
	Pool *BufferPool
	// Parker takes over the read sides of the tunnel once it has been idle
	// for ParkAfter (userspace relay only). nil: the Parker of the Handle's
	// Registry; an unregistered tunnel with no Parker never parks.
	Parker *Parker
	// ParkAfter is the idle time after which the copiers park; 0 means
	// DefaultParkAfter, negative never parks.
	ParkAfter time.Duration
	// Loop serves the tunnel from the Parker's event loops, as nginx's
	// workers do: the tunnel is given one loop (shard) at Start, a
	// direction whose read would block parks at once, and its loop's
	// goroutine reads and writes it without blocking when it is ready; a
	// direction falls back to its own goroutine while a write would block,
	// at its end and for close requests. Needs a Parker and socket conns on
	// both sides; ParkAfter does not apply.
	Loop bool
	// Frames, when set, is told of each frame relayed (FrameAware only;
	// see FrameObserver). nil costs nothing per frame.
	Frames FrameObserver
	// Ping sends wsgate's own Pings and finds dead peers (FrameAware only).
	Ping PingOptions
	// ClientLimits and UpstreamLimits bound the frames and messages the
	// client and the upstream send (FrameAware only).
	ClientLimits, UpstreamLimits Limits
	// Progress, when set with ProgressEvery above 0, is told of the
	// running tunnel every ProgressEvery, from the tunnel's timer
	// goroutine (not with the copiers' state held: it may write a log
	// line, but must not block for long).
	Progress      func(Progress)
	ProgressEvery time.Duration

	parkNow bool // tests: park as soon as nothing moves
	// staleHook, tests: called when a copier has found a stale read
	// interrupt, before it clears the deadline.
	staleHook func()
}

type direction uint8

const (
	clientToUpstream direction = iota
	upstreamToClient
)

// endKind says how a copier finished.
type endKind uint8

const (
	endEOF        endKind = iota // source sent FIN; passed on with CloseWrite when halfClosed
	endReadError                 // source failed (reset, timeout)
	endWriteError                // destination failed or SendTimeout expired
	endGone                      // frame-aware: source ended without its Close
	endDrained                   // frame-aware: after our Close, the source's Close or end arrived
	endBroken                    // frame-aware: source failed (a reset) after its Close passed whole
	endLost                      // frame-aware: a Close was due but no frame boundary could be found
	endAborted                   // Run closed the sockets
)

type copierEnd struct {
	dir        direction
	kind       endKind
	err        error
	halfClosed bool // endEOF: CloseWrite succeeded
	sentClose  bool // endGone: a Close went to the destination
}

// tunnel is the state shared by the two copiers and the tunnel's event
// handlers. No goroutine supervises a tunnel: the copiers report their end
// through onEnd, and timers, the context and close requests call in
// through AfterFunc callbacks, so that an idle, parked tunnel has no
// goroutine at all.
type tunnel struct {
	opts tunnelOpts
	h    *Handle
	// conns are the client (index clientToUpstream, the source of that
	// direction) and the upstream; rcs their sockets (rawConn), nil for a
	// conn without one.
	conns       [2]net.Conn
	rcs         [2]syscall.RawConn
	parker      *Parker
	shard       *netpoll.Loop // the Parker's loop of this tunnel; nil when it never parks
	start       int64         // clock() at Start
	last        atomic.Int64  // nanoseconds since start of the latest read
	done        func(Result)
	firstErr    error
	when        int64       // onIdle's due time (clock), 0: none; guarded by deadlines().mu
	slot        int32       // index in deadlines().heap while when != 0; guarded by its mu
	park        *time.Timer // park check (AfterFunc); nil when parking is off
	deadline    *time.Timer // CloseTimeout (AfterFunc)
	stopCtx     func() bool
	mu          sync.Mutex
	writing     atomic.Int32  // copiers inside a Write
	closeCode   atomic.Uint32 // the first Close's code, and in bits 16-23 its sender (noteClose)
	closeReason atomic.Pointer[string]
	cause       atomic.Uint32
	forced      atomic.Bool // the sockets were closed on purpose
	live        uint8       // copiers not ended; guarded by mu
	spliced     bool
	loop        bool    // Options.Loop in effect
	ping        *pinger // nil: no Pings
	// Guarded by mu.
	closing   bool
	idleOff   bool // no more idle checks: the tunnel is closing
	finished  bool
	parkArmed bool

	// The two directions, indexed by direction: the tunnel and its
	// copiers live and die together, in one allocation. copiers[0].src() is
	// the client, copiers[0].dst() the upstream. (The fields above take
	// 280 bytes and a copier 240: with the allocator's 8-byte header of
	// objects with pointers, 768 bytes, the 768-byte size class to the
	// byte (TestTunnelSize); 8 more would take it to 896. That is why a
	// copier derives its conns, sockets, counter and Close codes from its
	// direction, and its Now and buffers are pooled. Pings, reports and
	// limits live behind the ping and g pointers, a Close's reason behind
	// the Trackers', allocated only for tunnels that use them.)
	copiers [2]copier
}

// tunnelOpts are the Options a running tunnel reads.
type tunnelOpts struct {
	ReadTimeout, SendTimeout, CloseTimeout, ParkAfter time.Duration
	Pool                                              *BufferPool
	FrameAware, parkNow                               bool
	staleHook                                         func() // Options.staleHook
}

// deadlines returns where the tunnel's onIdle is scheduled: with the
// other tunnels of its shard, or in looseDeadlines when it has none.
func (t *tunnel) deadlines() *deadlines {
	if t.shard != nil {
		return &t.shard.Ctx.(*shard).dl
	}
	return &looseDeadlines
}

// since returns the time since the tunnel's start.
func (t *tunnel) since() time.Duration { return time.Duration(clock() - t.start) }

func (t *tunnel) touch() { t.last.Store(int64(t.since())) }

// idleFor returns how long no byte has been read either way.
func (t *tunnel) idleFor() time.Duration {
	return t.since() - time.Duration(t.last.Load())
}

func (t *tunnel) setCause(c Cause) { t.cause.CompareAndSwap(0, uint32(c)) }

// noteClose records the tunnel's first Close frame, when this is it: its
// code, who sent it (from: a side, or CauseNone for wsgate) and its
// reason; from is also the tunnel's cause, when it has none yet.
func (t *tunnel) noteClose(code uint16, from Cause, reason string) {
	if t.closeCode.CompareAndSwap(0, uint32(code)|uint32(from)<<16) && reason != "" {
		// A copy, so that only a Close with a reason moves one to the heap.
		r := reason
		t.closeReason.Store(&r)
	}
	t.setCause(from)
}

// forceClose closes both sockets once; parked copiers are resumed first
// (taken out of the Parker while their fd numbers cannot belong to another
// file yet) so that they see the closed sockets and end.
func (t *tunnel) forceClose() { t.forceCloseTaking(nil) }

// forceCloseTaking is forceClose; with taken non-nil, the parked copiers
// it takes out are left in taken instead of resumed, for the caller to end
// with endTaken once it no longer holds t.mu.
func (t *tunnel) forceCloseTaking(taken *[2]*copier) {
	if t.forced.Swap(true) {
		return
	}
	if t.parker != nil {
		for i := range t.copiers {
			c := &t.copiers[i]
			if taken == nil {
				t.parker.unpark(c)
			} else if t.parker.take(c) {
				taken[i] = c
			}
		}
	}
	t.conns[0].Close()
	t.conns[1].Close()
}

// endTaken ends the copiers forceCloseTaking took out of the Parker, in
// the calling goroutine rather than in a goroutine of their own each: a
// parked copier holds no bytes for its destination, so with its sockets
// closed its end is endAborted, as its goroutine would find. One that has
// a request to act on is resumed as before. t.mu is not held.
func (t *tunnel) endTaken(taken *[2]*copier) {
	for _, c := range taken {
		if c == nil {
			continue
		}
		if c.req.Load() != 0 {
			go c.resume()
			continue
		}
		c.releaseBuffers()
		t.onEnd(c.end(endAborted, nil))
	}
}

// sideOf returns who is behind the source of direction d.
func sideOf(d direction) Cause {
	if d == clientToUpstream {
		return CauseClient
	}
	return CauseUpstream
}

// Run relays between client and upstream until the tunnel ends, then closes
// both conns and returns once both directions' goroutines are gone.
// clientBuf and upstreamBuf are bytes already read past the handshake on
// each side (the client's pipelined bytes, the upstream's bytes after its
// 101 header); they are sent first, in order (nginx:
// ngx_http_upstream_upgrade forwards r->header_in and u->buffer first).
// Cancelling ctx ends the tunnel as a shutdown (Close 1001 in frame-aware
// mode). Run does not keep clientBuf or upstreamBuf after it returns.
func Run(ctx context.Context, client, upstream net.Conn, clientBuf, upstreamBuf []byte, opts Options) Result {
	ch := make(chan Result, 1)
	Start(ctx, client, upstream, clientBuf, upstreamBuf, opts, func(r Result) { ch <- r })
	return <-ch
}

// Start is Run without waiting: it returns at once, and done is called
// with the Result, from a goroutine of the tunnel, once the tunnel has
// ended, both conns are closed and no goroutine of the tunnel is left
// (Handle.Done is closed just before). clientBuf and upstreamBuf must not
// change until done is called. While the tunnel is idle and parked, no
// goroutine waits for it, not even the caller's.
func Start(ctx context.Context, client, upstream net.Conn, clientBuf, upstreamBuf []byte, opts Options, done func(Result)) {
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	h := opts.Handle
	if h == nil {
		h = newHandle(nil, Info{})
	}
	if opts.Frames != nil && opts.FrameAware {
		h.frames = opts.Frames.Frame
	}
	t := &tunnel{
		opts: tunnelOpts{
			ReadTimeout:  opts.ReadTimeout,
			SendTimeout:  opts.SendTimeout,
			CloseTimeout: opts.CloseTimeout,
			ParkAfter:    opts.ParkAfter,
			Pool:         opts.Pool,
			FrameAware:   opts.FrameAware,
			parkNow:      opts.parkNow,
			staleHook:    opts.staleHook,
		},
		h:     h,
		start: clock(),
		done:  done,
		live:  2,
	}
	t.conns = [2]net.Conn{client, upstream}
	t.rcs = [2]syscall.RawConn{rawConn(client), rawConn(upstream)}
	up, down := &t.copiers[clientToUpstream], &t.copiers[upstreamToClient]
	*up = copier{t: t, dir: clientToUpstream}
	*down = copier{t: t, dir: upstreamToClient}
	if len(clientBuf) > 0 {
		up.out, up.outRaw = clientBuf, true
	}
	if len(upstreamBuf) > 0 {
		down.out, down.outRaw = upstreamBuf, true
	}
	t.ping = newPinger(&opts)
	if opts.FrameAware {
		if opts.Ping.on() && opts.Ping.Client || opts.ClientLimits.on() {
			up.g = newGate(opts.Ping.on() && opts.Ping.Client, opts.ClientLimits)
		}
		if opts.Ping.on() && opts.Ping.Upstream || opts.UpstreamLimits.on() {
			down.g = newGate(opts.Ping.on() && opts.Ping.Upstream, opts.UpstreamLimits)
		}
	}

	_, ctcp := client.(*net.TCPConn)
	_, utcp := upstream.(*net.TCPConn)
	t.spliced = opts.Splice && !opts.FrameAware && ctcp && utcp
	// Only sockets park (a TLS conn has its own buffered state).
	if !t.spliced && opts.ParkAfter >= 0 && t.rcs[0] != nil && t.rcs[1] != nil {
		t.parker = opts.Parker
		if t.parker == nil && h.reg != nil {
			t.parker = h.reg.parker()
		}
		if t.parker != nil {
			// New tunnels spread over the Parker's shards; nil when it
			// is closed or there is no event loop here: no parking.
			if t.shard = t.parker.pick(); t.shard == nil {
				t.parker = nil
			}
		}
	}

	t.loop = opts.Loop && t.parker != nil
	t.mu.Lock()
	// One timer serves ReadTimeout, the Pings and the Progress reports
	// (onIdle), scheduled with the other tunnels of the shard.
	switch {
	case t.ping != nil && (opts.ReadTimeout <= 0 || t.ping.firstWait() < opts.ReadTimeout):
		t.deadlines().schedule(t, t.ping.firstWait())
	case opts.ReadTimeout > 0:
		t.deadlines().schedule(t, opts.ReadTimeout)
	}
	if t.parker != nil && !t.loop {
		t.park = time.AfterFunc(t.parkAfter(), t.onParkCheck)
		t.parkArmed = true
	}
	if ctx.Done() != nil {
		t.stopCtx = context.AfterFunc(ctx, func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.requestClose(CauseShutdown, ws.CloseGoingAway, "server shutting down")
		})
	}
	t.mu.Unlock()

	switch {
	case t.spliced:
		go up.spliceClientToUpstream()
		go down.spliceUpstreamToClient()
	case t.loop:
		up.startLoop()
		down.startLoop()
	default:
		go up.copyClientToUpstream()
		go down.copyUpstreamToClient()
	}
	// Requests made before Start (Registry.Shutdown, CloseWhere) and from
	// now on reach the tunnel through onRequest.
	h.attach(t)
}

func (t *tunnel) parkAfter() time.Duration {
	if t.opts.ParkAfter > 0 {
		return t.opts.ParkAfter
	}
	if t.opts.parkNow {
		return time.Microsecond
	}
	return DefaultParkAfter
}

// requestClose ends the tunnel on our initiative: Close frames in
// frame-aware mode, closed sockets otherwise. t.mu is held.
func (t *tunnel) requestClose(c Cause, code uint16, reason string) {
	if t.finished {
		return
	}
	t.setCause(c)
	t.idleOff = true
	if !t.opts.FrameAware {
		t.forceClose()
		return
	}
	if t.closing {
		return
	}
	t.closing = true
	t.armDeadline()
	for i := range t.copiers {
		if cp := &t.copiers[i]; !cp.ended {
			cp.request(reqClose, code, reason)
		}
	}
}

// armDeadline starts the CloseTimeout once. t.mu is held.
func (t *tunnel) armDeadline() {
	if t.deadline == nil {
		t.deadline = time.AfterFunc(t.opts.CloseTimeout, t.forceClose)
	}
}

// onRequest applies the Handle's pending close request.
func (t *tunnel) onRequest() {
	if r, ok := t.h.takeRequest(); ok {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.requestClose(r.cause, r.code, r.reason)
	}
}

// onEnd handles the end of one copier; the last one finishes the tunnel.
func (t *tunnel) onEnd(e copierEnd) {
	// The other copier, when parked, is ended here after t.mu is let go
	// (endTaken): one goroutine less at the end of a tunnel.
	var taken [2]*copier
	t.mu.Lock()
	t.live--
	live := t.live
	t.copiers[e.dir].ended = true
	if t.firstErr == nil && e.err != nil && !t.forced.Load() {
		t.firstErr = e.err
	}
	other := t.copiers[e.dir].other()
	switch e.kind {
	case endEOF:
		t.setCause(sideOf(e.dir))
		if !e.halfClosed || t.handshakeDone() {
			t.forceCloseTaking(&taken)
		} else if t.opts.FrameAware {
			t.armDeadline()
		}
	case endReadError:
		t.setCause(errCause(e.err, sideOf(e.dir)))
		t.forceCloseTaking(&taken)
	case endWriteError:
		t.setCause(errCause(e.err, sideOf(other.dir)))
		if t.opts.FrameAware && live > 0 && !errors.Is(e.err, os.ErrDeadlineExceeded) {
			// The destination is gone: the other copier reads from it
			// and sends its Close to the survivor.
			t.armDeadline()
			other.request(reqClose, other.goneCode(), "peer went away")
		} else {
			t.forceCloseTaking(&taken)
		}
	case endGone:
		t.setCause(sideOf(e.dir))
		if e.sentClose && live > 0 {
			t.armDeadline()
			other.request(reqDrain, 0, "")
		} else {
			t.forceCloseTaking(&taken)
		}
	case endDrained:
		// Nothing to do: a drain follows a close request (requestClose,
		// endWriteError) or the other copier's end (endGone, endBroken),
		// each of which armed CloseTimeout; the other copier, if live,
		// is closing or draining its own source, and its end finishes
		// the tunnel.
	case endBroken:
		// src's Close went whole to dst, then src failed: a server that
		// answers a Close and closes with SO_LINGER 0 resets. Nothing
		// more reaches src. With the closing handshake complete the
		// tunnel ends now, as on src's FIN; otherwise dst, which has
		// src's Close, may still answer it: its answer is read and
		// dropped, within CloseTimeout.
		t.setCause(sideOf(e.dir))
		if live > 0 && !t.handshakeDone() {
			t.armDeadline()
			other.request(reqDrain, 0, "")
		} else {
			t.forceCloseTaking(&taken)
		}
	case endLost, endAborted:
		t.forceCloseTaking(&taken)
	}
	if live > 0 {
		t.mu.Unlock()
		t.endTaken(&taken)
		return
	}
	t.finished = true
	t.deadlines().cancel(t)
	for _, tm := range []*time.Timer{t.park, t.deadline} {
		if tm != nil {
			tm.Stop()
		}
	}
	firstErr := t.firstErr
	t.mu.Unlock()
	if t.stopCtx != nil {
		t.stopCtx()
	}
	t.forceClose()

	h := t.h
	res := Result{
		FromClient:           h.fromClient.Load(),
		FromUpstream:         h.fromUpstream.Load(),
		MessagesFromClient:   t.copiers[clientToUpstream].messages(),
		MessagesFromUpstream: t.copiers[upstreamToClient].messages(),
		ClosedBy:             Cause(t.cause.Load()),
		CloseCode:            uint16(t.closeCode.Load()),
		CloseFrom:            Cause(t.closeCode.Load() >> 16),
		CloseReason:          t.reason(),
		Spliced:              t.spliced,
		ClientRTT:            t.ping.RTT(clientToUpstream),
		UpstreamRTT:          t.ping.RTT(upstreamToClient),
		Duration:             t.since(),
		Err:                  firstErr,
	}
	h.Remove()
	t.done(res)
}

// handshakeDone reports whether the closing handshake is complete with
// both sides: each sent its Close, and a Close (its peer's, or wsgate's)
// has been written whole to each (RFC 6455 5.5.1, 7.1.1). Two Closes of
// wsgate's own are not enough: a side that was sent one and has not
// answered yet would find its answer refused with a reset.
func (t *tunnel) handshakeDone() bool {
	c := &t.copiers
	return t.opts.FrameAware && c[0].closePassed.Load() && c[1].closePassed.Load() &&
		c[0].srcClosed.Load() && c[1].srcClosed.Load()
}

// onClosePassed is called by a copier once a Close went whole to its
// destination. When that completes the closing handshake and one side has
// already closed its connection, both sockets are closed at once rather
// than after the other side's close or CloseTimeout: the server closes
// the TCP connection first (RFC 6455 7.1.1), and the session's duration
// ends with its handshake. While both are open, neither may send
// anything more (RFC 6455 5.5.1): their closes are awaited for
// CloseTimeout, not ReadTimeout.
func (t *tunnel) onClosePassed() {
	if !t.handshakeDone() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished {
		return
	}
	if t.live < 2 {
		t.forceClose()
		return
	}
	t.armDeadline()
}

// errCause maps a timeout error to CauseTimeout and anything else to side.
func errCause(err error, side Cause) Cause {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return CauseTimeout
	}
	return side
}

// isEOF reports whether err is the peer's orderly end of stream.
func isEOF(err error) bool { return err == io.EOF }
