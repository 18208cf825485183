package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RequestLimits are the location-level settings (ngx_http_core_loc_conf_t)
// that apply to one request. A handler may replace them with SetLimits once
// it knows the location; durations of 0 mean no deadline.
type RequestLimits struct {
	ClientMaxBodySize int64         // client_max_body_size, default 1m; 0: unlimited
	ClientBodyTimeout time.Duration // client_body_timeout between two reads, default 60s
	SendTimeout       time.Duration // send_timeout between two writes, default 60s
	KeepaliveTimeout  time.Duration // keepalive_timeout, default 75s; 0 disables keep-alive
	KeepaliveRequests int           // keepalive_requests, default 1000
}

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

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, req *Request)

// ServeHTTP1 calls f(w, req).
func (f HandlerFunc) ServeHTTP1(w *ResponseWriter, req *Request) { f(w, req) }

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
}

func (c *connReader) Read(p []byte) (int, error) {
	if c.perRead > 0 {
		c.stale = false
		if err := c.conn.SetReadDeadline(time.Now().Add(c.perRead)); err != nil {
			return 0, err
		}
	} else if c.stale {
		c.stale = false
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
	now      NowWriter
}

func (c *connWriter) Write(p []byte) (int, error) {
	if c.perWrite <= 0 {
		return c.conn.Write(p)
	}
	n := 0
	if c.rc != nil {
		if n = c.now.Write(c.rc, p); n == len(p) {
			return n, nil
		}
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.perWrite)); err != nil {
		return n, err
	}
	m, err := c.conn.Write(p[n:])
	return n + m, err
}

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
	hijacked bool
	// spare holds the pooled reader and writer a hijack let go of; Serve
	// gives them back when the handler has returned.
	spareBR *bufio.Reader
	spareBW *bufio.Writer
}

// Serve runs the HTTP/1.x protocol on conn until the client leaves, an
// error or limit ends keep-alive, or the handler hijacks the connection.
// Requests are answered one at a time in arrival order; a pipelined head
// already buffered is served next. Serve closes conn unless it was
// hijacked.
func Serve(conn net.Conn, cfg *ConnConfig, h Handler) {
	c := &serverConn{conn: conn, cfg: cfg}
	c.cr.conn, c.cw.conn = conn, conn
	if sc, ok := conn.(syscall.Conn); ok {
		c.cw.rc, _ = sc.SyscallConn()
	}
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(&c.cr)
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(&c.cw)
	c.body.beforeRead = c.send100
	c.req.Body = &c.body
	c.w.c = c
	c.serve(h)
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
}

// readerPool and writerPool hold the 4 KiB connection buffers of Serve.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

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
		if !c.hijacked {
			c.conn.Close()
		}
	}()
	for {
		c.cr.perRead, c.cr.stale = 0, false
		pipelined := c.requests > 0 && c.br.Buffered() > 0
		if c.requests == 0 {
			c.setReadDeadline(c.cfg.ClientHeaderTimeout)
			if c.stopping() {
				return
			}
		} else {
			// ngx_http_set_keepalive: keepalive_timeout until the first
			// byte, then client_header_timeout for the head.
			c.setReadDeadline(c.w.limits.KeepaliveTimeout)
			if c.stopping() && !headBuffered(c.br) {
				return
			}
			if _, err := c.br.Peek(1); err != nil {
				return
			}
			// A head already whole in the buffer needs no more reads,
			// nor client_header_timeout for them.
			if !headBuffered(c.br) {
				c.setReadDeadline(c.cfg.ClientHeaderTimeout)
			}
		}
		err := ParseRequestHead(c.br, &c.cfg.Head, &c.req)
		if err != nil {
			c.headError(err)
			return
		}
		c.requests++
		c.req.Pipelined = pipelined
		if !c.serveRequest(h) {
			return
		}
	}
}

// headBuffered reports whether br holds a whole request head: an empty
// line after the request line. The parser then reads no more.
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	return bytes.Contains(b, crlfcrlf) || bytes.Contains(b, lflf)
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
)

func (c *serverConn) setReadDeadline(d time.Duration) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	c.conn.SetReadDeadline(t)
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// headError answers a head nginx rejects; timeouts and early closes get no
// response (ngx_http_close_request with 408, or c->error).
func (c *serverConn) headError(err error) {
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
	c.w.WriteError(st)
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
		c.lingeringClose()
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
		c.body.beforeRead = c.send100
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
	if _, err := c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
		return err
	}
	return c.bw.Flush()
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

