package h2

import (
	"errors"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"wsgate/internal/exchange"
	"wsgate/internal/framed"
)

// ResponseWriter answers one stream (exchange.ResponseWriter). The head
// is put together by framed.Writer, as on HTTP/1.1, in nginx's order and
// through the location's head filter, and then sent as a HEADERS frame:
// ":status", the lines with lower-cased names, without the connection
// lines HTTP/2 does not have (RFC 9113 8.2.2). Each Write is sent at once
// as DATA frames.
type ResponseWriter struct {
	framed.Writer
	out streamOut
}

// streamOut sends a response's HEADERS and DATA frames on its stream
// (framed.Transport).
type streamOut struct {
	st     *stream
	fields []hpack.HeaderField
}

func (w *ResponseWriter) reset(req *exchange.Request, l exchange.Limits) {
	st := w.out.st
	w.Writer.Reset(&w.out, req, l, st.sc.cfg.ServerName, "h2")
	w.out.fields = w.out.fields[:0]
	st.chunk = l.H2ChunkSize
}

// SetLimits applies the location's limits: client_max_body_size and
// client_body_timeout to the body, send_timeout to the writes.
func (w *ResponseWriter) SetLimits(l exchange.Limits) error {
	w.SetSendLimits(l)
	w.out.st.chunk = l.H2ChunkSize
	return w.out.st.body.SetLimits(l)
}

// SendHead converts an HTTP/1.1 head to HTTP/2 fields and sends them as
// HEADERS; end sets END_STREAM.
func (o *streamOut) SendHead(head []byte, upgrade, end bool) (int, error) {
	o.fields = append(o.fields[:0], hpack.HeaderField{Name: ":status", Value: strconv.Itoa(framed.HeadStatus(head, upgrade))})
	o.fields = appendFields(o.fields, framed.HeadLines(head), upgrade)
	n, err := o.st.sc.writeHeaders(o.st.id, o.fields, end)
	if err == nil && end {
		o.st.sc.mu.Lock()
		o.st.localClosed = true
		o.st.sc.mu.Unlock()
	}
	return n, err
}

// SendData sends p as DATA frames; last sets END_STREAM on the last.
func (o *streamOut) SendData(p []byte, last bool, sendTimeout time.Duration) (n, framing int, err error) {
	if sendTimeout > 0 {
		o.st.setDeadline(time.Now().Add(sendTimeout), true)
	}
	return o.st.writeData(p, last)
}

// appendFields appends the "Name: value\r\n" lines of b as fields.
func appendFields(dst []hpack.HeaderField, b []byte, upgrade bool) []hpack.HeaderField {
	framed.EachField(b, upgrade, func(name string, value []byte) {
		dst = append(dst, hpack.HeaderField{Name: name, Value: string(value)})
	})
	return dst
}

// Flush does nothing: every write is sent at once.
func (w *ResponseWriter) Flush() error {
	if w.Broken() {
		return errConnClosed
	}
	return nil
}

// Upgrade answers an extended CONNECT with 200 (the backend's 101, RFC
// 8441 section 5) and hands the stream over as a net.Conn.
func (w *ResponseWriter) Upgrade(compose func(dst []byte, f exchange.Framing) []byte) (net.Conn, []byte, error) {
	st := w.out.st
	if !st.extConnect {
		return nil, nil, errors.New("h2: upgrade of a stream that is not an extended CONNECT")
	}
	if err := w.StartUpgrade(compose); err != nil {
		return nil, nil, err
	}
	st.sc.mu.Lock()
	st.upgraded = true
	st.sc.mu.Unlock()
	return &streamConn{st: st}, nil, nil
}

// finish ends the response after the handler (framed.Writer.End); then
// trailers or an empty END_STREAM DATA frame, or RST_STREAM for a
// response cut short.
func (w *ResponseWriter) finish() {
	st := w.out.st
	if w.Finished() {
		return
	}
	if !w.End(st.body.Err()) {
		st.sc.abandon(st, http2.ErrCodeInternal)
		return
	}
	st.sc.mu.Lock()
	done := st.localClosed
	st.sc.mu.Unlock()
	if done {
		return
	}
	if t := w.Trailers(); len(t) > 0 {
		w.out.fields = appendFields(w.out.fields[:0], t, false)
		n, err := st.sc.writeHeaders(st.id, w.out.fields, true)
		w.AddFraming(n)
		if err == nil {
			st.sc.mu.Lock()
			st.localClosed = true
			st.sc.mu.Unlock()
		}
		return
	}
	_, framing, _ := st.writeData(nil, true)
	w.AddFraming(framing)
}

var (
	_ exchange.ResponseWriter = (*ResponseWriter)(nil)
	_ framed.Transport        = (*streamOut)(nil)
)
