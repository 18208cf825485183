package proxyproto

import (
	"errors"
	"io"
	"net"
	"sync"

	"wsgate/internal/netpoll"
)

// bufPool holds the room a header is looked at in: MaxHeader bytes.
var bufPool = sync.Pool{New: func() any { return new([MaxHeader]byte) }}

// Read takes the PROXY protocol header from the start of c and nothing
// after it: the bytes that follow (a TLS ClientHello, a request head)
// stay in the socket, as ngx_http_ssl_handshake leaves them. It looks at
// what has arrived without consuming it (netpoll.PeekConn), then reads
// exactly the header; a header that came in pieces is read in pieces,
// each no longer than what the header still needs (nginx would call it
// broken; wsgate waits for the rest). The caller bounds the wait with
// c's read deadline (client_header_timeout). The header is nil where it
// carries no address (see Parse); an error means the connection must be
// closed.
func Read(c net.Conn) (*Header, error) {
	bp := bufPool.Get().(*[MaxHeader]byte)
	defer bufPool.Put(bp)
	buf := bp[:]
	n, err := netpoll.PeekConn(c, buf)
	switch {
	case errors.Is(err, netpoll.ErrUnsupported):
		n = 0
	case err != nil:
		return nil, err
	case n == 0:
		return nil, io.ErrUnexpectedEOF
	default:
		h, hl, err := Parse(buf[:n])
		if err == nil {
			_, err = io.ReadFull(c, buf[:hl])
			return h, err
		}
		if !errors.Is(err, ErrShort) {
			// nginx has read these bytes (into the request's buffer)
			// when it finds the header broken: closing then ends the
			// connection with a FIN, not a reset.
			io.ReadFull(c, buf[:n])
			return nil, err
		}
		// Take what is there; the rest is read below.
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return nil, err
		}
	}
	for {
		h, hl, err := Parse(buf[:n])
		if err == nil {
			if hl != n {
				// Only a v1 UNKNOWN line with a bare LF before its CRLF
				// could end before what was read; nginx skips to the
				// CRLF, which Parse found within what was read.
				return nil, errors.New("proxy protocol: header read past its end")
			}
			return h, nil
		}
		if !errors.Is(err, ErrShort) {
			return nil, err
		}
		if _, err := io.ReadFull(c, buf[n:n+hl]); err != nil {
			return nil, err
		}
		n += hl
	}
}