// ResponseWriter writes one response on a Serve connection: header lines
// in the order given, names and values as given, then the framing nginx
// would choose.
type ResponseWriter struct {
	c      *serverConn
	req    *Request
	limits RequestLimits

	hdr        []byte // serialized "Name: Value\r\n" lines
	framingAt  int    // byte offset in hdr where framing lines go; -1: end
	trailers   []byte
	scratch    []byte
	location   []byte // "Location: ...\r\n" or empty, see SetLocation
	status     int
	clen       int64 // declared Content-Length, -1 unknown
	written    int64
	chunked    bool
	noBody     bool
	closeAfter bool

	wroteHeader bool
	keepalive   bool
	sent100     bool
	broken      bool
}

func (w *ResponseWriter) reset(req *Request, l RequestLimits) {
	*w = ResponseWriter{
		c: w.c, req: req, limits: l,
		hdr: w.hdr[:0], trailers: w.trailers[:0], scratch: w.scratch[:0],
		location: w.location[:0], framingAt: -1, clen: -1,
	}
}

// SetLimits replaces the request's location-level limits; call it before
// reading the body or writing the header. It applies ClientMaxBodySize to
// the body (a known Content-Length above it is returned as a 413
// *StatusError, see Body.SetMaxSize).
func (w *ResponseWriter) SetLimits(l RequestLimits) error {
	w.limits = l
	w.c.cr.perRead = l.ClientBodyTimeout
	w.c.cw.perWrite = l.SendTimeout
	return w.c.body.SetMaxSize(l.ClientMaxBodySize)
}

// AddHeader queues a header line. Lines whose name or value contains CR,
// LF or NUL are dropped (they would split the response). Content-Length,
// Transfer-Encoding and Connection are the writer's to send.
func (w *ResponseWriter) AddHeader(name, value string) {
	if !safeField(name) || !safeField(value) {
		return
	}
	w.hdr = append(w.hdr, name...)
	w.hdr = append(w.hdr, ": "...)
	w.hdr = append(w.hdr, value...)
	w.hdr = append(w.hdr, "\r\n"...)
}

// AddHeaderBytes is AddHeader for byte slices (no allocation).
func (w *ResponseWriter) AddHeaderBytes(name, value []byte) {
	if !safeFieldBytes(name) || !safeFieldBytes(value) {
		return
	}
	w.hdr = append(w.hdr, name...)
	w.hdr = append(w.hdr, ": "...)
	w.hdr = append(w.hdr, value...)
	w.hdr = append(w.hdr, "\r\n"...)
}

// SetLocation sets the Location line of a redirect the server makes
// itself. ngx_http_header_filter writes it after Content-Length and before
// Transfer-Encoding and Connection, wherever MarkFraming put those. A value
// with CR, LF or NUL is dropped.
func (w *ResponseWriter) SetLocation(value []byte) {
	w.location = w.location[:0]
	if !safeFieldBytes(value) {
		return
	}
	w.location = append(w.location, "Location: "...)
	w.location = append(w.location, value...)
	w.location = append(w.location, "\r\n"...)
}

// AddServerDate queues "Server: <ServerName>" and "Date: <now>", the two
// lines nginx's header filter starts every response with.
func (w *ResponseWriter) AddServerDate() {
	w.hdr = append(w.hdr, "Server: "...)
	w.hdr = append(w.hdr, w.c.serverName()...)
	w.hdr = append(w.hdr, "\r\nDate: "...)
	w.hdr = append(w.hdr, Date(time.Now())...)
	w.hdr = append(w.hdr, "\r\n"...)
}

// MarkFraming places the framing lines (Content-Length or
// Transfer-Encoding, and Connection) after the headers queued so far;
// without it they follow all queued headers.
func (w *ResponseWriter) MarkFraming() { w.framingAt = len(w.hdr) }

// AddTrailer queues a trailer field, sent only when the body is chunked.
func (w *ResponseWriter) AddTrailer(name, value string) {
	if !safeField(name) || !safeField(value) {
		return
	}
	w.trailers = append(w.trailers, name...)
	w.trailers = append(w.trailers, ": "...)
	w.trailers = append(w.trailers, value...)
	w.trailers = append(w.trailers, "\r\n"...)
}

// CloseAfter makes this response the connection's last ("Connection:
// close" if the header is not written yet).
func (w *ResponseWriter) CloseAfter() { w.closeAfter = true }

// Abort ends the response short: no last chunk is written, and the
// connection closes after the bytes already written, so that the client
// sees the body cut off rather than a complete response (nginx closes the
// connection when an upstream body breaks off after the header was sent).
func (w *ResponseWriter) Abort() { w.closeAfter, w.keepalive, w.broken = true, false, true }

// Written reports whether the response header was written.
func (w *ResponseWriter) Written() bool { return w.wroteHeader }

// Status is the status written, 0 before WriteHeader.
func (w *ResponseWriter) Status() int { return w.status }

