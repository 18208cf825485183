package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/internal/netpoll"
)

// This file runs one client connection for Serve: reads and writes under
// nginx's timeouts, the request loop with keep-alive and pipelining, head
// errors, 100-continue and the lingering close.

// connReader sets a read deadline before each read when perRead is set
// (client_body_timeout is "between two successive read operations").
type connReader struct {
	conn    net.Conn
	perRead time.Duration
	// stale is set while the handler runs: the read deadline on conn is
	// still the head's (keepalive_timeout, client_header_timeout), and the
	// first read that sets none of its own clears it. A request that
	// never reads its body thus costs no deadline change.
	stale bool
	// moved is set when Read changed the read deadline: the one
	// serverConn.setReadDeadline armed is gone.
	moved bool
	// idle is set while Serve waits for a request's first byte on a
	// socket (rc): the read is tried once without waiting, and
	// errWouldWait tells Serve to wait without its buffers (waitIdle).
	idle bool
	rc   syscall.RawConn // nil when conn is not a socket (TLS)
	now  netpoll.Now
	// nc is conn when it is a raw socket: an idle read goes to it
	// straight, its read deadline checked against at (Unix
	// nanoseconds), the clock reading the deadline was set from.
	nc *netpoll.Conn
	at int64
	// ahead and aheadErr are State.Ahead and State.AheadErr, not yet
	// served: the first reads take them instead of reading conn.
	ahead    []byte
	aheadErr error
}

// errWouldWait is connReader's answer to an idle read that found nothing.
var errWouldWait = errors.New("http1: nothing to read yet")

func (c *connReader) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		c.idle = false
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		return n, nil
	}
	if c.aheadErr != nil {
		c.idle = false
		err := c.aheadErr
		c.aheadErr = nil
		return 0, err
	}
	if c.idle {
		c.idle = false
		var n int
		var err error
		if c.nc != nil {
			n, err = c.nc.ReadNow(p, c.at)
		} else {
			n, err = c.now.Read(c.rc, p)
		}
		if err == netpoll.ErrAgain {
			return 0, errWouldWait
		}
		return n, err
	}
	if c.perRead > 0 {
		c.stale, c.moved = false, true
		if err := c.conn.SetReadDeadline(time.Now().Add(c.perRead)); err != nil {
			return 0, err
		}
	} else if c.stale {
		c.stale, c.moved = false, true
		if err := c.conn.SetReadDeadline(time.Time{}); err != nil {
			return 0, err
		}
	}
	return c.conn.Read(p)
}

// connWriter bounds each write that has to wait with send_timeout: what
// the socket takes at once (rc, a plain TCP connection) is written without
// a deadline; the rest under a deadline set before the write.
type connWriter struct {
	conn     net.Conn
	perWrite time.Duration
	rc       syscall.RawConn // nil when conn is not a socket (TLS)
	now      netpoll.Now
	nc       *netpoll.Conn // conn when it is a raw socket
	// pace is the request's limit_rate (rate.go).
	pace pacer
	// writes counts the writes to the socket since the request's head
	// was read.
	writes int
}

