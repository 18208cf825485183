package http1

import (
	"bufio"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"wsgate/internal/connstats"

	"wsgate/internal/exchange"
	"wsgate/internal/netpoll"
)

// This file is the server's API: what a connection is configured with,
// the Handler it calls, and Serve. conn.go runs the connection (reads,
// deadlines, keep-alive, lingering close); response.go writes responses.

// RequestLimits are the location-level settings (ngx_http_core_loc_conf_t)
// that apply to one request. A handler may replace them with SetLimits once
// it knows the location; durations of 0 mean no deadline.
type RequestLimits = exchange.Limits

// ConnConfig configures Serve for one connection. Start from
// DefaultConnConfig; the zero values of booleans and limits are nginx's
// "off"/0, not its defaults.
type ConnConfig struct {
	Head HeadConfig
	// ClientHeaderTimeout is client_header_timeout (default 60s): the whole
	// first head must arrive within it from the start of Serve, a later head
	// within it from its first byte. On expiry the connection is closed
	// without a response, as nginx does (it logs 408 but sends nothing).
	ClientHeaderTimeout time.Duration
	// Limits are the defaults for each request until the handler calls
	// ResponseWriter.SetLimits.
	Limits RequestLimits
	// ServerName is the Server header value and the error page footer;
	// "" means "wsgate". Put a version in it for server_tokens on.
	ServerName string
	// DrainLimit is how many unread request body bytes Serve discards after
	// the handler to keep the connection; more means close. Default 64 KiB.
	DrainLimit int64
	// LingeringTimeout bounds each read while Serve discards what the client
	// still sends after a closing response (nginx lingering_timeout, 5s);
	// LingeringTime bounds the whole (lingering_time, 30s).
	LingeringTimeout time.Duration
	LingeringTime    time.Duration
	// Logger receives client errors at debug level (nginx logs them at
	// "info"); nil discards them.
	Logger *slog.Logger
	// Stopping, when set and true, ends the connection instead of waiting
	// for a next request head: a graceful stop closes idle keep-alive
	// connections (ngx_close_idle_connections). It is read after each
	// wait's read deadline is armed, so a stopper that stores true and then
	// sets a read deadline in the past always ends the wait: either Serve
	// sees true, or the stopper's deadline comes after Serve's.
	Stopping *atomic.Bool
	// Park, when set, lets Serve give an idle plain connection back
	// instead of waiting for it in its goroutine: a fresh one whose first
	// read finds nothing, and a keep-alive one still empty after
	// KeepaliveGrace. ServeFrom then returns true with st holding what
	// resuming needs; the connection is neither closed nor counted
	// closed, and the caller waits for it to become readable (or for
	// st.Deadline) by other means, then calls ServeFrom again.
	Park           bool
	KeepaliveGrace time.Duration
	// Stats, when set, counts the connection's requests as nginx's
	// stub_status does: reading from a head's first byte, writing once
	// it is read until the response is done, and the connection's end
	// (Closed) before its socket closes; a hijacked connection's request
	// stays writing, and the connection active, for whoever took it over
	// to end (connstats.Counters.TunnelDone).
	Stats *connstats.Counters
}

// DefaultConnConfig returns nginx 1.22's defaults.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{
		Head:                DefaultHeadConfig(),
		ClientHeaderTimeout: 60 * time.Second,
		Limits: RequestLimits{
			ClientMaxBodySize: 1 << 20,
			ClientBodyTimeout: 60 * time.Second,
			SendTimeout:       60 * time.Second,
			KeepaliveTimeout:  75 * time.Second,
			KeepaliveRequests: 1000,
			KeepaliveTime:     time.Hour,
			// keepalive_disable's default.
			KeepaliveDisableMSIE6: true,
		},
		ServerName:       "wsgate",
		DrainLimit:       64 << 10,
		LingeringTimeout: 5 * time.Second,
		LingeringTime:    30 * time.Second,
	}
}

// Handler serves one request. The Request and its Body are valid until
// ServeHTTP1 returns (or until Hijack). If the handler writes nothing, Serve
// answers with the status of a body framing error it met (400, 413), closes
// silently after a body timeout, and otherwise sends an empty 200.
type Handler interface {
	ServeHTTP1(w *ResponseWriter, req *Request)
}

// HeadErrorHandler is a Handler that also answers the errors found in a
// request head (400, 414, 494, 501, 505 ...), which nginx finishes through
// ngx_http_finalize_request and so through error_page. req holds what was
// read before the error: Method and URI once the request line parsed,
// Host once a valid Host arrived (nil otherwise), the header lines read.
// The response closes the connection whatever the handler sets.
type HeadErrorHandler interface {
	Handler
	ServeHeadError(w *ResponseWriter, req *Request, status int)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, req *Request)

// ServeHTTP1 calls f(w, req).
func (f HandlerFunc) ServeHTTP1(w *ResponseWriter, req *Request) { f(w, req) }

// Serve runs the HTTP/1.x protocol on conn until the client leaves, an
// error or limit ends keep-alive, or the handler hijacks the connection.
// Requests are answered one at a time in arrival order; a pipelined head
// already buffered is served next. Serve closes conn unless it was
// hijacked.
func Serve(conn net.Conn, cfg *ConnConfig, h Handler) {
	var st State
	ServeFrom(conn, cfg, h, &st)
}

