package h2

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// ResponseWriter answers one stream (exchange.ResponseWriter). The head
// is put together as on HTTP/1.1, in nginx's order and through the
// location's head filter, and then sent as a HEADERS frame: ":status",
// the lines with lower-cased names, without the connection lines HTTP/2
// does not have (RFC 9113 8.2.2). Each Write is sent at once as DATA
// frames.
type ResponseWriter struct {
	st     *stream
	req    *exchange.Request
	limits exchange.Limits

	hdr       []byte // "Name: Value\r\n" lines
	framingAt int    // where Content-Length goes; -1: end
	lateAt    int    // first late line (MarkLateLines); -1: none
	location  []byte
	lastMod   []byte
	errHdr    []byte
	scratch   []byte
	trailers  []byte
	filter    exchange.HeadFilter
	bfilter   exchange.BodyFilter
	stage     exchange.BodyStage // the body filter's stage of this body; nil: none
	sentHead  []byte             // the head as it went out (SentHead)
	pace      pacer
	fields    []hpack.HeaderField

	status    int
	errStatus int
	clen      int64
	written   int64
	framing   int64

	noBody, wroteHeader, broken, aborted, finished bool
}

func (w *ResponseWriter) reset(req *exchange.Request, l exchange.Limits) {
	*w = ResponseWriter{st: w.st, req: req, limits: l, framingAt: -1, lateAt: -1, clen: -1,
		hdr: w.hdr[:0], location: w.location[:0], lastMod: w.lastMod[:0], errHdr: w.errHdr[:0],
		scratch: w.scratch[:0], trailers: w.trailers[:0], fields: w.fields[:0], sentHead: w.sentHead[:0]}
	w.st.body.timeout = l.ClientBodyTimeout
	w.st.chunk = l.H2ChunkSize
}

// SetLimits applies the location's limits: client_max_body_size and
// client_body_timeout to the body, send_timeout to the writes.
func (w *ResponseWriter) SetLimits(l exchange.Limits) error {
	w.limits = l
	w.st.chunk = l.H2ChunkSize
	w.st.body.timeout = l.ClientBodyTimeout
	return w.st.body.setMax(l.ClientMaxBodySize)
}

func (w *ResponseWriter) SetHeadFilter(f exchange.HeadFilter) { w.filter = f }

func (w *ResponseWriter) AddServerDate() {
	w.hdr = append(w.hdr, "Server: "...)
	w.hdr = append(w.hdr, w.serverName()...)
	w.hdr = append(w.hdr, "\r\nDate: "...)
	w.hdr = append(w.hdr, http1.Date(time.Now())...)
	w.hdr = append(w.hdr, "\r\n"...)
}

func (w *ResponseWriter) serverName() string {
	if n := w.st.sc.cfg.ServerName; n != "" {
		return n
	}
	return "wsgate"
}

func (w *ResponseWriter) AddHeader(name, value string) {
	w.hdr = appendLine(w.hdr, []byte(name), []byte(value))
}

func (w *ResponseWriter) AddHeaderBytes(name, value []byte) { w.hdr = appendLine(w.hdr, name, value) }

func (w *ResponseWriter) SetLocation(value []byte) {
	w.location = w.location[:0]
	if value != nil {
		w.location = appendLine(w.location, []byte("Location"), value)
	}
}

func (w *ResponseWriter) SetLastModified(value []byte) {
	w.lastMod = appendLine(w.lastMod[:0], []byte("Last-Modified"), value)
}

func (w *ResponseWriter) MarkFraming()   { w.framingAt = len(w.hdr) }
func (w *ResponseWriter) MarkLateLines() { w.lateAt = len(w.hdr) }

func (w *ResponseWriter) AddErrorHeader(name, value []byte) {
	w.errHdr = appendLine(w.errHdr, name, value)
}

func (w *ResponseWriter) SetErrorStatus(status int) { w.errStatus = status }

// CloseAfter does nothing: an HTTP/2 response never ends its connection.
func (w *ResponseWriter) CloseAfter() {}

// Abort ends the stream with RST_STREAM INTERNAL_ERROR instead of
// END_STREAM, so that the client sees the response cut off.
func (w *ResponseWriter) Abort() { w.aborted = true }

