package h2

import (
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"wsgate/internal/framed"
	"wsgate/internal/http1"
)

// stream is one client stream: its request, its receive buffer and
// windows, and its response writer. Fields below mu are guarded by
// sc.mu; cond (on sc.mu) wakes the stream's reader and writer.
type stream struct {
	sc   *serverConn
	id   uint32
	cond sync.Cond

	// extConnect: the request is an extended CONNECT for a WebSocket
	// (RFC 8441), whose response Upgrade sends.
	extConnect bool
	// bodyless: the HEADERS frame ended the stream.
	bodyless bool
	// chunk is the largest DATA frame sent (http2_chunk_size of the
	// request's location); set before the response's first write.
	chunk int

	req  http1.Request
	body framed.Body
	w    ResponseWriter

	// guarded by sc.mu
	buf          []byte // DATA received and not yet read
	recvWin      int64  // what the client may still send
	recvUsed     int64  // read (or dropped) and not yet given back
	sendWin      int64
	remoteClosed bool // END_STREAM received
	localClosed  bool // END_STREAM sent
	reset        bool // RST_STREAM sent or received
	discard      bool // nobody reads: DATA is dropped
	waiting      bool // the writer waits for a window
	upgraded     bool // a tunnel owns the stream (streamConn)
	ended        bool // streamEnded ran
	rdeadline    time.Time
	wdeadline    time.Time
	rtimer       *time.Timer
	wtimer       *time.Timer
}

// newStream makes stream id; sc.mu is held.
func (sc *serverConn) newStream(id uint32, bodyless bool) *stream {
	st := &stream{sc: sc, id: id, bodyless: bodyless, remoteClosed: bodyless,
		recvWin: int64(sc.cfg.BodyPrereadSize), sendWin: int64(sc.peerWin)}
	st.cond.L = &sc.mu
	st.body.Reset(st, &st.req.Request, sc.cfg.Limits.ClientMaxBodySize, sc.cfg.Limits.ClientBodyTimeout)
	st.w.out.st = st
	return st
}

// windowUpdate returns the stream window to give back, once half of it
// was read; sc.mu is held.
func (st *stream) windowUpdate() uint32 {
	if st.remoteClosed || st.recvUsed < int64(st.sc.cfg.BodyPrereadSize)/2 {
		return 0
	}
	n := st.recvUsed
	st.recvUsed = 0
	st.recvWin += n
	return uint32(n)
}

// read takes received DATA bytes into p, waiting for them until the read
// deadline. It returns io.EOF once the client ended the stream.
func (st *stream) read(p []byte) (int, error) {
	sc := st.sc
	sc.mu.Lock()
	for len(st.buf) == 0 {
		switch {
		case st.reset:
			sc.mu.Unlock()
			return 0, errStreamReset
		case st.remoteClosed:
			sc.mu.Unlock()
			return 0, io.EOF
		case sc.closed:
			sc.mu.Unlock()
			return 0, errConnClosed
		case !st.rdeadline.IsZero() && !time.Now().Before(st.rdeadline):
			sc.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		st.cond.Wait()
	}
	n := copy(p, st.buf)
	st.buf = st.buf[n:]
	if len(st.buf) == 0 {
		st.buf = nil
	}
	st.recvUsed += int64(n)
	inc := st.windowUpdate()
	sc.mu.Unlock()
	if inc > 0 {
		sc.writeFrame(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(st.id, inc) })
	}
	return n, nil
}

// setDeadline sets the read or write deadline: a timer wakes a waiting
// reader or writer when it passes.
func (st *stream) setDeadline(t time.Time, write bool) {
	sc := st.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	d, tm := &st.rdeadline, &st.rtimer
	if write {
		d, tm = &st.wdeadline, &st.wtimer
	}
	*d = t
	if *tm != nil {
		(*tm).Stop()
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		st.cond.Broadcast()
		return
	}
	if *tm == nil {
		*tm = time.AfterFunc(wait, func() {
			sc.mu.Lock()
			st.cond.Broadcast()
			sc.mu.Unlock()
		})
	} else {
		(*tm).Reset(wait)
	}
}