// State is where a parked connection stands (ConnConfig.Park): what
// ServeFrom resumes from. The zero value is a fresh connection.
type State struct {
	// Requests is the number of requests served so far (keepalive_requests).
	Requests int
	// Start is when the connection's serving began (keepalive_time).
	Start time.Time
	// Deadline is when the wait for the next head's first byte ends
	// (client_header_timeout for the first, keepalive_timeout for a later
	// one); zero: none. The connection is then closed without a
	// response, as nginx does.
	Deadline time.Time
	// Ahead is what a read of a fresh connection found before ServeFrom
	// was called (the accept loop's, server.parkAtAccept), served before
	// the connection is read again; AheadErr is how that read ended when
	// it found no bytes (io.EOF, a reset), returned in their place.
	// The caller may reuse Ahead once ServeFrom has returned.
	Ahead    []byte
	AheadErr error
}

// ServeFrom is Serve from st, which it updates: it returns true when the
// connection was parked (ConnConfig.Park) and is to be resumed with st.
func ServeFrom(conn net.Conn, cfg *ConnConfig, h Handler, st *State) (parked bool) {
	c := getServerConn()
	c.conn, c.cfg, c.start, c.requests, c.resumeBy, c.resumed = conn, cfg, st.Start, st.Requests, st.Deadline, !st.Start.IsZero()
	if c.start.IsZero() {
		c.start = time.Now()
	}
	c.cr.conn, c.cw.conn = conn, conn
	c.cr.ahead, c.cr.aheadErr = st.Ahead, st.AheadErr
	if sc, ok := conn.(syscall.Conn); ok {
		c.cw.rc, _ = sc.SyscallConn()
		c.cr.rc = c.cw.rc
	}
	c.cr.nc, _ = conn.(*netpoll.Conn)
	c.cw.nc = c.cr.nc
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(&c.cr)
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(&c.cw)
	if c.send100Fn == nil {
		c.send100Fn = c.send100
	}
	c.body.beforeRead = c.send100Fn
	c.req.Body = &c.body
	c.w.c = c
	c.serve(h)
	if c.parked {
		*st = State{Requests: c.requests, Start: c.start, Deadline: c.deadline}
	}
	// The handler has returned: nothing reads the request's bytes, which
	// live in the reader's buffer, any more.
	br, bw := c.br, c.bw
	if c.hijacked {
		br, bw = c.spareBR, c.spareBW
	}
	if br != nil {
		br.Reset(nil)
		readerPool.Put(br)
	}
	if bw != nil {
		bw.Reset(nil)
		writerPool.Put(bw)
	}
	parked = c.parked
	putServerConn(c)
	return parked
}

// connPool holds serverConns between connections. A connection's request
// storage (the head's bytes, its header spans and lines) starts at the
// size the last one grew it to instead of from nothing, as a keep-alive
// connection's next request reuses it: a WebSocket lifecycle (case (e))
// made 66 allocations, 14 of them here.
var connPool = sync.Pool{New: func() any { return new(serverConn) }}

// Scratch storage past these sizes (a head grown towards
// large_client_header_buffers) is dropped rather than pooled.
const (
	maxPooledHead    = 8 << 10
	maxPooledHeaders = 64
)

// getServerConn returns a serverConn from connPool, zero but for its
// request's and response's scratch storage (kept as from one request of
// a keep-alive connection to the next, Request.reset and
// ResponseWriter.reset) and the functions bound to it once.
func getServerConn() *serverConn {
	c := connPool.Get().(*serverConn)
	buf, spans, hs := c.req.buf[:0], c.req.spans[:0], c.req.Headers[:0]
	send100Fn, woken, discard := c.send100Fn, c.woken, c.discard
	w := ResponseWriter{hdr: c.w.hdr[:0], sentHead: c.w.sentHead[:0], trailers: c.w.trailers[:0], scratch: c.w.scratch[:0],
		location: c.w.location[:0], lastMod: c.w.lastMod[:0], errHdr: c.w.errHdr[:0]}
	*c = serverConn{send100Fn: send100Fn, woken: woken, discard: discard, w: w}
	c.req.buf, c.req.spans, c.req.Headers = buf, spans, hs
	return c
}

// putServerConn gives c back once ServeFrom is done with it: the
// connection's request and writer are not used through c after this
// (getServerConn clears them for the next connection).
func putServerConn(c *serverConn) {
	if cap(c.req.buf) > maxPooledHead || cap(c.req.Headers) > maxPooledHeaders {
		c.req.buf, c.req.spans, c.req.Headers = nil, nil, nil
	}
	if cap(c.w.sentHead)+cap(c.w.hdr)+cap(c.w.scratch) > maxPooledHead {
		c.w = ResponseWriter{}
	}
	c.conn, c.cr.conn, c.cw.conn, c.cr.ahead = nil, nil, nil, nil
	connPool.Put(c)
}

// readerPool and writerPool hold the 4 KiB connection buffers of Serve.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)