// BodyBytes is the number of body bytes the handler wrote.
func (w *ResponseWriter) BodyBytes() int64 { return w.written }

func safeField(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func safeFieldBytes(s []byte) bool {
	for _, c := range s {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func (c *serverConn) serverName() string {
	if c.cfg.ServerName == "" {
		return "wsgate"
	}
	return c.cfg.ServerName
}

// ErrHeaderWritten is returned by WriteHeader and WriteError after the
// header went out.
var ErrHeaderWritten = errors.New("http1: response header already written")

// WriteHeader writes the status line, the queued headers and the framing
// lines. reason "" means nginx's text for status (StatusText; nginx has
// none for 101 or 494). contentLength -1 means unknown: the body is
// chunked for HTTP/1.1 clients and close-delimited for HTTP/1.0 ones
// (ngx_http_chunked_header_filter). 1xx (but 101), 204 and 304 responses
// and responses to HEAD carry no body. 101 gets "Connection: upgrade";
// call Hijack next.
func (w *ResponseWriter) WriteHeader(status int, reason string, contentLength int64) error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	if status < 100 || status > 999 || (status < 200 && status != 101) {
		return errors.New("http1: invalid response status " + strconv.Itoa(status))
	}
	own := reason == ""
	if !safeField(reason) {
		reason = ""
	}
	w.decideFraming(status, contentLength)
	req := w.req
	if req.ProtoMajor == 0 {
		// HTTP/0.9: no status line, no headers (ngx_http_header_filter).
		w.keepalive = false
		return nil
	}

	bw := w.c.bw
	b := w.scratch[:0]
	b = append(b, "HTTP/1.1 "...)
	if own {
		b = AppendStatusLine(b, status)
	} else {
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		b = append(b, reason...)
	}
	b = append(b, "\r\n"...)
	at := w.framingAt
	if at < 0 || at > len(w.hdr) {
		at = len(w.hdr)
	}
	b = append(b, w.hdr[:at]...)
	if w.clen >= 0 && status != 204 && !(status >= 100 && status < 200) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, w.clen, 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, w.location...)
	if w.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case status == 101:
		b = append(b, "Connection: upgrade\r\n"...)
	case w.keepalive:
		b = append(b, "Connection: keep-alive\r\n"...)
	default:
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, w.hdr[at:]...)
	b = append(b, "\r\n"...)
	w.scratch = b
	_, err := bw.Write(b)
	if err != nil {
		w.broken = true
	}
	return err
}

// decideFraming records the status and decides the body's framing and the
// connection's keep-alive (ngx_http_header_filter, ngx_http_chunked_header_filter).
func (w *ResponseWriter) decideFraming(status int, contentLength int64) {
	w.wroteHeader = true
	w.status = status
	req := w.req
	w.noBody = req.IsHEAD() || status == 101 || status == 204 || status == 304
	w.clen = contentLength
	if status == 101 || status == 204 {
		w.clen = -1
	}
	if !w.noBody && w.clen < 0 {
		if req.ProtoMinor >= 1 && req.ProtoMajor == 1 {
			w.chunked = true
		} else {
			w.closeAfter = true
		}
	}
	w.keepalive = w.decideKeepalive()
}

// decideKeepalive follows ngx_http_handler / ngx_http_update_location_config
// and ngx_http_finalize_connection: the client's wish, keepalive_timeout,
// keepalive_requests, and whether the request body can still be skipped.
func (w *ResponseWriter) decideKeepalive() bool {
	req := w.req
	if !req.KeepAlive || w.closeAfter || w.limits.KeepaliveTimeout <= 0 ||
		w.c.requests >= w.limits.KeepaliveRequests || w.status == 101 {
		return false
	}
	b := &w.c.body
	if !b.Done() {
		if b.err != nil && b.err != io.EOF {
			return false
		}
		if req.Expect100 && !w.sent100 {
			return false
		}
		limit := w.c.cfg.DrainLimit
		if limit <= 0 {
			limit = 64 << 10
		}
		if r := b.Remaining(); r > limit {
			return false
		}
	}
	return true
}

// ErrBodyNotAllowed is returned by Write for responses without a body
// (HEAD, 1xx, 204, 304) — the bytes are dropped, as nginx drops them.
var ErrBodyNotAllowed = errors.New("http1: response has no body")

// ErrContentLength is returned by Write past the declared Content-Length.
var ErrContentLength = errors.New("http1: wrote more than the declared Content-Length")

