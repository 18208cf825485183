package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
)

// This file writes the request to the upstream (head and body, under
// proxy_send_timeout) and reads the response head (under
// proxy_read_timeout), as ngx_http_upstream_send_request and
// ngx_http_upstream_process_header do.

// send writes the head and the body under proxy_send_timeout.
func (c *clientConn) send(a *attempt, lc *config.LocConf, head []byte, req *exchange.Request, spool *spooled, hasBody bool) error {
	conn := a.conn
	if fc, ok := conn.(*netpoll.Conn); ok && !hasBody {
		// A head the socket takes at once (the usual case) needs no
		// deadline: proxy_send_timeout bounds a write that waits.
		n := fc.WriteNow(head)
		a.sent += int64(n)
		if n == len(head) {
			return nil
		}
		head = head[n:]
	} else if !hasBody && lc.ProxySendTimeout > 0 {
		if a.raw == nil {
			if sc, ok := conn.(syscall.Conn); ok {
				a.raw, _ = sc.SyscallConn()
			}
		}
		if a.raw != nil {
			n, _ := c.now.Write(a.raw, head)
			a.sent += int64(n)
			if n == len(head) {
				return nil
			}
			head = head[n:]
		}
	}
	if lc.ProxySendTimeout > 0 {
		conn.SetWriteDeadline(time.Now().Add(lc.ProxySendTimeout))
		defer conn.SetWriteDeadline(time.Time{})
	}
	if !hasBody {
		n, err := conn.Write(head)
		a.sent += int64(n)
		return err
	}
	bp := copyPool.Get().(*[]byte)
	defer copyPool.Put(bp)
	buf := *bp
	// The head goes with the body bytes that came with it (nginx's
	// preread: ngx_http_upstream_send_request writes them in one chain),
	// in one write; alone and at once when none are there yet.
	pending := head
	if bb, ok := req.Body.(interface{ Buffered() int }); spool != nil || !ok || bb.Buffered() == 0 {
		n, err := conn.Write(head)
		a.sent += int64(n)
		if err != nil {
			return err
		}
		pending = nil
	}
	if spool != nil {
		a.sent += spool.size
		return spool.writeTo(conn, buf)
	}
	var sizeLine [18]byte
	keep := c.keepBody
	c.bodyKept = c.bodyKept[:0]
	for {
		m, rerr := req.Body.Read(buf)
		if m > 0 {
			if keep {
				// $request_body, for a body nginx would have held in
				// one client_body_buffer_size buffer.
				if len(c.bodyKept)+m > keptBodyMax {
					keep = false
				} else {
					c.bodyKept = append(c.bodyKept, buf[:m]...)
				}
			}
			var err error
			switch {
			case pending != nil:
				// One write, whatever the connection (net.Buffers
				// makes one per buffer where there is no writev).
				out := make([]byte, 0, len(pending)+len(sizeLine)+m+2)
				out = append(out, pending...)
				if req.Chunked {
					out = strconv.AppendInt(out, int64(m), 16)
					out = append(out, '\r', '\n')
				}
				out = append(out, buf[:m]...)
				if req.Chunked {
					out = append(out, crlfBytes...)
				}
				var k int
				k, err = conn.Write(out)
				a.sent += int64(k)
				pending = nil
			case req.Chunked:
				line := strconv.AppendInt(sizeLine[:0], int64(m), 16)
				line = append(line, '\r', '\n')
				bufs := net.Buffers{line, buf[:m], crlfBytes}
				var k int64
				k, err = bufs.WriteTo(conn)
				a.sent += k
			default:
				var k int
				k, err = conn.Write(buf[:m])
				a.sent += int64(k)
			}
			if err != nil {
				return err
			}
			if lc.ProxySendTimeout > 0 {
				conn.SetWriteDeadline(time.Now().Add(lc.ProxySendTimeout))
			}
		}
		if rerr == io.EOF {
			if keep {
				c.vc.RequestBody, c.vc.HasRequestBody = string(c.bodyKept), true
			}
			last := pending
			switch {
			case req.Chunked && pending != nil:
				last = append(pending[:len(pending):len(pending)], lastChunk...)
			case req.Chunked:
				last = lastChunk
			}
			if last != nil {
				k, err := conn.Write(last)
				a.sent += int64(k)
				return err
			}
			return nil
		}
		if rerr != nil {
			return &clientBodyError{rerr}
		}
	}
}