func (c *connWriter) Write(p []byte) (int, error) {
	if c.pace.rate > 0 {
		n := 0
		for n < len(p) {
			k64, err := c.pace.allow(int64(len(p) - n))
			if err != nil {
				return n, err
			}
			k := int(k64)
			m, err := c.write(p[n : n+k])
			c.pace.wrote(int64(m))
			n += m
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
	return c.write(p)
}

// write is Write without the pacing.
func (c *connWriter) write(p []byte) (int, error) {
	c.writes++
	if c.perWrite <= 0 {
		return c.conn.Write(p)
	}
	n := 0
	switch {
	case c.nc != nil:
		if n = c.nc.WriteNow(p); n == len(p) {
			return n, nil
		}
	case c.rc != nil:
		if n, _ = c.now.Write(c.rc, p); n == len(p) {
			return n, nil
		}
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.perWrite)); err != nil {
		return n, err
	}
	m, err := c.conn.Write(p[n:])
	return n + m, err
}

// serverConn is one connection served by Serve and the per-request state
// it reuses.
type serverConn struct {
	conn     net.Conn
	cfg      *ConnConfig
	cr       connReader
	cw       connWriter
	br       *bufio.Reader
	bw       *bufio.Writer
	req      Request
	body     Body
	w        ResponseWriter
	requests int
	start    time.Time // when Serve began: keepalive_time counts from it
	hijacked bool
	// spare holds the pooled reader and writer a hijack let go of; Serve
	// gives them back when the handler has returned.
	spareBR *bufio.Reader
	spareBW *bufio.Writer
	// woken is waitIdle's callback and send100Fn Body.beforeRead's, each
	// bound once per pooled serverConn (connPool); waited says whether
	// waitIdle's wait has begun.
	woken     func(fd uintptr) bool
	send100Fn func() error
	// discard is the writer a hijacked connection's late response writes
	// go to, made once per pooled serverConn.
	discard *bufio.Writer
	waited  bool
	peeked  [1]byte
	// deadline is the read deadline set last (setReadDeadline); resumeBy
	// the one a resumed connection waits under first (State.Deadline).
	deadline, resumeBy time.Time
	// parked: serve returned to park the connection (ConnConfig.Park).
	parked bool
	// armed is the read deadline setReadDeadline set last, valid while
	// armedOK: nothing else changed it since.
	armed   time.Time
	armedOK bool
	// slept is set by waitIdle: the wait for a request's first byte went
	// through the poller, so the clock read before it is stale.
	slept bool
	// resumed: ServeFrom resumed a parked connection, whose wait for the
	// first byte slept in an event loop.
	resumed bool
}

// errPark is peekFirst's answer when the connection is to be parked.
var errPark = errors.New("http1: connection parked")

// peekFirst reads the first byte of the next request head into c.br,
// waiting under the read deadline set. A plain socket that has nothing
// yet is waited for without the connection's buffers: they go back to
// their pools until bytes arrive, so that an idle connection (before its
// first request, or kept alive between two) holds 8 KiB less, as nginx
// frees a keep-alive connection's buffer (ngx_http_set_keepalive) and
// reads a fresh one only once it is readable (ngx_http_wait_request_handler).
// The read that finds the bytes there costs what it did. now is the
// clock reading the read deadline was set from: a keep-alive wait's
// KeepaliveGrace runs from it too, with no reading of its own.
//
// With waitIfQuiet, a socket its loop reports nothing on since the last
// read left it empty (netpoll.Conn.Quiet) is waited for without a read
// first: right after a response that was relayed as it came (a proxied
// one), the client has had no time to send its next request.
func (c *serverConn) peekFirst(now time.Time, waitIfQuiet bool) error {
	if c.br.Buffered() > 0 {
		return nil
	}
	c.cr.idle = c.cr.rc != nil && c.bw.Buffered() == 0
	c.cr.at = now.UnixNano()
	var err error
	if waitIfQuiet && c.cr.idle && c.cr.nc != nil && c.cr.nc.Quiet() {
		// Nothing came since the last read left the socket empty: it
		// waits for the next edge without a read that would find
		// nothing, as nginx after a short read (ngx_unix_recv clears
		// rev->ready; ngx_http_set_keepalive then reads only once an
		// event comes).
		err = errWouldWait
	} else {
		_, err = c.br.Peek(1)
	}
	c.cr.idle = false
	if err != errWouldWait {
		return err
	}
	if c.cfg.Park && c.requests == 0 {
		return errPark
	}
	// A parkable keep-alive connection waits KeepaliveGrace here first,
	// and is parked when nothing came by then: a next request that comes
	// soon costs no park and resume.
	graced := false
	if grace := now.Add(c.cfg.KeepaliveGrace); c.cfg.Park && (c.deadline.IsZero() || grace.Before(c.deadline)) {
		c.conn.SetReadDeadline(grace)
		graced = true
	}
	c.slept = true
	err = c.waitIdle()
	if graced {
		c.conn.SetReadDeadline(c.deadline)
		c.armed, c.armedOK = c.deadline, true
		if isTimeout(err) {
			return errPark
		}
	}
	if err != nil {
		return err
	}
	_, err = c.br.Peek(1)
	return err
}

// idleHook, tests: called by waitIdle once the buffers are back in their
// pools, before the wait.
var idleHook atomic.Pointer[func(*serverConn)]

// wake is the callback of waitIdle's wait. Its first call looks whether
// bytes came since the read that found none (MSG_PEEK, nothing consumed):
// the wait's start forgets a readiness the poller saw meanwhile. The
// next call is the poller's wake-up, after which the request's read is
// tried (on a spurious wake-up it waits in the poller as any read does).
func (c *serverConn) wake(fd uintptr) bool {
	if c.waited {
		return true
	}
	c.waited = true
	_, err := netpoll.PeekInto(fd, c.peeked[:])
	return err != syscall.EAGAIN
}

// waitIdle puts c's empty buffers back in their pools, waits until the
// socket is readable (or the read deadline passes, or the connection is
// closed), and takes buffers again.
func (c *serverConn) waitIdle() error {
	c.br.Reset(nil)
	readerPool.Put(c.br)
	c.bw.Reset(nil)
	writerPool.Put(c.bw)
	c.br, c.bw = nil, nil
	if h := idleHook.Load(); h != nil {
		(*h)(c)
	}
	if c.woken == nil {
		c.woken = c.wake
	}
	c.waited = false
	var err error
	if c.cr.nc != nil {
		// The idle read was ReadNow's, which left no stale wake-up.
		err = c.cr.nc.WaitReadable()
	} else {
		err = c.cr.rc.Read(c.woken)
	}
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(&c.cr)
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(&c.cw)
	return err
}

func (c *serverConn) logf(msg string, args ...any) {
	if l := c.cfg.Logger; l != nil {
		l.Debug(msg, append(args, "client", c.conn.RemoteAddr().String())...)
	}
}

// stopping reports whether ConnConfig.Stopping asks the connection to end.
func (c *serverConn) stopping() bool {
	return c.cfg.Stopping != nil && c.cfg.Stopping.Load()
}

func (c *serverConn) serve(h Handler) {
	defer func() {
		if !c.hijacked && !c.parked {
			// The connection is counted out before its socket closes,
			// as ngx_http_close_connection does: a client that sees
			// the close and connects again finds it gone.
			c.cfg.Stats.Closed()
			c.conn.Close()
		}
	}()
	for {
		c.cr.perRead, c.cr.stale = 0, false
		if c.cr.moved || c.cw.pace.rate > 0 {
			// A body read or limit_rate's watch (watchFor) set a read
			// deadline of its own.
			c.cr.moved, c.armedOK = false, false
		}
		pipelined := c.requests > 0 && c.br.Buffered() > 0
		// One clock reading serves the request's deadlines, its start
		// (exchange.Request.Start) and keepalive_time, as nginx reads
		// the time once per turn of its event loop (ngx_time_update)
		// and its timers and r->start_msec use that reading. It is
		// read again only when the wait for the first byte slept.
		var now time.Time
		c.slept, c.resumed = c.resumed, false
		if c.requests == 0 {
			now = c.start
			c.setReadDeadline(c.cfg.ClientHeaderTimeout, now)
			if c.stopping() {
				return
			}
			// A request exists once its first byte arrived
			// (ngx_http_wait_request_handler): until then the
			// connection is waiting.
			if err := c.peekFirst(now, false); err != nil {
				if err == errPark {
					c.parked = true
					return
				}
				c.headError(err, h)
				return
			}
			if c.slept || c.cr.rc == nil {
				now = time.Now()
			}
		} else {
			// A response finish wrote whole has only just gone out: a
			// read now would most often find the socket empty (EAGAIN)
			// and then wait for the next request. Yielding first lets
			// the other connections' ready work run meanwhile, and the
			// read after it usually finds the request there, as nginx
			// reads a keep-alive connection only once its event loop,
			// having handled the other ready events, says it is
			// readable (ngx_http_set_keepalive). A response that was
			// written before its end (streamed, flushed by a proxy) has
			// waited already and reads at once.
			// After a response relayed as it came there is no yield:
			// the read is skipped instead when nothing came (peekFirst).
			yield := !pipelined && c.w.atOnce
			if yield {
				runtime.Gosched()
			}
			// ngx_http_set_keepalive: keepalive_timeout until the first
			// byte, then client_header_timeout for the head.
			now = time.Now()
			c.setReadDeadline(c.w.limits.KeepaliveTimeout, now)
			if c.stopping() && !headBuffered(c.br) {
				return
			}
			if err := c.peekFirst(now, !yield); err != nil {
				c.parked = err == errPark
				return
			}
			if c.slept || c.cr.rc == nil {
				now = time.Now()
			}
			// A head already whole in the buffer needs no more reads,
			// nor client_header_timeout for them.
			if !headBuffered(c.br) {
				c.setReadDeadline(c.cfg.ClientHeaderTimeout, now)
			}
		}
		stats := c.cfg.Stats
		stats.Reading()
		err := ParseRequestHead(c.br, &c.cfg.Head, &c.req)
		if err != nil {
			c.headError(err, h)
			stats.ReadDone()
			return
		}
		c.requests++
		c.req.Pipelined = pipelined
		c.req.Start = now
		stats.Writing()
		ok := c.serveRequest(h)
		if !c.hijacked {
			stats.WriteDone()
		}
		if !ok {
			return
		}
	}
}

// headBuffered reports whether br holds a whole request head: an empty
// line after the request line. The parser then reads no more.
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	// Most often the buffer holds one head, ending where the read did.
	return bytes.HasSuffix(b, crlfcrlf) || bytes.Contains(b, crlfcrlf) || bytes.Contains(b, lflf)
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
)