// Write writes body bytes, writing a 200 header with unknown length first
// if none was written.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if err := w.WriteHeader(200, "", -1); err != nil {
			return 0, err
		}
	}
	if w.noBody {
		return len(p), nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		w.closeAfter, w.keepalive = true, false
		return 0, ErrContentLength
	}
	bw := w.c.bw
	if w.chunked {
		w.scratch = strconv.AppendInt(w.scratch[:0], int64(len(p)), 16)
		w.scratch = append(w.scratch, "\r\n"...)
		if _, err := bw.Write(w.scratch); err != nil {
			w.broken = true
			return 0, err
		}
	}
	n, err := bw.Write(p)
	w.written += int64(n)
	if err == nil && w.chunked {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.broken = true
	}
	return n, err
}

// Flush sends buffered response bytes to the client.
func (w *ResponseWriter) Flush() error {
	if err := w.c.bw.Flush(); err != nil {
		w.broken = true
		return err
	}
	return nil
}

// WriteError writes nginx's built-in response for status (494 is sent as
// 400 "Request Header Or Cookie Too Large"): Server, Date, Content-Type
// text/html, Content-Length, and "Connection: close" for the statuses
// after which nginx closes (400, 413, 414, 494, 500, 501). 408, 444 and 499
// write nothing and close, as nginx never sends them.
// A 4xx or 5xx page gets nginx's padding when the request's User-Agent
// WantsPadding.
func (w *ResponseWriter) WriteError(status int) error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	if status == 408 || status == StatusClientClosedRequest || status == StatusNoResponse {
		w.wroteHeader, w.status, w.noBody, w.closeAfter = true, status, true, true
		return nil
	}
	if closesKeepalive(status) {
		w.closeAfter = true
	}
	w.hdr = w.hdr[:0]
	w.location = w.location[:0]
	w.framingAt = -1
	page := AppendErrorPage(nil, status, w.c.serverName())
	if w.req.ProtoMajor >= 1 && WantsPadding(w.req.Header("User-Agent")) {
		page = AppendErrorPadding(page, status)
	}
	w.AddServerDate()
	if len(page) > 0 {
		w.hdr = append(w.hdr, "Content-Type: text/html\r\n"...)
	}
	wire := status
	if status == StatusRequestHeaderTooLarge {
		wire = 400
	}
	if err := w.WriteHeader(wire, "", int64(len(page))); err != nil {
		return err
	}
	w.status = status
	_, err := w.Write(page)
	return err
}

// finish ends the response: the last chunk and trailers, a check that a
// declared length was met, and a flush.
func (w *ResponseWriter) finish() error {
	if w.status == 408 || w.status == StatusClientClosedRequest || w.status == StatusNoResponse {
		w.keepalive = false
		return nil
	}
	bw := w.c.bw
	if w.chunked && !w.broken {
		bw.WriteString("0\r\n")
		bw.Write(w.trailers)
		bw.WriteString("\r\n")
	}
	if !w.noBody && w.clen >= 0 && w.written != w.clen {
		// The client expects more bytes than we have: the framing is
		// broken, only closing tells it.
		w.keepalive = false
	}
	if w.req.ProtoMajor == 0 {
		w.keepalive = false
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if w.broken {
		return errors.New("http1: writing response failed")
	}
	return nil
}

// ErrHijacked is returned by Hijack when the connection was already taken.
var ErrHijacked = errors.New("http1: connection already hijacked")

// Hijack takes the connection over: buffered response bytes are flushed,
// deadlines cleared, and the caller gets the raw net.Conn and the
// bufio.Reader holding any bytes the client sent past the request head
// (read them before reading conn). Serve returns without closing conn.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.Reader, error) {
	c := w.c
	if c.hijacked {
		return nil, nil, ErrHijacked
	}
	if err := c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	c.hijacked = true
	c.cr.perRead, c.cw.perWrite = 0, 0
	c.conn.SetDeadline(time.Time{})
	// A hijacked connection may live for days (a WebSocket tunnel): its
	// 4 KiB reader and writer are let go now. Response writes after Hijack
	// were never sent and still are not.
	br := c.br
	c.br = nil
	c.body.Reset(nil, 0, false)
	c.spareBW = c.bw
	c.bw = bufio.NewWriterSize(io.Discard, 16)
	return c.conn, br, nil
}

// HijackBuffered is Hijack returning a copy of the bytes the client sent
// past the request head (nil when none) instead of the reader: the reader
// goes back to Serve's pool once the handler has returned.
func (w *ResponseWriter) HijackBuffered() (net.Conn, []byte, error) {
	conn, br, err := w.Hijack()
	if err != nil {
		return nil, nil, err
	}
	var rest []byte
	if n := br.Buffered(); n > 0 {
		p, _ := br.Peek(n)
		rest = append([]byte(nil), p...)
	}
	w.c.spareBR = br
	return conn, rest, nil
}
