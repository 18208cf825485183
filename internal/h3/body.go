package h3

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// body is a stream's request body as the handlers read it
// (exchange.Body): client_max_body_size, client_body_timeout between
// reads, and the declared Content-Length checked against the DATA
// (quic-go checks it too, RFC 9114 4.1.2). Flow control is QUIC's: the
// stream's window is given back as the body is read.
type body struct {
	st      *stream
	max     int64
	read    int64
	begun   bool
	timeout time.Duration
	last    error // the last error Read returned other than io.EOF
}

// err is the error the body's reads met, nil for none or io.EOF.
func (b *body) err() error { return b.last }

var (
	errBodyTooLarge = &http1.StatusError{Status: 413, Msg: "client intended to send too large body"}
	errBodyLength   = &http1.StatusError{Status: 400, Msg: "client prematurely closed stream: only some of the declared body was sent"}
	errBodyExtra    = &http1.StatusError{Status: 400, Msg: "client sent more data than specified in \"Content-Length\" header"}
)

// setMax sets client_max_body_size (0: none); a declared length above
// it is a 413 at once.
func (b *body) setMax(n int64) error {
	b.max = n
	if cl := b.st.req.ContentLength; n > 0 && cl > n {
		return errBodyTooLarge
	}
	return nil
}

func (b *body) Begin() error {
	if b.begun {
		return nil
	}
	b.begun = true
	if cl := b.st.req.ContentLength; b.max > 0 && cl > b.max {
		return errBodyTooLarge
	}
	return nil
}

func (b *body) Empty() bool { return b.st.bodyless }

func (b *body) BytesRead() int64 { return b.read }

func (b *body) Read(p []byte) (int, error) {
	if err := b.Begin(); err != nil {
		b.last = err
		return 0, err
	}
	if b.st.bodyless {
		return 0, io.EOF
	}
	rc := http.NewResponseController(b.st.hw)
	if b.timeout > 0 {
		rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	n, err := b.st.hr.Body.Read(p)
	b.read += int64(n)
	cl := b.st.req.ContentLength
	switch {
	case cl >= 0 && b.read > cl:
		err = errBodyExtra
	case b.max > 0 && b.read > b.max:
		err = errBodyTooLarge
	case err == io.EOF && cl >= 0 && b.read < cl:
		err = errBodyLength
	}
	if err != nil && err != io.EOF {
		b.last = err
	}
	return n, err
}

// streamConn is a stream a tunnel took over (ResponseWriter.Upgrade):
// reads are the client's DATA, each write is sent at once as a DATA
// frame, CloseWrite ends the sending half (FIN), and Close ends the
// stream.
type streamConn struct {
	str           *http3.Stream
	conn          *connState
	local, remote net.Addr
	once          sync.Once
}

func (c *streamConn) Read(p []byte) (int, error)  { return c.str.Read(p) }
func (c *streamConn) Write(p []byte) (int, error) { return c.str.Write(p) }

// CloseWrite ends the stream's sending half, as a TCP half-close does
// (RFC 8441 section 4, RFC 9220 section 3).
func (c *streamConn) CloseWrite() error { return c.str.Close() }

// Close ends the stream: FIN if it was not sent, and STOP_SENDING with
// H3_NO_ERROR if the client is still sending.
func (c *streamConn) Close() error {
	c.once.Do(func() {
		c.str.Close()
		c.str.CancelRead(quic.StreamErrorCode(http3.ErrCodeNoError))
		c.conn.end()
	})
	return nil
}

func (c *streamConn) LocalAddr() net.Addr  { return c.local }
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

func (c *streamConn) SetDeadline(t time.Time) error      { return c.str.SetDeadline(t) }
func (c *streamConn) SetReadDeadline(t time.Time) error  { return c.str.SetReadDeadline(t) }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.str.SetWriteDeadline(t) }

var (
	_ exchange.Body = (*body)(nil)
	_ net.Conn      = (*streamConn)(nil)
)
