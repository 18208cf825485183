package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"wsgate/internal/exchange"
)

// ResponseWriter writes one response on a Serve connection: header lines
// in the order given, names and values as given, then the framing nginx
// would choose.
type ResponseWriter struct {
	c      *serverConn
	req    *Request
	limits RequestLimits

	hdr       []byte // serialized "Name: Value\r\n" lines
	sentHead  []byte // the head as written (SentHead)
	framingAt int    // byte offset in hdr where framing lines go; -1: end
	lateAt    int    // byte offset in hdr of the first late line (MarkLateLines); -1: none
	trailers  []byte
	scratch   []byte
	location  []byte              // "Location: ...\r\n" or empty, see SetLocation
	lastMod   []byte              // "Last-Modified: ...\r\n" or empty, see SetLastModified
	filter    exchange.HeadFilter // nil: heads go out as composed
	bfilter   exchange.BodyFilter // nil: bodies go out as written
	// stage is the body filter's stage for this response's body, nil when
	// none took it; raw is what it writes to.
	stage exchange.BodyStage
	raw   rawBody
	// trailersAdded: the filter's trailers are in trailers.
	trailersAdded bool
	status        int
	errStatus     int    // SetErrorStatus's; 0: none
	errHdr        []byte // AddErrorHeader's lines, kept across a reset of hdr
	clen          int64  // declared Content-Length, -1 unknown
	written       int64  // body bytes (BodyBytes)
	// framing counts the bytes sent for this response that are not body
	// bytes: a "100 Continue", the head, chunk-size lines, the last chunk
	// and trailers (BytesSent).
	framing    int64
	chunked    bool
	noBody     bool
	closeAfter bool

	wroteHeader bool
	keepalive   bool
	sent100     bool
	finished    bool // finish ran
	broken      bool
	// atOnce: the whole response went out in finish's one write; nothing
	// was written to the socket before (serverConn.serve yields then).
	atOnce bool
	// headHeld: WriteHeader found bw empty, so what bw holds, while it
	// holds len(sentHead) bytes, is the head (sendWhole).
	headHeld bool
}