// keptBodyMax is the largest streamed body kept for $request_body:
// client_body_buffer_size's default on 64-bit systems (16k).
const keptBodyMax = 16 << 10

// clientBodyError is a failure reading the client's request body while
// sending it upstream. It keeps a client_body_timeout apart from a
// proxy_send_timeout: both are deadline errors.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading client request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

var (
	crlfBytes = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

// clientWatchDelay is how long the upstream may take to start its answer
// before the client connection is watched for a close (watchClient). Most
// answers start sooner and cost no watch at all; a client that goes away
// while the upstream works longer is noticed from then on and answered 499
// (ngx_http_upstream_check_broken_connection notices it at once). An answer
// that starts within the delay is relayed, and logged with its status, even
// to a client that closed meanwhile. A request that holds limit_conn counts
// is watched from the start: its client's close frees a count that another
// request may be refused for meanwhile.
const clientWatchDelay = 20 * time.Millisecond

// readHead reads the upstream's response head under proxy_read_timeout,
// watching the client for a close once the upstream has kept it waiting
// clientWatchDelay (at once for a request holding limit_conn counts, or
// under a shorter proxy_read_timeout). It reports whether a watch was started; unwatchClient
// must then be called.
func (c *clientConn) readHead(a *attempt, resp *http1.Response, lc *config.LocConf, req *exchange.Request) (watching bool, err error) {
	c.upRd = upstreamReader{c: c, a: a, conn: a.conn, timeout: lc.ProxyReadTimeout}
	if c.rawConn != nil && !c.ignoreAbort {
		if req.Held != nil || lc.ProxyReadTimeout > 0 && lc.ProxyReadTimeout <= clientWatchDelay {
			c.watchHeld = req.Held
			watching = c.watchClient(a.conn)
		} else {
			c.upRd.watchPending = true
		}
	}
	a.br = readerPool.Get().(*bufio.Reader)
	a.br.Reset(&c.upRd)
	max := int(lc.ProxyBufferSize)
	for {
		err := resp.ReadHead(a.br, max)
		c.upRd.watchPending = false
		watching = watching || c.upRd.watching
		if err != nil {
			return watching, a.headError(err)
		}
		// 1xx other than 101 are interim answers nginx does not relay.
		if resp.Status >= 100 && resp.Status < 200 && resp.Status != 101 {
			continue
		}
		return watching, nil
	}
}

// upstreamReader is what an attempt's bufio.Reader reads: the upstream
// connection with proxy_read_timeout armed before each read of the socket
// ("between two successive read operations", as nginx re-arms it on each
// read event), so that a head and body already buffered cost no deadline.
// While watchPending, the first read waits at most clientWatchDelay before
// the client watch starts (watching), then goes on under the timeout.
type upstreamReader struct {
	c            *clientConn
	a            *attempt // counts the bytes read (recv)
	conn         net.Conn
	timeout      time.Duration // 0: none
	watchPending bool
	watching     bool
	armed        bool // a read deadline is set on conn
}

func (r *upstreamReader) Read(p []byte) (int, error) {
	if r.watchPending {
		r.watchPending = false
		r.armed = true
		r.conn.SetReadDeadline(time.Now().Add(clientWatchDelay))
		n, err := r.conn.Read(p)
		r.a.recv += int64(n)
		if n > 0 || err == nil || !isTimeout(err) {
			return n, err
		}
		r.watching = r.c.watchClient(r.conn)
	}
	switch {
	case r.timeout > 0:
		r.armed = true
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	case r.armed:
		r.armed = false
		r.conn.SetReadDeadline(time.Time{})
	}
	n, err := r.conn.Read(p)
	r.a.recv += int64(n)
	return n, err
}

// headError classifies an error reading the upstream's response head.
func (a *attempt) headError(err error) error {
	switch {
	case errors.Is(err, http1.ErrHeaderTooBig):
		return &UpstreamError{Kind: KindTooBigHeader, Peer: a.peer.Name, Err: err}
	case errors.Is(err, http1.ErrInvalidHeader):
		return &UpstreamError{Kind: KindInvalidHeader, Peer: a.peer.Name, Err: err}
	case isTimeout(err):
		return &UpstreamError{Kind: KindReadTimeout, Peer: a.peer.Name, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &UpstreamError{Kind: KindPrematureClose, Peer: a.peer.Name, Err: err}
	}
	return &UpstreamError{Kind: KindConnect, Peer: a.peer.Name, Err: err}
}
