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
package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"wsgate/internal/ws"
)

// Cause says why a tunnel ended.
type Cause uint8

// Causes reported in Result.ClosedBy.
const (
	CauseNone     Cause = iota
	CauseClient         // the client sent the first Close, EOF or error
	CauseUpstream       // the upstream sent the first Close, EOF or error
	CauseTimeout        // ReadTimeout (idle) or SendTimeout expired
	CauseReload         // closed through Registry.CloseWhere (route changed)
	CauseShutdown       // closed through Registry.Shutdown or Run's context
)

func (c Cause) String() string {
	switch c {
	case CauseClient:
		return "client"
	case CauseUpstream:
		return "upstream"
	case CauseTimeout:
		return "timeout"
	case CauseReload:
		return "reload"
	case CauseShutdown:
		return "shutdown"
	}
	return "none"
}

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
	// expires both sockets are closed. Also bounds the wait for the other
	// direction after a clean closing handshake. Default DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Handle is the tunnel's Registry entry (nil: unregistered). Run removes
	// it when the tunnel ends.
	Handle *Handle
	// Pool lends relay buffers (nil: each tunnel allocates its own large
	// buffer on first need).
	Pool *BufferPool
}

// Result describes a finished tunnel.
type Result struct {
	FromClient   int64 // bytes relayed client → upstream, buffered ones included
	FromUpstream int64 // bytes relayed upstream → client, buffered ones included
	// MessagesFromClient and MessagesFromUpstream count complete data
	// messages seen (frame-aware only).
	MessagesFromClient   uint64
	MessagesFromUpstream uint64
	ClosedBy             Cause
	// CloseCode is the code of the first Close frame of the tunnel: one that
	// passed through or one wsgate sent; 0 when there was none.
	CloseCode uint16
	Spliced   bool // the kernel splice path was used
	Duration  time.Duration
	// Err is the first I/O error other than EOF and the errors of closing
	// the tunnel on purpose; nil for a clean end.
	Err error
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

// tunnel is the state shared by Run's supervisor and the two copiers.
type tunnel struct {
	client, upstream net.Conn
	opts             Options
	start            time.Time
	last             atomic.Int64 // nanoseconds since start of the latest read
	writing          atomic.Int32 // copiers inside a Write
	forced           atomic.Bool  // the sockets were closed by Run
	closeCode        atomic.Uint32
	cause            atomic.Uint32
	ends             chan copierEnd
	copiers          [2]*copier  // indexed by direction
	idle             *time.Timer // ReadTimeout timer; used by supervise only
}

func (t *tunnel) touch() { t.last.Store(int64(time.Since(t.start))) }

func (t *tunnel) setCause(c Cause) { t.cause.CompareAndSwap(0, uint32(c)) }

func (t *tunnel) noteClose(code uint16, c Cause) {
	t.closeCode.CompareAndSwap(0, uint32(code))
	t.setCause(c)
}

func (t *tunnel) forceClose() {
	if t.forced.Swap(true) {
		return
	}
	t.client.Close()
	t.upstream.Close()
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
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	h := opts.Handle
	if h == nil {
		h = newHandle(nil, Info{})
	}
	defer h.Remove()
	t := &tunnel{
		client:   client,
		upstream: upstream,
		opts:     opts,
		start:    time.Now(),
		ends:     make(chan copierEnd, 2),
	}
	up := &copier{t: t, dir: clientToUpstream, src: client, dst: upstream, pending: clientBuf,
		counter: &h.fromClient, mask: true, goneCode: ws.CloseGoingAway}
	down := &copier{t: t, dir: upstreamToClient, src: upstream, dst: client, pending: upstreamBuf,
		counter: &h.fromUpstream, goneCode: ws.CloseBadGateway}
	up.other, down.other = down, up
	t.copiers = [2]*copier{up, down}

	var res Result
	_, ctcp := client.(*net.TCPConn)
	_, utcp := upstream.(*net.TCPConn)
	if opts.Splice && !opts.FrameAware && ctcp && utcp {
		res.Spliced = true
		go up.spliceClientToUpstream()
		go down.spliceUpstreamToClient()
	} else {
		go up.copyClientToUpstream()
		go down.copyUpstreamToClient()
	}
	res.Err = t.supervise(ctx, h)
	t.forceClose()

	res.FromClient = h.fromClient.Load()
	res.FromUpstream = h.fromUpstream.Load()
	res.MessagesFromClient = up.tr.Messages()
	res.MessagesFromUpstream = down.tr.Messages()
	res.ClosedBy = Cause(t.cause.Load())
	res.CloseCode = uint16(t.closeCode.Load())
	res.Duration = time.Since(t.start)
	return res
}

// supervise waits for both copiers, running the idle timer, the close
// deadline and close requests. It returns the first unexpected error.
func (t *tunnel) supervise(ctx context.Context, h *Handle) error {
	var firstErr error
	live := 2
	var idleC <-chan time.Time
	if t.opts.ReadTimeout > 0 {
		idle := time.NewTimer(t.opts.ReadTimeout)
		defer idle.Stop()
		idleC = idle.C
		t.idle = idle
	}
	var deadline *time.Timer
	var deadlineC <-chan time.Time
	armDeadline := func() {
		if deadline == nil {
			deadline = time.NewTimer(t.opts.CloseTimeout)
			deadlineC = deadline.C
		}
	}
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
	}()
	closing := false
	// requestClose ends the tunnel on our initiative: Close frames in
	// frame-aware mode, closed sockets otherwise.
	requestClose := func(c Cause, code uint16, reason string) {
		t.setCause(c)
		idleC = nil
		if !t.opts.FrameAware {
			t.forceClose()
			return
		}
		if closing {
			return
		}
		closing = true
		armDeadline()
		for _, cp := range t.copiers {
			if !cp.ended {
				cp.request(reqClose, code, reason)
			}
		}
	}
	ctxDone := ctx.Done()
	for live > 0 {
		select {
		case e := <-t.ends:
			live--
			t.copiers[e.dir].ended = true
			if firstErr == nil && e.err != nil && !t.forced.Load() {
				firstErr = e.err
			}
			other := t.copiers[e.dir].other
			switch e.kind {
			case endEOF:
				t.setCause(sideOf(e.dir))
				if !e.halfClosed {
					t.forceClose()
				} else if t.opts.FrameAware {
					armDeadline()
				}
			case endReadError:
				t.setCause(errCause(e.err, sideOf(e.dir)))
				t.forceClose()
			case endWriteError:
				t.setCause(errCause(e.err, sideOf(other.dir)))
				if t.opts.FrameAware && live > 0 && !errors.Is(e.err, os.ErrDeadlineExceeded) {
					// The destination is gone: the other copier reads from it
					// and sends its Close to the survivor.
					armDeadline()
					other.request(reqClose, other.goneCode, "peer went away")
				} else {
					t.forceClose()
				}
			case endGone:
				t.setCause(sideOf(e.dir))
				if e.sentClose && live > 0 {
					armDeadline()
					other.request(reqDrain, 0, "")
				} else {
					t.forceClose()
				}
			case endDrained:
			case endLost, endAborted:
				t.forceClose()
			}
		case <-idleC:
			if t.writing.Load() > 0 {
				t.idle.Reset(t.opts.ReadTimeout)
				continue
			}
			since := time.Since(t.start) - time.Duration(t.last.Load())
			if since < t.opts.ReadTimeout {
				t.idle.Reset(t.opts.ReadTimeout - since)
				continue
			}
			// nginx: "upstream timed out ... while proxying upgraded
			// connection", both sockets closed; frame-aware: Close 1001.
			requestClose(CauseTimeout, ws.CloseGoingAway, "idle timeout")
		case <-ctxDone:
			ctxDone = nil
			requestClose(CauseShutdown, ws.CloseGoingAway, "server shutting down")
		case r := <-h.req:
			requestClose(r.cause, r.code, r.reason)
		case <-deadlineC:
			deadlineC = nil
			t.forceClose()
		}
	}
	return firstErr
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
