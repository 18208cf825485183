package h3

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"wsgate/internal/framed"
)

// BodyEmpty: the request has no body by its method and framing
// (framed.BodySource).
func (st *stream) BodyEmpty() bool { return st.bodyless }

// ReadBody reads the request body, within timeout when not 0. quic-go
// checks the declared Content-Length too (RFC 9114 4.1.2); flow control
// is QUIC's: the stream's window is given back as the body is read.
func (st *stream) ReadBody(p []byte, timeout time.Duration) (int, error) {
	if st.bodyless {
		return 0, io.EOF
	}
	if timeout > 0 {
		http.NewResponseController(st.hw).SetReadDeadline(time.Now().Add(timeout))
	}
	return st.hr.Body.Read(p)
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
	_ framed.BodySource = (*stream)(nil)
	_ net.Conn          = (*streamConn)(nil)
)