// setReadDeadline arms the read deadline d after now (none for d 0),
// unless the one armed is within timerLazyDelay of it: nginx moves a
// timer only when the new time is at least NGX_TIMER_LAZY_DELAY away
// (ngx_event_add_timer), so that a keep-alive connection's requests do
// not each move its timer.
func (c *serverConn) setReadDeadline(d time.Duration, now time.Time) {
	var t time.Time
	if !c.resumeBy.IsZero() {
		// A resumed connection's wait goes on under its deadline.
		t, c.resumeBy = c.resumeBy, time.Time{}
	} else if d > 0 {
		t = now.Add(d)
	}
	c.deadline = t
	if c.armedOK && t.IsZero() == c.armed.IsZero() {
		if diff := t.Sub(c.armed); diff > -timerLazyDelay && diff < timerLazyDelay {
			return
		}
	}
	c.armed, c.armedOK = t, true
	c.conn.SetReadDeadline(t)
}

// timerLazyDelay is nginx's NGX_TIMER_LAZY_DELAY.
const timerLazyDelay = 300 * time.Millisecond

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// headError answers a head nginx rejects; timeouts and early closes get no
// response (ngx_http_close_request with 408, or c->error). nginx finishes
// every other head error with ngx_http_finalize_request and its status,
// so the error_page of the server chosen so far (the default one, or the
// Host's once a valid Host was read) answers it: a HeadErrorHandler gets
// the request as far as it was read; else the built-in page is sent. The
// connection closes after the answer either way, as nginx's does.
func (c *serverConn) headError(err error, h Handler) {
	switch {
	case errors.Is(err, io.EOF):
		return
	case isTimeout(err):
		c.logf("client timed out", "status", 408)
		return
	}
	st := StatusOf(err)
	if st == 0 {
		c.logf("reading client request headers", "error", err)
		return
	}
	c.logf(err.Error(), "status", st)
	c.w.reset(&c.req, c.cfg.Limits)
	c.w.CloseAfter()
	if eh, ok := h.(HeadErrorHandler); ok {
		c.body.Reset(c.br, 0, false)
		c.req.KeepAlive, c.req.Expect100 = false, false
		c.cw.perWrite = c.cfg.Limits.SendTimeout
		eh.ServeHeadError(&c.w, &c.req, st)
		if c.hijacked {
			return
		}
		if !c.w.wroteHeader {
			c.w.WriteError(st)
		}
		if c.w.finish() != nil {
			return
		}
	} else {
		c.w.WriteError(st)
	}
	c.bw.Flush()
	c.lingeringClose()
}

