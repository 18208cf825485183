package proxy

import (
	"net"

	"wsgate/internal/http1"
)

// ResponseWriter is the client side of one request, whatever the protocol
// it came in: what the proxy and return handlers write their answers
// through. *http1.ResponseWriter is one; an HTTP/2 or HTTP/3 stream would
// be another, written by the server. Header lines are written in the
// order nginx's header filter writes them: AddServerDate, the handler's
// own lines, MarkFraming where Content-Length or Transfer-Encoding and
// Connection go, then the rest.
type ResponseWriter interface {
	// SetLimits applies the location's request limits
	// (client_max_body_size and the body, send and keep-alive timeouts).
	SetLimits(l http1.RequestLimits) error
	// AddServerDate adds the Server and Date lines.
	AddServerDate()
	AddHeader(name, value string)
	AddHeaderBytes(name, value []byte)
	// SetLocation sets the Location header nginx writes in its own place.
	SetLocation(value []byte)
	// MarkFraming marks where the framing lines go.
	MarkFraming()
	// WriteHeader writes the head; contentLength -1 means unknown.
	WriteHeader(status int, reason string, contentLength int64) error
	// WriteComposedHeader writes a head that compose appends whole (a
	// proxied response, in the upstream's header order), given the
	// framing the writer decided.
	WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f http1.Framing) []byte) error
	Write(p []byte) (int, error)
	Flush() error
	// WriteError answers with nginx's built-in page for status.
	WriteError(status int) error
	// CloseAfter ends the connection after this response.
	CloseAfter()
	// Abort marks the response as truncated: the client must see it cut.
	Abort()
	Written() bool
	Status() int
	BodyBytes() int64
	// BytesSent counts every byte sent for the response ($bytes_sent):
	// a 100 Continue, the head, framing and body; after Upgrade, the 101's
	// head.
	BytesSent() int64
	// Upgrade answers with a composed 101 and hands over the client's
	// stream for the tunnel, with the bytes the client sent past the
	// request (RFC 9110 section 7.8; for HTTP/2 and HTTP/3, RFC 8441 and
	// RFC 9220 make it a 200 to an extended CONNECT and the stream).
	Upgrade(compose func(dst []byte, f http1.Framing) []byte) (net.Conn, []byte, error)
}

var _ ResponseWriter = (*http1.ResponseWriter)(nil)
