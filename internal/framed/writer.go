package framed

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// Transport sends a Writer's head and body on one stream.
type Transport interface {
	// SendHead sends head (HTTP/1.1 form, after the filters) as the
	// protocol's HEADERS: EachField gives its fields. upgrade maps a 101
	// to the 200 of an extended CONNECT (RFC 8441 section 5, RFC 9220);
	// end is true when neither a body nor trailers follow. framing is
	// the bytes the head took on the wire.
	SendHead(head []byte, upgrade, end bool) (framing int, err error)
	// SendData sends p as DATA at once, within sendTimeout when not 0
	// (send_timeout); last ends the stream. framing is the bytes the
	// frames took beyond p's.
	SendData(p []byte, last bool, sendTimeout time.Duration) (n, framing int, err error)
}

// Writer answers one stream. The head is put together as on HTTP/1.1,
// in nginx's order and through the location's head filter, and handed
// to the Transport; each Write is sent at once. The protocols embed it
// and add their own SetLimits, Flush and Upgrade (exchange.ResponseWriter).
type Writer struct {
	t          Transport
	req        *exchange.Request
	limits     exchange.Limits
	serverName string
	prefix     string // the protocol's, in errors ("h2")

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

// Reset readies w for a new request, keeping its buffers. serverName
// ("" for "wsgate") is the Server line and the error pages' footer;
// prefix names the protocol in errors ("h2", "h3").
func (w *Writer) Reset(t Transport, req *exchange.Request, l exchange.Limits, serverName, prefix string) {
	if serverName == "" {
		serverName = "wsgate"
	}
	*w = Writer{t: t, req: req, limits: l, serverName: serverName, prefix: prefix,
		framingAt: -1, lateAt: -1, clen: -1,
		hdr: w.hdr[:0], location: w.location[:0], lastMod: w.lastMod[:0], errHdr: w.errHdr[:0],
		scratch: w.scratch[:0], trailers: w.trailers[:0], sentHead: w.sentHead[:0]}
}

// SetSendLimits applies a location's limits to the writes (send_timeout);
// the protocol applies the rest to its body.
func (w *Writer) SetSendLimits(l exchange.Limits) { w.limits = l }

func (w *Writer) SetHeadFilter(f exchange.HeadFilter) { w.filter = f }

func (w *Writer) AddServerDate() {
	w.hdr = append(w.hdr, "Server: "...)
	w.hdr = append(w.hdr, w.serverName...)
	w.hdr = append(w.hdr, "\r\nDate: "...)
	w.hdr = append(w.hdr, http1.Date(time.Now())...)
	w.hdr = append(w.hdr, "\r\n"...)
}

func (w *Writer) AddHeader(name, value string) {
	w.hdr = http1.AppendLine(w.hdr, []byte(name), []byte(value))
}

func (w *Writer) AddHeaderBytes(name, value []byte) { w.hdr = http1.AppendLine(w.hdr, name, value) }

func (w *Writer) AddLines(lines []byte) { w.hdr = append(w.hdr, lines...) }

func (w *Writer) SetLocation(value []byte) {
	w.location = w.location[:0]
	if value != nil {
		w.location = http1.AppendLine(w.location, []byte("Location"), value)
	}
}

func (w *Writer) SetLastModified(value []byte) {
	w.lastMod = http1.AppendLine(w.lastMod[:0], []byte("Last-Modified"), value)
}

func (w *Writer) MarkFraming()   { w.framingAt = len(w.hdr) }
func (w *Writer) MarkLateLines() { w.lateAt = len(w.hdr) }

func (w *Writer) AddErrorHeader(name, value []byte) {
	w.errHdr = http1.AppendLine(w.errHdr, name, value)
}

func (w *Writer) SetErrorStatus(status int) { w.errStatus = status }

// CloseAfter does nothing: a response on a stream never ends its
// connection.
func (w *Writer) CloseAfter() {}

// Abort ends the stream with a reset instead of its end, so that the
// client sees the response cut off.
func (w *Writer) Abort() { w.aborted = true }

func (w *Writer) Written() bool { return w.wroteHeader }
func (w *Writer) Status() int   { return w.status }
func (w *Writer) BodyBytes() int64 {
	w.endBody()
	return w.written
}

// BytesSent counts the frames of the response: HEADERS as encoded,
// DATA with their frame headers.
func (w *Writer) BytesSent() int64 {
	w.endBody()
	return w.written + w.framing
}

// Broken reports whether a write failed or the response was aborted:
// its stream is to be reset.
func (w *Writer) Broken() bool { return w.broken || w.aborted }

// Finished reports whether End ran.
func (w *Writer) Finished() bool { return w.finished }

// WroteHeader reports whether the head went out (or was decided).
func (w *Writer) WroteHeader() bool { return w.wroteHeader }

// AddFraming counts n more bytes of frames (trailers sent by the
// protocol).
func (w *Writer) AddFraming(n int) { w.framing += int64(n) }

func (w *Writer) errHeaderWritten() error {
	return errors.New(w.prefix + ": response header already written")
}

func (w *Writer) checkStatus(status int) error {
	if status < 200 || status > 999 {
		return errors.New(w.prefix + ": invalid response status " + strconv.Itoa(status))
	}
	return nil
}

// WriteHeader sends the head. reason is HTTP/1.1's and has no place on
// a stream; contentLength -1 means unknown.
func (w *Writer) WriteHeader(status int, _ string, contentLength int64) error {
	if w.wroteHeader {
		return w.errHeaderWritten()
	}
	if w.errStatus != 0 {
		status = w.errStatus
	}
	if err := w.checkStatus(status); err != nil {
		return err
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
	b = http1.AppendHeadTail(b, w.errHdr, w.hdr, at, w.lateAt, w.filter, status)
	b = w.startBody(b, status)
	w.scratch = b
	return w.sendHead(b, false)
}

// decide records the status and whether the response has a body.
func (w *Writer) decide(status int, contentLength int64) {
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
func (w *Writer) WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f exchange.Framing) []byte) error {
	if w.wroteHeader {
		return w.errHeaderWritten()
	}
	override := w.errStatus != 0
	if override {
		status = w.errStatus
	}
	if err := w.checkStatus(status); err != nil {
		return err
	}
	w.decide(status, contentLength)
	f := exchange.Framing{ContentLength: w.clen, KeepAlive: true}
	b := compose(w.scratch[:0], f)
	if override {
		b = http1.ReplaceStatusLine(b, status)
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

// StartUpgrade sends the 200 that answers an extended CONNECT (the
// backend's 101, RFC 8441 section 5, RFC 9220 section 3), composed in
// HTTP/1.1 form, without its handshake lines; the protocol then hands
// the stream over.
func (w *Writer) StartUpgrade(compose func(dst []byte, f exchange.Framing) []byte) error {
	if w.wroteHeader {
		return w.errHeaderWritten()
	}
	w.wroteHeader, w.status = true, 101
	b := compose(w.scratch[:0], exchange.Framing{ContentLength: -1, KeepAlive: true})
	if w.filter != nil {
		b = w.filter.FilterHead(b, 0, -1, 101)
	}
	w.scratch = b
	return w.sendHead(b, true)
}

// sendHead records head as sent and hands it to the Transport.
func (w *Writer) sendHead(head []byte, upgrade bool) error {
	w.sentHead = append(w.sentHead[:0], head...)
	n, err := w.t.SendHead(head, upgrade, w.noBody && !w.expectTrailers())
	w.framing += int64(n)
	if err != nil {
		w.broken = true
	}
	return err
}

func (w *Writer) expectTrailers() bool {
	return w.filter != nil && w.filter.ExpectTrailers(w.status)
}

// HeadStatus is the status of head, "HTTP/1.1 NNN reason\r\n" and lines
// (200 if it has none); upgrade maps a 101 to the 200 of an extended
// CONNECT.
func HeadStatus(head []byte, upgrade bool) int {
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	status := 200
	if _, after, ok := bytes.Cut(line, []byte(" ")); ok && len(after) >= 3 {
		if n, err := strconv.Atoi(string(after[:3])); err == nil {
			status = n
		}
	}
	if upgrade && status == 101 {
		status = 200
	}
	return status
}

// HeadLines is what follows the status line of head.
func HeadLines(head []byte) []byte {
	_, rest, _ := bytes.Cut(head, []byte("\r\n"))
	return rest
}

// EachField calls f with each "Name: value\r\n" line of b as a field: the
// name lower-cased, the value without its surrounding whitespace, and
// without Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding and
// Upgrade, which streams do not have (RFC 9113 8.2.2, RFC 9114 4.2).
// upgrade also leaves out the handshake's Sec-WebSocket-Accept and
// Content-Length.
func EachField(b []byte, upgrade bool, f func(name string, value []byte)) {
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
		f(lname, http1.TrimOWS(value))
	}
}

// Write sends p as DATA, with a 200 head of unknown length first if none
// was written.
func (w *Writer) Write(p []byte) (int, error) {
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
func (w *Writer) writeBody(p []byte) (int, error) {
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
func (w *Writer) writeData(p []byte) (int, error) {
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		return 0, errors.New(w.prefix + ": wrote more than the declared Content-Length")
	}
	// The last bytes of a declared length end the stream, as nginx
	// sets END_STREAM on the last DATA frame.
	last := w.clen >= 0 && w.written+int64(len(p)) == w.clen && !w.expectTrailers() && !w.aborted
	n, framing, err := w.t.SendData(p, last, w.limits.SendTimeout)
	w.written += int64(n)
	w.framing += int64(framing)
	if err != nil {
		w.broken = true
	}
	return n, err
}

func (w *Writer) WriteError(status int) error { return w.WriteErrorWith(status, "", nil) }

// WriteErrorWith answers with nginx's built-in page for status, as on
// HTTP/1.1; 408, 444 and 499 send nothing and reset the stream.
func (w *Writer) WriteErrorWith(status int, charset string, extra []byte) error {
	if w.wroteHeader {
		return w.errHeaderWritten()
	}
	if status == 408 || status == http1.StatusClientClosedRequest || status == http1.StatusNoResponse {
		w.wroteHeader, w.status, w.noBody, w.aborted = true, status, true, true
		return nil
	}
	w.errStatus = 0
	w.hdr, w.location, w.lastMod = w.hdr[:0], w.location[:0], w.lastMod[:0]
	w.framingAt, w.lateAt = -1, -1
	page := http1.AppendErrorPage(nil, status, w.serverName)
	if http1.WantsPadding(w.req.Header("User-Agent")) {
		page = http1.AppendErrorPadding(page, status)
	}
	w.AddServerDate()
	if len(page) > 0 {
		ct := []byte("text/html")
		if charset != "" {
			ct = append(ct, "; charset="+charset...)
		}
		w.hdr = http1.AppendLine(w.hdr, []byte("Content-Type"), ct)
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

// WriteFile sends n bytes of f from off (no sendfile on a stream: the
// bytes go through DATA frames).
func (w *Writer) WriteFile(f *os.File, off, n int64) (int64, error) {
	bp := filePool.Get().(*[]byte)
	defer filePool.Put(bp)
	return io.CopyBuffer(writerOnly{w}, io.NewSectionReader(f, off, n), *bp)
}

type writerOnly struct{ io.Writer }

var filePool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// BodyBuffer lends nothing: a small file goes through WriteFile.
func (w *Writer) BodyBuffer(int) []byte { return nil }

// End ends the response after the handler: nginx's page for bodyErr (the
// request body's error nobody answered; nil: none), else an empty 200 if
// nothing was written; then the body filter's stage. complete is false
// for a response cut short (aborted, broken, or shorter than its
// Content-Length), whose stream the protocol resets; it runs once.
func (w *Writer) End(bodyErr error) (complete bool) {
	if w.finished {
		return false
	}
	if !w.wroteHeader {
		if s := exchange.StatusOf(bodyErr); s != 0 {
			w.WriteError(s)
		} else {
			w.WriteHeader(200, "", 0)
		}
	}
	w.endBody()
	w.finished = true
	return !w.aborted && !w.broken && (w.noBody || w.clen < 0 || w.written == w.clen)
}

// Trailers evaluates the head filter's trailers (add_trailer) of a
// complete response, "Name: value\r\n" lines; nil for none.
func (w *Writer) Trailers() []byte {
	if w.filter != nil {
		w.trailers = w.filter.AppendTrailers(w.trailers[:0], w.status)
	}
	return w.trailers
}