// serveRequest runs the handler for c.req and reports whether the
// connection can serve another request.
func (c *serverConn) serveRequest(h Handler) bool {
	req := &c.req
	cl := req.ContentLength
	if cl < 0 {
		cl = 0
	}
	c.body.Reset(c.br, cl, req.Chunked)
	c.body.max = c.cfg.Limits.ClientMaxBodySize
	c.w.reset(req, c.cfg.Limits)
	c.cr.stale = true
	c.cr.perRead = c.cfg.Limits.ClientBodyTimeout
	c.cw.perWrite = c.cfg.Limits.SendTimeout
	c.cw.writes = 0

	h.ServeHTTP1(&c.w, req)
	if c.hijacked {
		return false
	}
	w := &c.w
	if !w.wroteHeader {
		berr := c.body.err
		switch {
		case berr != nil && StatusOf(berr) != 0:
			w.WriteError(StatusOf(berr))
		case berr != nil && berr != io.EOF:
			// Body timeout or early close: nginx finalizes with 408/400
			// on a broken connection and sends nothing.
			return false
		default:
			w.WriteHeader(200, "", 0)
		}
	}
	if err := w.finish(); err != nil {
		return false
	}
	if !w.keepalive {
		if c.mustLinger() {
			c.lingeringClose()
		}
		return false
	}
	// Never let an unread body be parsed as the next request: discard it
	// up to DrainLimit, or close.
	if !c.body.Done() {
		if c.body.err != nil || (req.Expect100 && !w.sent100) {
			c.lingeringClose()
			return false
		}
		limit := c.cfg.DrainLimit
		if limit <= 0 {
			limit = 64 << 10
		}
		c.body.beforeRead = nil
		n, err := io.CopyN(io.Discard, &c.body, limit+1)
		c.body.beforeRead = c.send100Fn
		if err != io.EOF || n > limit || !c.body.Done() {
			c.lingeringClose()
			return false
		}
	}
	return true
}