func (w *ResponseWriter) reset(req *Request, l RequestLimits) {
	w.c.cw.pace = pacer{}
	// Cleared in place and set field by field: a composite literal that
	// reads *w would be built aside and copied over.
	c, hdr, sentHead, trailers, scratch := w.c, w.hdr[:0], w.sentHead[:0], w.trailers[:0], w.scratch[:0]
	location, lastMod, errHdr := w.location[:0], w.lastMod[:0], w.errHdr[:0]
	*w = ResponseWriter{}
	w.c, w.req, w.limits = c, req, l
	w.hdr, w.sentHead, w.trailers, w.scratch = hdr, sentHead, trailers, scratch
	w.location, w.lastMod, w.errHdr = location, lastMod, errHdr
	w.framingAt, w.lateAt, w.clen = -1, -1, -1
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
func (w *ResponseWriter) AddHeaderBytes(name, value []byte) { w.hdr = AppendLine(w.hdr, name, value) }

// AddLines queues serialized "Name: Value\r\n" lines as they are: the
// caller composed them with AppendLine (or checked them as it does).
func (w *ResponseWriter) AddLines(lines []byte) { w.hdr = append(w.hdr, lines...) }

// SetLocation sets the Location line of a redirect the server makes
// itself. ngx_http_header_filter writes it after Content-Length and before
// Transfer-Encoding and Connection, wherever MarkFraming put those. A value
// with CR, LF or NUL is dropped; nil removes the line.
func (w *ResponseWriter) SetLocation(value []byte) {
	w.location = w.location[:0]
	if value != nil {
		w.location = AppendLine(w.location, []byte("Location"), value)
	}
}

// SetLastModified sets the Last-Modified line, which
// ngx_http_header_filter writes after Content-Length and before Location,
// wherever MarkFraming put those. A value with CR, LF or NUL is dropped.
func (w *ResponseWriter) SetLastModified(value []byte) {
	w.lastMod = w.lastMod[:0]
	if !safeFieldBytes(value) {
		return
	}
	w.lastMod = append(w.lastMod, "Last-Modified: "...)
	w.lastMod = append(w.lastMod, value...)
	w.lastMod = append(w.lastMod, "\r\n"...)
}

// SetHeadFilter sets the filter for this request's response (nil: none);
// call it before the header is written.
func (w *ResponseWriter) SetHeadFilter(f exchange.HeadFilter) { w.filter = f }

// AddServerDate queues "Server: <ServerName>" and "Date: <now>", the two
// lines nginx's header filter starts every response with; now is the
// Date clock's (dateClock), at most a few ticks behind.
func (w *ResponseWriter) AddServerDate() {
	w.hdr = append(w.hdr, "Server: "...)
	w.hdr = append(w.hdr, w.c.serverName()...)
	w.hdr = append(w.hdr, "\r\nDate: "...)
	w.hdr = append(w.hdr, Date(dateNow())...)
	w.hdr = append(w.hdr, "\r\n"...)
}

// MarkFraming places the framing lines (Content-Length or
// Transfer-Encoding, and Connection) after the headers queued so far;
// without it they follow all queued headers.
func (w *ResponseWriter) MarkFraming() { w.framingAt = len(w.hdr) }

// MarkLateLines marks the lines queued from now on as added by nginx's
// filters after the headers filter (the range filter's): a head filter
// adds its own lines before them. They must follow MarkFraming.
func (w *ResponseWriter) MarkLateLines() { w.lateAt = len(w.hdr) }

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

// SetErrorStatus makes the head WriteHeader or WriteComposedHeader
// writes carry status with its reason text instead of the handler's
// (nginx's r->err_status, set by error_page, replaces any status in
// ngx_http_send_header); 0 leaves the handler's. WriteError, whose
// status is the error's own (ngx_http_special_response_handler sets
// r->err_status), and a 101 keep theirs.
func (w *ResponseWriter) SetErrorStatus(status int) { w.errStatus = status }

// AddErrorHeader queues a header line that the head of this response
// ends with, whoever writes it: nginx's headers_out lines that outlive
// an internal redirect (the WWW-Authenticate lines of a 401 that
// proxy_intercept_errors took, ngx_http_upstream_intercept_errors).
func (w *ResponseWriter) AddErrorHeader(name, value []byte) {
	if !safeFieldBytes(name) || !safeFieldBytes(value) {
		return
	}
	w.errHdr = append(w.errHdr, name...)
	w.errHdr = append(w.errHdr, ": "...)
	w.errHdr = append(w.errHdr, value...)
	w.errHdr = append(w.errHdr, "\r\n"...)
}

// SentHead returns a copy of the head as written and the trailers sent
// after the last chunk (exchange.ResponseWriter.SentHead).
func (w *ResponseWriter) SentHead() (head, trailers []byte) {
	if w.chunked && w.finished && !w.broken {
		trailers = w.trailers
	}
	return w.sentHead, trailers
}

// Status is the status written, 0 before WriteHeader.
func (w *ResponseWriter) Status() int { return w.status }

// BodyBytes is the number of body bytes the handler wrote.
func (w *ResponseWriter) BodyBytes() int64 {
	w.endBody()
	return w.written
}

// BytesSent is the number of bytes sent for this response, nginx's
// $bytes_sent: the body and everything around it (a "100 Continue", the
// head, chunked framing, trailers). Before the response is finished it
// counts the last chunk still to come, so that a log line written when
// the handler returns has the whole.
func (w *ResponseWriter) BytesSent() int64 {
	w.endBody()
	n := w.written + w.framing
	if w.chunked && !w.broken && !w.finished {
		w.filterTrailers()
		n += int64(len("0\r\n\r\n") + len(w.trailers))
	}
	return n
}

// filterTrailers adds the head filter's trailers to the queued ones, once:
// when the response is finished, or earlier when the log phase asks for
// $bytes_sent (ngx_http_trailers_filter evaluates them on the last
// buffer, before the log phase).
func (w *ResponseWriter) filterTrailers() {
	if w.filter != nil && !w.trailersAdded {
		w.trailersAdded = true
		w.trailers = w.filter.AppendTrailers(w.trailers, w.status)
	}
}

// AppendHeadTail ends a head whose status line and framing lines are in
// b: the error lines (AddErrorHeader), hdr's lines from at on, the empty
// line; then the head filter (nil: none) sees it, lateAt being where in
// hdr the late lines (MarkLateLines) start, -1 for none. HTTP/1.x,
// HTTP/2 and HTTP/3 writers share it.
func AppendHeadTail(b, errHdr, hdr []byte, at, lateAt int, filter exchange.HeadFilter, status int) []byte {
	// AddErrorHeader's lines were pushed to nginx's list of headers
	// before whatever answers pushed its own: they lead it.
	b = append(b, errHdr...)
	late := -1
	if lateAt >= at && lateAt < len(hdr) {
		late = len(b) + lateAt - at
	}
	b = append(b, hdr[at:]...)
	b = append(b, "\r\n"...)
	if filter != nil {
		// A 206 with late lines is the range filter's: the headers
		// filter, before it, saw the 200 ($status in add_header).
		fs := status
		if fs == 206 && lateAt >= 0 {
			fs = 200
		}
		b = filter.FilterHead(b, 0, late, fs)
	}
	return b
}

// AppendLine appends "name: value\r\n" to dst; a line with CR, LF or
// NUL in it is dropped, as the writers drop it.
func AppendLine(dst, name, value []byte) []byte {
	if !safeFieldBytes(name) || !safeFieldBytes(value) {
		return dst
	}
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// safeField and safeFieldBytes report that a header name or value holds
// no CR, LF or NUL, which would end or split its line. Three vector
// scans cost less than a look at each byte for all but the shortest.
func safeField(s string) bool {
	return strings.IndexByte(s, '\r') < 0 && strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, 0) < 0
}

func safeFieldBytes(s []byte) bool {
	return bytes.IndexByte(s, '\r') < 0 && bytes.IndexByte(s, '\n') < 0 && bytes.IndexByte(s, 0) < 0
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
	if w.errStatus != 0 && status != 101 {
		status, reason = w.errStatus, ""
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
	// The head is composed where SentHead keeps it: no copy.
	b := w.sentHead[:0]
	switch {
	case own && status == 200:
		b = append(b, "HTTP/1.1 200 OK"...)
	case own:
		b = append(b, "HTTP/1.1 "...)
		b = AppendStatusLine(b, status)
	default:
		b = append(b, "HTTP/1.1 "...)
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
	b = append(b, w.lastMod...)
	b = append(b, w.location...)
	if w.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case status == 101:
		b = append(b, "Connection: upgrade\r\n"...)
	case w.keepalive:
		b = append(b, "Connection: keep-alive\r\n"...)
		b = AppendKeepAliveHeader(b, w.limits.KeepaliveHeader)
	default:
		b = append(b, "Connection: close\r\n"...)
	}
	b = AppendHeadTail(b, w.errHdr, w.hdr, at, w.lateAt, w.filter, status)
	b = w.startBody(b, status)
	w.sentHead = b
	w.headHeld = bw.Buffered() == 0
	n, err := bw.Write(b)
	w.framing += int64(n)
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
	if w.filter != nil && !w.noBody && w.filter.ExpectTrailers(status) && req.ProtoMajor == 1 && req.ProtoMinor >= 1 {
		// ngx_http_chunked_header_filter: trailers to send make the
		// body chunked, its length cleared.
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
// keepalive_requests, keepalive_time, keepalive_disable, and whether the
// request body can still be skipped.
// A response whose head is written once a stop began says "Connection:
// close", as ngx_http_header_filter clears r->keepalive when the worker is
// exiting: the client learns the connection ends rather than finding it
// closed under its next request.
func (w *ResponseWriter) decideKeepalive() bool {
	req := w.req
	if !req.KeepAlive || w.closeAfter || w.limits.KeepaliveTimeout <= 0 || w.c.stopping() ||
		w.c.requests >= w.limits.KeepaliveRequests || w.status == 101 ||
		w.limits.KeepaliveTime > 0 && w.req.Start.Sub(w.c.start) > w.limits.KeepaliveTime {
		return false
	}
	if w.limits.KeepaliveDisableMSIE6 && string(req.Method) == "POST" && exchange.MSIE6(string(req.Header("User-Agent"))) ||
		w.limits.KeepaliveDisableSafari && exchange.Safari(string(req.Header("User-Agent"))) {
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
	if w.stage != nil {
		if err := w.stage.Write(&w.raw, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return w.writeBody(p)
}

// sendWholeMin is the smallest body sendWhole sends beside the head:
// copying a smaller one into the buffer costs less than a second iovec.
const sendWholeMin = 512

// sendWhole sends the head, buffered alone in bw, and p, the whole body,
// in one sendmsg(2) from where they are, instead of copying p into bw
// for finish's flush: a kept file's bytes, shared by every request for
// it, are not copied per request. ok is false, with nothing sent, unless
// bw holds just the head (headHeld, and nothing was written to the
// socket since the request's head was read) on a raw socket; what the
// socket does not take at once is buffered as usual.
func (w *ResponseWriter) sendWhole(p []byte) (int, bool, error) {
	c := w.c
	head := w.sentHead
	if c.cw.nc == nil || c.cw.writes != 0 || c.cw.pace.rate > 0 || c.hijacked || c.bw.Buffered() != len(head) {
		return 0, false, nil
	}
	n := c.cw.nc.WriteNow2(head, p)
	// The head leaves the buffer either way: sent, or put back below
	// for what was not.
	c.bw.Reset(&c.cw)
	w.headHeld = false
	w.written = int64(len(p))
	if n == len(head)+len(p) {
		// Not counted in cw.writes: the response went out whole in one
		// write, as finish's flush would have sent it (atOnce).
		return len(p), true, nil
	}
	c.cw.writes++
	var err error
	if n < len(head) {
		_, err = c.bw.Write(head[n:])
		n = 0
	} else {
		n -= len(head)
	}
	if err == nil {
		_, err = c.bw.Write(p[n:])
	}
	if err != nil {
		w.broken = true
		return 0, true, err
	}
	return len(p), true, nil
}

// writeBody writes body bytes with the response's framing.
func (w *ResponseWriter) writeBody(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		w.closeAfter, w.keepalive = true, false
		return 0, ErrContentLength
	}
	bw := w.c.bw
	if w.headHeld && w.written == 0 && w.clen == int64(len(p)) && len(p) >= sendWholeMin && !w.chunked {
		if n, ok, err := w.sendWhole(p); ok {
			return n, err
		}
	}
	if w.chunked {
		w.scratch = strconv.AppendInt(w.scratch[:0], int64(len(p)), 16)
		w.scratch = append(w.scratch, "\r\n"...)
		m, err := bw.Write(w.scratch)
		w.framing += int64(m)
		if err != nil {
			w.broken = true
			return 0, err
		}
	}
	n, err := bw.Write(p)
	w.written += int64(n)
	if err == nil && w.chunked {
		var m int
		m, err = bw.WriteString("\r\n")
		w.framing += int64(m)
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
	return w.WriteErrorWith(status, "", nil)
}

// WriteErrorWith is WriteError with what nginx's header filters add to a
// built-in page: charset (charset directive, "" for none) is appended to
// its Content-Type as "; charset=X", and extra, serialized "Name:
// Value\r\n" lines (Content-Range of a 416, Expires of a 301), follows
// the Connection line. Lines of extra with a bare CR, LF or NUL inside a
// value are the caller's to avoid.
func (w *ResponseWriter) WriteErrorWith(status int, charset string, extra []byte) error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	if status == 408 || status == StatusClientClosedRequest || status == StatusNoResponse {
		w.wroteHeader, w.status, w.noBody, w.closeAfter = true, status, true, true
		return nil
	}
	if ClosesKeepalive(status) {
		w.closeAfter = true
	}
	w.errStatus = 0 // the page is the error's own
	w.hdr = w.hdr[:0]
	w.location = w.location[:0]
	w.lastMod = w.lastMod[:0]
	w.framingAt, w.lateAt = -1, -1
	page := AppendErrorPage(nil, status, w.c.serverName())
	if w.req.ProtoMajor >= 1 && WantsPadding(w.req.Header("User-Agent")) {
		page = AppendErrorPadding(page, status)
	}
	w.AddServerDate()
	if len(page) > 0 {
		w.hdr = append(w.hdr, "Content-Type: text/html"...)
		if charset != "" && safeField(charset) {
			w.hdr = append(w.hdr, "; charset="...)
			w.hdr = append(w.hdr, charset...)
		}
		w.hdr = append(w.hdr, "\r\n"...)
	}
	if len(extra) > 0 {
		w.framingAt = len(w.hdr)
		w.hdr = append(w.hdr, extra...)
	}
	if err := w.WriteHeader(WireStatus(status), "", int64(len(page))); err != nil {
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
	w.endBody()
	bw := w.c.bw
	w.finished = true
	if w.chunked && !w.broken {
		w.filterTrailers()
		n1, _ := bw.WriteString("0\r\n")
		n2, _ := bw.Write(w.trailers)
		n3, _ := bw.WriteString("\r\n")
		w.framing += int64(n1 + n2 + n3)
	}
	if !w.noBody && w.clen >= 0 && w.written != w.clen {
		// The client expects more bytes than we have: the framing is
		// broken, only closing tells it.
		w.keepalive = false
	}
	if w.req.ProtoMajor == 0 {
		w.keepalive = false
	}
	w.atOnce = w.c.cw.writes == 0
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
	if c.discard == nil {
		c.discard = bufio.NewWriterSize(io.Discard, 16)
	}
	c.discard.Reset(io.Discard)
	c.bw = c.discard
	return c.conn, br, nil
}

// Hijacked reports whether the handler took the connection over (Hijack,
// Upgrade): its request is then the new owner's to end.
func (w *ResponseWriter) Hijacked() bool { return w.c.hijacked }

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

// AppendKeepAliveHeader appends "Keep-Alive: timeout=N" for
// keepalive_timeout's second value (whole seconds, as nginx's %T), after
// a "Connection: keep-alive" line; nothing for 0.
func AppendKeepAliveHeader(b []byte, timeout time.Duration) []byte {
	if timeout <= 0 {
		return b
	}
	b = append(b, "Keep-Alive: timeout="...)
	b = strconv.AppendInt(b, int64(timeout/time.Second), 10)
	return append(b, "\r\n"...)
}
