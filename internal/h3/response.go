package h3

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/quic-go/quicvarint"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// ResponseWriter answers one request stream (exchange.ResponseWriter).
// The head is put together as on HTTP/1.1, in nginx's order and through
// the location's head filter, and then handed to quic-go as a status and
// fields: lower-cased names, without the connection lines HTTP/3 does not
// have (RFC 9114 4.2). Each Write is sent at once.
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

	status    int
	errStatus int
	clen      int64
	written   int64
	framing   int64

	noBody, wroteHeader, broken, aborted, finished bool
}

func (w *ResponseWriter) reset(req *exchange.Request, l exchange.Limits) {
	*w = ResponseWriter{st: w.st, req: req, limits: l, framingAt: -1, lateAt: -1, clen: -1}
	w.st.body.timeout = l.ClientBodyTimeout
}

// SetLimits applies the location's limits: client_max_body_size and
// client_body_timeout to the body, send_timeout to the writes.
func (w *ResponseWriter) SetLimits(l exchange.Limits) error {
	w.limits = l
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
	if n := w.st.cfg.ServerName; n != "" {
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

// CloseAfter does nothing: an HTTP/3 response never ends its connection.
func (w *ResponseWriter) CloseAfter() {}

// Abort resets the stream instead of ending it, so that the client sees
// the response cut off.
func (w *ResponseWriter) Abort() { w.aborted = true }

func (w *ResponseWriter) Written() bool { return w.wroteHeader }
func (w *ResponseWriter) Status() int   { return w.status }
func (w *ResponseWriter) BodyBytes() int64 {
	w.endBody()
	return w.written
}

// BytesSent counts the frames of the response: the fields of the
// HEADERS frame, DATA with their frame headers.
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

var errHeaderWritten = errors.New("h3: response header already written")

// WriteHeader sends the head. reason is HTTP/1.1's and has no place on
// HTTP/3; contentLength -1 means unknown.
func (w *ResponseWriter) WriteHeader(status int, _ string, contentLength int64) error {
	if w.wroteHeader {
		return errHeaderWritten
	}
	if w.errStatus != 0 {
		status = w.errStatus
	}
	if status < 200 || status > 999 {
		return errors.New("h3: invalid response status " + strconv.Itoa(status))
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
		return errors.New("h3: invalid response status " + strconv.Itoa(status))
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

// sendHead hands an HTTP/1.1 head to quic-go as a status and fields and
// sends it. upgrade maps a 101 to the 200 of an extended CONNECT (RFC
// 9220, RFC 8441 section 5) and leaves out its handshake lines. quic-go
// adds no Date and no sniffed Content-Type: the head is the pipeline's.
func (w *ResponseWriter) sendHead(head []byte, upgrade bool) error {
	w.sentHead = append(w.sentHead[:0], head...)
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	status := 200
	if _, after, ok := bytes.Cut(line, []byte(" ")); ok && len(after) >= 3 {
		if n, err := strconv.Atoi(string(after[:3])); err == nil {
			status = n
		}
	}
	if upgrade && status == 101 {
		status = 200
	}
	h := w.st.hw.Header()
	clear(h)
	h["Date"], h["Content-Type"] = nil, nil
	n := appendFields(h, rest, upgrade)
	w.framing += int64(n) + 1
	w.st.hw.WriteHeader(status)
	if err := http.NewResponseController(w.st.hw).Flush(); err != nil {
		w.broken = true
		return err
	}
	return nil
}

func (w *ResponseWriter) expectTrailers() bool {
	return w.filter != nil && w.filter.ExpectTrailers(w.status)
}

// appendFields adds the "Name: value\r\n" lines of b to h, with
// lower-cased names, without Connection, Keep-Alive, Proxy-Connection,
// Transfer-Encoding and Upgrade; it returns their size.
func appendFields(h http.Header, b []byte, upgrade bool) int {
	size := 0
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
		v := string(http1.TrimOWS(value))
		// The map's keys are canonical, as quic-go's own Content-Length
		// and Date checks look them up; the names go out lower-cased.
		k := http.CanonicalHeaderKey(lname)
		h[k] = append(h[k], v)
		size += len(lname) + len(v)
	}
	return size
}

var errContentLength = errors.New("h3: wrote more than the declared Content-Length")

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

// writeData sends p as one DATA frame, at once.
func (w *ResponseWriter) writeData(p []byte) (int, error) {
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		return 0, errContentLength
	}
	rc := http.NewResponseController(w.st.hw)
	if t := w.limits.SendTimeout; t > 0 {
		rc.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := w.st.hw.Write(p)
	if err == nil {
		err = rc.Flush()
	}
	w.written += int64(n)
	w.framing += int64(1 + quicvarint.Len(uint64(n)))
	if err != nil {
		w.broken = true
	}
	return n, err
}

// Flush does nothing: every write is sent at once.
func (w *ResponseWriter) Flush() error {
	if w.broken {
		return net.ErrClosed
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

// WriteFile sends n bytes of f from off (the bytes go through DATA
// frames).
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
// 9220 section 3, RFC 8441 section 5) and hands the stream over as a
// net.Conn.
func (w *ResponseWriter) Upgrade(compose func(dst []byte, f exchange.Framing) []byte) (net.Conn, []byte, error) {
	st := w.st
	if !st.extConnect {
		return nil, nil, errors.New("h3: upgrade of a stream that is not an extended CONNECT")
	}
	if w.wroteHeader {
		return nil, nil, errHeaderWritten
	}
	hs, ok := st.hw.(http3.HTTPStreamer)
	if !ok {
		return nil, nil, errors.New("h3: the stream cannot be taken over")
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
	st.upgraded = true
	ctx := st.hr.Context()
	c := &streamConn{str: hs.HTTPStream(), conn: st.conn}
	c.local, _ = ctx.Value(http.LocalAddrContextKey).(net.Addr)
	c.remote, _ = ctx.Value(http3.RemoteAddrContextKey).(net.Addr)
	return c, nil, nil
}

// finish ends the response after the handler: nginx's page for a body
// error nobody answered, else an empty 200 if nothing was written; then
// the trailers, which quic-go sends when the handler returns.
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
		return
	}
	if w.filter != nil {
		w.trailers = w.filter.AppendTrailers(w.trailers[:0], w.status)
	}
	if len(w.trailers) > 0 {
		t := http.Header{}
		w.framing += int64(appendFields(t, w.trailers, false))
		h := st.hw.Header()
		for k, v := range t {
			h[http.TrailerPrefix+k] = v
		}
	}
}

var _ exchange.ResponseWriter = (*ResponseWriter)(nil)