// runStream serves st's request in its own goroutine, then finishes its
// response, unless a tunnel took the stream over.
func (sc *serverConn) runStream(st *stream, fields []hpack.HeaderField, truncated bool) {
	stats := sc.cfg.Stats
	stats.Reading()
	status, ok := st.buildRequest(fields, truncated)
	stats.Writing()
	if !ok {
		// A malformed request (RFC 9113 8.1.1).
		sc.logf("client sent malformed http2 request", "stream", st.id)
		sc.abandon(st, http2.ErrCodeProtocol)
		stats.WriteDone()
		st.end()
		return
	}
	w := &st.w
	w.reset(&st.req.Request, sc.cfg.Limits)
	st.setDeadline(time.Time{}, false)
	release := framed.Serve(sc.h, w, &st.req.Request, status)
	sc.mu.Lock()
	upgraded := st.upgraded
	sc.mu.Unlock()
	if !upgraded {
		w.finish()
	}
	if release != nil {
		release()
	}
	if upgraded {
		// The tunnel ends the stream (streamConn.Close) and the
		// request (connstats' TunnelDone), which counts it as a
		// connection it ends.
		stats.TunnelStream()
		return
	}
	stats.WriteDone()
	st.end()
}

// end releases the stream once its response is done: a client still
// sending gets RST_STREAM NO_ERROR (RFC 9113 8.1), and the stream stops
// counting against the connection's limits.
func (st *stream) end() {
	sc := st.sc
	sc.mu.Lock()
	if st.ended {
		sc.mu.Unlock()
		return
	}
	st.ended = true
	// An unfinished response is cancelled; a finished one to a client
	// still sending is reset with NO_ERROR.
	code, reset := http2.ErrCodeNo, false
	switch {
	case st.reset:
	case !st.localClosed:
		code, reset = http2.ErrCodeCancel, true
	case !st.remoteClosed:
		reset = true
	}
	st.reset = st.reset || reset
	st.discard, st.buf = true, nil
	for _, t := range []*time.Timer{st.rtimer, st.wtimer} {
		if t != nil {
			t.Stop()
		}
	}
	sc.mu.Unlock()
	if reset {
		sc.resetStream(st.id, code)
	}
	sc.streamEnded(st)
}

// BodyEmpty: the HEADERS frame ended the stream, or the DATA of an
// extended CONNECT is the tunnel's (framed.BodySource).
func (st *stream) BodyEmpty() bool { return st.bodyless || st.extConnect }

// ReadBody reads the request body's DATA, within timeout when not 0.
func (st *stream) ReadBody(p []byte, timeout time.Duration) (int, error) {
	if st.extConnect {
		return 0, io.EOF
	}
	if timeout > 0 {
		st.setDeadline(time.Now().Add(timeout), false)
	}
	return st.read(p)
}

// streamConn is a stream a tunnel took over (ResponseWriter.Upgrade):
// reads are the client's DATA, each write is sent at once as DATA
// frames, CloseWrite sends END_STREAM, and Close ends the stream.
type streamConn struct {
	st   *stream
	once sync.Once
}

func (c *streamConn) Read(p []byte) (int, error) { return c.st.read(p) }

func (c *streamConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, err := c.st.writeData(p, false)
	return n, err
}

// CloseWrite ends the stream's sending half (END_STREAM), as a TCP
// half-close does (RFC 8441 section 4).
func (c *streamConn) CloseWrite() error {
	_, _, err := c.st.writeData(nil, true)
	return err
}

// Close ends the stream: END_STREAM if it was not sent, RST_STREAM if
// the client is still sending.
func (c *streamConn) Close() error {
	c.once.Do(func() {
		st := c.st
		st.sc.mu.Lock()
		open := !st.localClosed && !st.reset && !st.sc.closed
		st.sc.mu.Unlock()
		if open {
			st.writeData(nil, true)
		}
		st.end()
	})
	return nil
}

func (c *streamConn) LocalAddr() net.Addr  { return c.st.sc.nc.LocalAddr() }
func (c *streamConn) RemoteAddr() net.Addr { return c.st.sc.nc.RemoteAddr() }

func (c *streamConn) SetDeadline(t time.Time) error {
	c.st.setDeadline(t, false)
	c.st.setDeadline(t, true)
	return nil
}
func (c *streamConn) SetReadDeadline(t time.Time) error  { c.st.setDeadline(t, false); return nil }
func (c *streamConn) SetWriteDeadline(t time.Time) error { c.st.setDeadline(t, true); return nil }

var (
	_ framed.BodySource = (*stream)(nil)
	_ net.Conn          = (*streamConn)(nil)
)
