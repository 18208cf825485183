package h3

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/quic-go/quicvarint"

	"wsgate/internal/exchange"
	"wsgate/internal/framed"
)

// ResponseWriter answers one request stream (exchange.ResponseWriter).
// The head is put together by framed.Writer, as on HTTP/1.1, in nginx's
// order and through the location's head filter, and then handed to
// quic-go as a status and fields: lower-cased names, without the
// connection lines HTTP/3 does not have (RFC 9114 4.2). Each Write is
// sent at once.
type ResponseWriter struct {
	framed.Writer
	out streamOut
}

// streamOut hands a response's head and body to quic-go
// (framed.Transport).
type streamOut struct{ st *stream }

func (w *ResponseWriter) reset(req *exchange.Request, l exchange.Limits) {
	w.Writer.Reset(&w.out, req, l, w.out.st.cfg.ServerName, "h3")
}

// SetLimits applies the location's limits: client_max_body_size and
// client_body_timeout to the body, send_timeout to the writes.
func (w *ResponseWriter) SetLimits(l exchange.Limits) error {
	w.SetSendLimits(l)
	return w.out.st.body.SetLimits(l)
}

// SendHead hands an HTTP/1.1 head to quic-go as a status and fields and
// sends it. quic-go adds no Date and no sniffed Content-Type: the head
// is the pipeline's.
func (o *streamOut) SendHead(head []byte, upgrade, _ bool) (int, error) {
	h := o.st.hw.Header()
	clear(h)
	h["Date"], h["Content-Type"] = nil, nil
	n := appendFields(h, framed.HeadLines(head), upgrade)
	o.st.hw.WriteHeader(framed.HeadStatus(head, upgrade))
	return n + 1, http.NewResponseController(o.st.hw).Flush()
}

// SendData sends p as one DATA frame, at once.
func (o *streamOut) SendData(p []byte, _ bool, sendTimeout time.Duration) (int, int, error) {
	rc := http.NewResponseController(o.st.hw)
	if sendTimeout > 0 {
		rc.SetWriteDeadline(time.Now().Add(sendTimeout))
	}
	n, err := o.st.hw.Write(p)
	if err == nil {
		err = rc.Flush()
	}
	return n, 1 + quicvarint.Len(uint64(n)), err
}

// appendFields adds the "Name: value\r\n" lines of b to h
// (framed.EachField); it returns their size.
func appendFields(h http.Header, b []byte, upgrade bool) int {
	size := 0
	framed.EachField(b, upgrade, func(name string, value []byte) {
		v := string(value)
		// The map's keys are canonical, as quic-go's own Content-Length
		// and Date checks look them up; the names go out lower-cased.
		k := http.CanonicalHeaderKey(name)
		h[k] = append(h[k], v)
		size += len(name) + len(v)
	})
	return size
}

// Flush does nothing: every write is sent at once.
func (w *ResponseWriter) Flush() error {
	if w.Broken() {
		return net.ErrClosed
	}
	return nil
}

// Upgrade answers an extended CONNECT with 200 (the backend's 101, RFC
// 9220 section 3, RFC 8441 section 5) and hands the stream over as a
// net.Conn.
func (w *ResponseWriter) Upgrade(compose func(dst []byte, f exchange.Framing) []byte) (net.Conn, []byte, error) {
	st := w.out.st
	if !st.extConnect {
		return nil, nil, errors.New("h3: upgrade of a stream that is not an extended CONNECT")
	}
	hs, ok := st.hw.(http3.HTTPStreamer)
	if !ok && !w.WroteHeader() {
		return nil, nil, errors.New("h3: the stream cannot be taken over")
	}
	if err := w.StartUpgrade(compose); err != nil {
		return nil, nil, err
	}
	st.upgraded = true
	ctx := st.hr.Context()
	c := &streamConn{str: hs.HTTPStream(), conn: st.conn}
	c.local, _ = ctx.Value(http.LocalAddrContextKey).(net.Addr)
	c.remote, _ = ctx.Value(http3.RemoteAddrContextKey).(net.Addr)
	return c, nil, nil
}

// finish ends the response after the handler (framed.Writer.End); then
// the trailers, which quic-go sends when the handler returns. complete
// is false for a response cut short, whose stream is to be reset.
func (w *ResponseWriter) finish() (complete bool) {
	st := w.out.st
	if !w.End(st.body.Err()) {
		return false
	}
	if t := w.Trailers(); len(t) > 0 {
		th := http.Header{}
		w.AddFraming(appendFields(th, t, false))
		h := st.hw.Header()
		for k, v := range th {
			h[http.TrailerPrefix+k] = v
		}
	}
	return true
}

var (
	_ exchange.ResponseWriter = (*ResponseWriter)(nil)
	_ framed.Transport        = (*streamOut)(nil)
)
