package http1

import (
	"net"

	"wsgate/internal/exchange"
)

// Upgrade answers the request with 101 Switching Protocols (RFC 9110
// section 15.2.2), its head composed by compose as for
// WriteComposedHeader, and hands the connection over: it returns the
// connection, which the caller then owns and closes, and a copy of the
// bytes the client sent past the request head (nil when none), which
// belong to the new protocol and go first. Nothing more is written to the
// connection by Serve.
func (w *ResponseWriter) Upgrade(compose func(dst []byte, f Framing) []byte) (net.Conn, []byte, error) {
	if err := w.WriteComposedHeader(101, -1, compose); err != nil {
		return nil, nil, err
	}
	return w.HijackBuffered()
}

// ResponseWriter is the HTTP/1.x implementation of the response side of
// the handlers' interface.
var _ exchange.ResponseWriter = (*ResponseWriter)(nil)