func (w *ResponseWriter) Written() bool { return w.wroteHeader }
func (w *ResponseWriter) Status() int   { return w.status }
func (w *ResponseWriter) BodyBytes() int64 {
	w.endBody()
	return w.written
}

// BytesSent counts the frames of the response: HEADERS as encoded,
// DATA with their frame headers.
func (w *ResponseWriter) BytesSent() int64 {
	w.endBody()
	return w.written + w.framing
}

// appendLine appends "name: value\r\n"; a line with CR, LF or NUL is
// dropped, as it would be on HTTP/1.1.
func appendLine(dst, name, value []byte) []byte {
	if bytes.ContainsAny(name, "\r\n\x00") || bytes.ContainsAny(value, "\r\n\x00") {
		return dst
	}
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

var errHeaderWritten = errors.New("h2: response header already written")

// WriteHeader sends the head. reason is HTTP/1.1's and has no place on
// HTTP/2; contentLength -1 means unknown.
func (w *ResponseWriter) WriteHeader(status int, _ string, contentLength int64) error {
	if w.wroteHeader {
		return errHeaderWritten
	}
	if w.errStatus != 0 {
		status = w.errStatus
	}
	if status < 200 || status > 999 {
		return errors.New("h2: invalid response status " + strconv.Itoa(status))
	}
	w.decide(status, contentLength)
	b := append(w.scratch[:0], "HTTP/1.1 "...)
	b = http1.AppendStatusLine(b, status)
	b = append(b, "\r\n"...)
	at := w.framingAt
	if at < 0 || at > len(w.hdr) {
		at = len(w.hdr)
	}
	b = append(b, w.hdr[:at]...)
	if w.clen >= 0 && status != 204 && status != 304 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, w.clen, 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, w.lastMod...)
	b = append(b, w.location...)
	// AddErrorHeader's lines lead the handler's own after the framing
	// ones, as in nginx's list of headers.
	b = append(b, w.errHdr...)
	late := -1
	if w.lateAt >= at && w.lateAt < len(w.hdr) {
		late = len(b) + w.lateAt - at
	}
	b = append(b, w.hdr[at:]...)
	b = append(b, "\r\n"...)
	if w.filter != nil {
		fs := status
		if fs == 206 && w.lateAt >= 0 {
			fs = 200
		}
		b = w.filter.FilterHead(b, 0, late, fs)
	}
	b = w.startBody(b, status)
	w.scratch = b
	return w.sendHead(b, false)
}

// decide records the status and whether the response has a body.
func (w *ResponseWriter) decide(status int, contentLength int64) {
	w.wroteHeader = true
	w.status = status
	w.noBody = w.req.IsHEAD() || status == 204 || status == 304
	w.clen = contentLength
	if status == 204 {
		w.clen = -1
	}
}

// WriteComposedHeader sends a head that compose writes in HTTP/1.1 form
// (a proxied response).
func (w *ResponseWriter) WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f exchange.Framing) []byte) error {
	if w.wroteHeader {
		return errHeaderWritten
	}
	override := w.errStatus != 0
	if override {
		status = w.errStatus
	}
	if status < 200 || status > 999 {
		return errors.New("h2: invalid response status " + strconv.Itoa(status))
	}
	w.decide(status, contentLength)
	f := exchange.Framing{ContentLength: w.clen, KeepAlive: true}
	b := compose(w.scratch[:0], f)
	if override {
		b = replaceStatus(b, status)
	}
	if len(w.errHdr) > 0 && len(b) >= 2 {
		b = slices.Insert(b, len(b)-2, w.errHdr...)
	}
	if w.filter != nil {
		b = w.filter.FilterHead(b, 0, -1, status)
	}
	b = w.startBody(b, status)
	w.scratch = b
	return w.sendHead(b, false)
}

// replaceStatus puts status in place of the head's status line.
func replaceStatus(head []byte, status int) []byte {
	end := bytes.Index(head, []byte("\r\n"))
	if end < 0 {
		return head
	}
	l := http1.AppendStatusLine([]byte("HTTP/1.1 "), status)
	return slices.Replace(head, 0, end, l...)
}

