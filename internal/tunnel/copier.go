package tunnel

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/ws"
)

// Request bits stored in copier.req; the low 16 bits hold a Close code.
const (
	reqDead  uint32 = 1 << 27 // src stopped answering Pings: Close to dst, close src, end
	reqPing  uint32 = 1 << 28 // send a Ping of ours to dst at the next frame boundary
	reqPark  uint32 = 1 << 29 // the tunnel is idle: hand src to the Parker and end the goroutine
	reqClose uint32 = 1 << 30 // send a Close to dst at the next frame boundary, then drain src
	reqDrain uint32 = 1 << 31 // dst is gone: stop forwarding, read src until its Close
)

// longAgo is a deadline in the past, used to interrupt a blocked Read.
var longAgo = time.Unix(1, 0)

// copier moves one direction of a tunnel: reads src, writes dst. Its
// goroutine is the only writer to dst, so a Close frame it sends can never
// tear a frame apart. The tunnel's event handlers talk to it through req.
type copier struct {
	t   *tunnel
	dir direction

	// Owned by the copier goroutine (one at a time: a resumed copier runs
	// in a new goroutine).
	state      copierState
	sentClose  bool
	noted      bool // the Close of src was reported to the tunnel
	parkedOnce bool // the copier has parked: a resume clears the interrupt first

	ended bool // guarded by tunnel.mu
	// outRaw says out holds the bytes read past the handshake, not yet
	// processed (tracked, gated); otherwise out is what the event loop
	// processed and dst did not take.
	outRaw bool

	req    atomic.Uint32
	reason atomic.Pointer[string]
	// closePassed is set once a Close frame, relayed or ours, has been
	// written whole to dst.
	closePassed atomic.Bool
	// srcClosed is set once src's own Close frame has come whole,
	// relayed or read while draining.
	srcClosed atomic.Bool

	g *gate // src's frame policy (pongs, limits); nil: none
	// out is bytes for dst before src is read again: at the start the
	// bytes read past the handshake (outRaw), sent first; after the event
	// loop handed the direction to a goroutine, the bytes it read and
	// processed that dst did not take without blocking. Never both: the
	// loop takes a direction only once its first bytes are gone.
	out []byte

	// Owned by the copier goroutine.
	tr    ws.Tracker
	small *[]byte      // smallBufferSize bytes from smallPool; nil while parked
	big   *[]byte      // DefaultBufferSize bytes (Options.Pool's, or its own) while reads fill more than small
	now   *netpoll.Now // rawRead and writeN's first write, from nowPool; nil while parked

	// Left by the event loop for the copier's goroutine (Options.Loop):
	// how the last read ended (io.EOF or an error) when it ended src.
	stash   error
	parkTok netpoll.Token // registration in t.shard while parked, 0 otherwise; guarded by the loop
}

// The sides of a copier, all derived from its direction: a copier keeps
// no conn, socket or counter of its own (the tunnel holds the two conns
// and their sockets once), which keeps the tunnel within its size class.

// src is the conn the copier reads; dst the one it writes.
func (c *copier) src() net.Conn { return c.t.conns[c.dir] }
func (c *copier) dst() net.Conn { return c.t.conns[1-c.dir] }

// srcRC and dstRC are the sockets of src and dst (rawConn), nil for a
// conn without one: src's for the Parker and the loop's reads, dst's for
// the non-blocking first write (writeN).
func (c *copier) srcRC() syscall.RawConn { return c.t.rcs[c.dir] }
func (c *copier) dstRC() syscall.RawConn { return c.t.rcs[1-c.dir] }

// other is the copier of the opposite direction.
func (c *copier) other() *copier { return &c.t.copiers[1-c.dir] }

// counter is the Handle's live byte count for this direction.
func (c *copier) counter() *atomic.Int64 {
	if c.dir == clientToUpstream {
		return &c.t.h.fromClient
	}
	return &c.t.h.fromUpstream
}

// mask reports whether dst is the upstream: frames wsgate sends it are
// masked (RFC 6455 5.3).
func (c *copier) mask() bool { return c.dir == clientToUpstream }

// goneCode is the Close code sent to dst when src goes away without a
// Close: 1001 to the upstream for a client gone, 1014 to the client for an
// upstream gone.
func (c *copier) goneCode() uint16 {
	if c.dir == clientToUpstream {
		return ws.CloseGoingAway
	}
	return ws.CloseBadGateway
}

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
	c.src().SetReadDeadline(longAgo)
	if kind != reqPark && c.t.parker != nil {
		c.t.parker.unpark(c)
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