// send100 is Body.beforeRead: "HTTP/1.1 100 Continue" once the handler
// starts reading the body of an Expect: 100-continue request
// (ngx_http_test_expect).
func (c *serverConn) send100() error {
	if !c.req.Expect100 || c.w.sent100 || c.w.wroteHeader {
		return nil
	}
	c.w.sent100 = true
	n, err := c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	c.w.framing += int64(n)
	if err != nil {
		return err
	}
	return c.bw.Flush()
}

// mustLinger reports whether a connection closing after its response
// needs a lingering close, as ngx_http_finalize_connection decides with
// lingering_close on: the request had a body (which may be unread), or
// more of the client's bytes are read or waiting. A TLS connection, whose
// socket holds records wsgate cannot see into, always lingers. Otherwise
// it is closed at once, so the client finds it counted out as soon as it
// sees the close.
func (c *serverConn) mustLinger() bool {
	return c.req.ContentLength > 0 || c.req.Chunked || c.br.Buffered() > 0 ||
		c.cw.rc == nil || netpoll.Readable(c.cw.rc)
}

// lingeringClose half-closes the connection and reads what the client
// still sends for a while, so that a response is not lost to a reset
// (ngx_http_set_lingering_close).
func (c *serverConn) lingeringClose() {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := c.conn.(closeWriter)
	if !ok {
		return
	}
	if cw.CloseWrite() != nil {
		return
	}
	per, total := c.cfg.LingeringTimeout, c.cfg.LingeringTime
	if per <= 0 {
		per = 5 * time.Second
	}
	if total <= 0 {
		total = 30 * time.Second
	}
	end := time.Now().Add(total)
	c.cr.perRead = 0
	buf := make([]byte, 4096)
	for {
		d := time.Now().Add(per)
		if d.After(end) {
			d = end
		}
		c.conn.SetReadDeadline(d)
		if _, err := c.conn.Read(buf); err != nil {
			return
		}
	}
}

// serverName is the Server header value and the error page footer.
func (c *serverConn) serverName() string {
	if c.cfg.ServerName == "" {
		return "wsgate"
	}
	return c.cfg.ServerName
}