// sendHead converts an HTTP/1.1 head to HTTP/2 fields and sends them.
// upgrade maps a 101 to the 200 of an extended CONNECT (RFC 8441
// section 5) and leaves out its handshake lines.
func (w *ResponseWriter) sendHead(head []byte, upgrade bool) error {
	w.sentHead = append(w.sentHead[:0], head...)
	w.fields = headFields(w.fields[:0], head, upgrade)
	end := w.noBody && !w.expectTrailers()
	n, err := w.st.sc.writeHeaders(w.st.id, w.fields, end)
	w.framing += int64(n)
	if err != nil {
		w.broken = true
		return err
	}
	if end {
		w.st.sc.mu.Lock()
		w.st.localClosed = true
		w.st.sc.mu.Unlock()
	}
	return nil
}

func (w *ResponseWriter) expectTrailers() bool {
	return w.filter != nil && w.filter.ExpectTrailers(w.status)
}

// headFields turns head, "HTTP/1.1 NNN reason\r\n" and header lines, into
// HTTP/2 fields: :status, then the lines with lower-cased names, without
// Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding and Upgrade.
func headFields(dst []hpack.HeaderField, head []byte, upgrade bool) []hpack.HeaderField {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	status := "200"
	if _, after, ok := bytes.Cut(line, []byte(" ")); ok && len(after) >= 3 {
		status = string(after[:3])
	}
	if upgrade && status == "101" {
		status = "200"
	}
	dst = append(dst, hpack.HeaderField{Name: ":status", Value: status})
	return appendFields(dst, rest, upgrade)
}

// appendFields appends the "Name: value\r\n" lines of b as fields.
func appendFields(dst []hpack.HeaderField, b []byte, upgrade bool) []hpack.HeaderField {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		lname := string(bytes.ToLower(name))
		switch lname {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			continue
		case "sec-websocket-accept", "content-length":
			if upgrade {
				continue
			}
		}
		dst = append(dst, hpack.HeaderField{Name: lname, Value: string(http1.TrimOWS(value))})
	}
	return dst
}

var errContentLength = errors.New("h2: wrote more than the declared Content-Length")

// Write sends p as DATA, with a 200 head of unknown length first if none
// was written.
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
		if err := w.stage.Write(rawBody{w}, p); err != nil {
			w.broken = true
			return 0, err
		}
		return len(p), nil
	}
	return w.writeBody(p)
}

// writeBody sends body bytes as DATA frames, paced by limit_rate.
func (w *ResponseWriter) writeBody(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.pace.rate > 0 {
		sent := 0
		for sent < len(p) {
			n := int(w.pace.allow(int64(len(p)-sent), w.written+w.framing))
			m, err := w.writeData(p[sent : sent+n])
			sent += m
			if err != nil {
				return sent, err
			}
		}
		return sent, nil
	}
	return w.writeData(p)
}

// writeData sends p as DATA frames.
func (w *ResponseWriter) writeData(p []byte) (int, error) {
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		return 0, errContentLength
	}
	if t := w.limits.SendTimeout; t > 0 {
		w.st.setDeadline(time.Now().Add(t), true)
	}
	// The last bytes of a declared length end the stream, as nginx
	// sets END_STREAM on the last DATA frame.
	last := w.clen >= 0 && w.written+int64(len(p)) == w.clen && !w.expectTrailers() && !w.aborted
	n, framing, err := w.st.writeData(p, last)
	w.written += int64(n)
	w.framing += int64(framing)
	if err != nil {
		w.broken = true
	}
	return n, err
}

// Flush does nothing: every write is sent at once.
func (w *ResponseWriter) Flush() error {
	if w.broken {
		return errConnClosed
	}
	return nil
}

func (w *ResponseWriter) WriteError(status int) error { return w.WriteErrorWith(status, "", nil) }

// WriteErrorWith answers with nginx's built-in page for status, as on
// HTTP/1.1; 408, 444 and 499 send nothing and reset the stream.
func (w *ResponseWriter) WriteErrorWith(status int, charset string, extra []byte) error {
	if w.wroteHeader {
		return errHeaderWritten
	}
	if status == 408 || status == http1.StatusClientClosedRequest || status == http1.StatusNoResponse {
		w.wroteHeader, w.status, w.noBody, w.aborted = true, status, true, true
		return nil
	}
	w.errStatus = 0
	w.hdr, w.location, w.lastMod = w.hdr[:0], w.location[:0], w.lastMod[:0]
	w.framingAt, w.lateAt = -1, -1
	page := http1.AppendErrorPage(nil, status, w.serverName())
	if http1.WantsPadding(w.req.Header("User-Agent")) {
		page = http1.AppendErrorPadding(page, status)
	}
	w.AddServerDate()
	if len(page) > 0 {
		ct := []byte("text/html")
		if charset != "" {
			ct = append(ct, "; charset="+charset...)
		}
		w.hdr = appendLine(w.hdr, []byte("Content-Type"), ct)
	}
	if len(extra) > 0 {
		w.framingAt = len(w.hdr)
		w.hdr = append(w.hdr, extra...)
	}
	if err := w.WriteHeader(http1.WireStatus(status), "", int64(len(page))); err != nil {
		return err
	}
	w.status = status
	_, err := w.Write(page)
	return err
}

// WriteFile sends n bytes of f from off (no sendfile on HTTP/2: the
// bytes go through DATA frames).
func (w *ResponseWriter) WriteFile(f *os.File, off, n int64) (int64, error) {
	bp := filePool.Get().(*[]byte)
	defer filePool.Put(bp)
	return io.CopyBuffer(writerOnly{w}, io.NewSectionReader(f, off, n), *bp)
}

type writerOnly struct{ io.Writer }

var filePool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// BodyBuffer lends nothing: a small file goes through WriteFile.
func (w *ResponseWriter) BodyBuffer(int) []byte { return nil }

// Upgrade answers an extended CONNECT with 200 (the backend's 101, RFC
// 8441 section 5) and hands the stream over as a net.Conn.
func (w *ResponseWriter) Upgrade(compose func(dst []byte, f exchange.Framing) []byte) (net.Conn, []byte, error) {
	if !w.st.extConnect {
		return nil, nil, errors.New("h2: upgrade of a stream that is not an extended CONNECT")
	}
	if w.wroteHeader {
		return nil, nil, errHeaderWritten
	}
	w.wroteHeader, w.status = true, 101
	b := compose(w.scratch[:0], exchange.Framing{ContentLength: -1, KeepAlive: true})
	if w.filter != nil {
		b = w.filter.FilterHead(b, 0, -1, 101)
	}
	w.scratch = b
	if err := w.sendHead(b, true); err != nil {
		return nil, nil, err
	}
	st := w.st
	st.sc.mu.Lock()
	st.upgraded = true
	st.sc.mu.Unlock()
	return &streamConn{st: st}, nil, nil
}

// finish ends the response after the handler: nginx's page for a body
// error nobody answered, else an empty 200 if nothing was written; then
// trailers or an empty END_STREAM DATA frame, or RST_STREAM for a
// response cut short.
func (w *ResponseWriter) finish() {
	if w.finished {
		return
	}
	st := w.st
	if !w.wroteHeader {
		if s := exchange.StatusOf(st.body.err()); s != 0 {
			w.WriteError(s)
		} else {
			w.WriteHeader(200, "", 0)
		}
	}
	w.endBody()
	w.finished = true
	if w.aborted || w.broken || (!w.noBody && w.clen >= 0 && w.written != w.clen) {
		st.sc.abandon(st, http2.ErrCodeInternal)
		return
	}
	st.sc.mu.Lock()
	done := st.localClosed
	st.sc.mu.Unlock()
	if done {
		return
	}
	if w.filter != nil {
		w.trailers = w.filter.AppendTrailers(w.trailers[:0], w.status)
	}
	if len(w.trailers) > 0 {
		w.fields = appendFields(w.fields[:0], w.trailers, false)
		n, err := st.sc.writeHeaders(st.id, w.fields, true)
		w.framing += int64(n)
		if err == nil {
			st.sc.mu.Lock()
			st.localClosed = true
			st.sc.mu.Unlock()
		}
		return
	}
	_, framing, _ := st.writeData(nil, true)
	w.framing += int64(framing)
}

var _ exchange.ResponseWriter = (*ResponseWriter)(nil)
