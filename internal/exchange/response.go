package exchange

import (
	"io"
	"net"
	"os"
	"time"
)

// ResponseWriter is the client side of one request, whatever protocol it
// came in: what the content handlers write their answers through.
// *http1.ResponseWriter is one; an HTTP/2 or HTTP/3 stream is to be
// another. Header lines are written in the order nginx's header filter
// writes them: AddServerDate, the handler's own lines, MarkFraming where
// Content-Length or Transfer-Encoding and Connection go, then the rest.
type ResponseWriter interface {
	// SetLimits applies the location's request limits
	// (client_max_body_size and the body, send and keep-alive timeouts);
	// a declared body above client_max_body_size is returned as an error
	// whose status is 413.
	SetLimits(l Limits) error
	// SetRate sets limit_rate and limit_rate_after for the response:
	// rate bytes a second (0: no limit) once after bytes went out, counted
	// from start, the request's start; after < 0 keeps the earlier one.
	SetRate(rate, after int64, start time.Time)
	// SetHeadFilter sets the filter the heads of this request's response
	// go through (the location's add_header and headers-more; nil: none).
	// The pipeline sets it whenever the request's location changes.
	SetHeadFilter(f HeadFilter)
	// SetBodyFilter sets the filter the bodies of this request's
	// response go through (the location's sub_filter; nil: none). The
	// pipeline sets it with the head filter.
	SetBodyFilter(f BodyFilter)
	// AddServerDate adds the Server and Date lines.
	AddServerDate()
	AddHeader(name, value string)
	AddHeaderBytes(name, value []byte)
	// AddLines queues serialized "Name: Value\r\n" lines as they are,
	// for a caller that composed and checked them once (no CR, LF or
	// NUL inside a name or a value) and sends them many times.
	AddLines(lines []byte)
	// SetLocation sets the Location header nginx writes in its own
	// place; nil removes it.
	SetLocation(value []byte)
	// MarkFraming marks where the framing lines go.
	MarkFraming()
	// MarkLateLines marks the lines queued from now on as ones that
	// nginx's filters after the headers filter add (the range filter's
	// Accept-Ranges and Content-Range): the head filter's lines go before
	// them.
	MarkLateLines()
	// WriteHeader writes the head; contentLength -1 means unknown.
	WriteHeader(status int, reason string, contentLength int64) error
	// WriteComposedHeader writes a head that compose appends whole (a
	// proxied response, in the upstream's header order), given the
	// framing the writer decided.
	WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f Framing) []byte) error
	Write(p []byte) (int, error)
	Flush() error
	// WriteError answers with nginx's built-in page for status.
	WriteError(status int) error
	// WriteErrorWith is WriteError with what nginx's header filters add
	// to the page: a charset for its Content-Type ("" for none) and
	// "Name: Value\r\n" lines after Connection (Content-Range of a 416,
	// Expires of a 301).
	WriteErrorWith(status int, charset string, extra []byte) error
	// SetLastModified sets the Last-Modified line, which nginx writes
	// after Content-Length.
	SetLastModified(value []byte)
	// WriteFile writes n bytes of f from offset off as body bytes, with
	// sendfile(2) where the connection allows it.
	WriteFile(f *os.File, off, n int64) (int64, error)
	// BodyBuffer lends n bytes of the output buffer to fill and pass to
	// Write (a small file read straight behind the head), or returns nil
	// when the body cannot take them that way.
	BodyBuffer(n int) []byte
	// AddErrorHeader queues a line that this response's head carries,
	// whoever writes it, ahead of the lines its handler adds after the
	// framing ones (what nginx leaves in its list of headers for the
	// error page's answer: the WWW-Authenticate of a 401 that
	// proxy_intercept_errors took, a 416's Content-Range).
	AddErrorHeader(name, value []byte)
	// SetErrorStatus makes the head that WriteHeader or
	// WriteComposedHeader writes carry status, with nginx's reason text,
	// instead of the handler's (nginx's r->err_status after an error
	// page, which ngx_http_send_header puts in place of any status); 0
	// leaves the handler's. WriteError and Upgrade keep their own.
	SetErrorStatus(status int)
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
	// SentHead returns the head as it went out, after the head filter
	// (status line to empty line, HTTP/1.1 form; nil before it was
	// written), and the trailer lines sent after a chunked body
	// ("Name: value\r\n" each): what $sent_http_NAME and
	// $sent_trailer_NAME read. Both are valid until the next request.
	SentHead() (head, trailers []byte)
	// Upgrade answers with a composed 101 and hands over the client's
	// stream for the tunnel, with the bytes the client sent past the
	// request (RFC 9110 section 7.8; for HTTP/2 and HTTP/3, RFC 8441 and
	// RFC 9220 make it a 200 to an extended CONNECT and the stream).
	Upgrade(compose func(dst []byte, f Framing) []byte) (net.Conn, []byte, error)
}

// HeadFilter changes the heads a location's responses go out with, and
// adds their trailers: nginx's header filters between a handler and
// ngx_http_header_filter (add_header, add_trailer, headers-more). A
// ResponseWriter passes it every head it sends: a written one, an error
// page, a composed one, a 101.
type HeadFilter interface {
	// FilterHead rewrites the head buf[start:] (status line to empty
	// line, in HTTP/1.1 form) of a response with status and returns buf.
	// late is the offset in buf of the first line that nginx's filters
	// after the headers filter add (see MarkLateLines), -1 for none.
	FilterHead(buf []byte, start, late, status int) []byte
	// ExpectTrailers reports whether a response with status has trailers
	// to send: on HTTP/1.1 it is then chunked even with a known length.
	ExpectTrailers(status int) bool
	// AppendTrailers appends the trailer lines, "Name: value\r\n" each,
	// when the body has ended.
	AppendTrailers(dst []byte, status int) []byte
}

// BodyFilter is a location's response body filters (sub_filter): nginx's
// body filter chain between a handler and the wire, with the header
// filter each of them has. A ResponseWriter offers it every head it
// writes but a 101's, after the HeadFilter (nginx's headers filter runs
// before the body filters' header filters).
type BodyFilter interface {
	// Start looks at the head buf[start:] (status line to empty line,
	// HTTP/1.1 form) of a response with status and declared length
	// (contentLength, -1 unknown). For a body it leaves alone it returns
	// buf unchanged and a nil stage. Otherwise it returns the head as
	// its filters change it (Last-Modified, ETag) and the stage the body
	// is to go through; the length is then unknown, and the
	// ResponseWriter removes Content-Length and reframes the body.
	Start(buf []byte, start, status int, contentLength int64) ([]byte, BodyStage)
}

// LengthKeeper is a BodyStage that may pass on exactly as many bytes as
// it takes (the charset filter recoding between single-byte charsets):
// when KeepsLength says so, the ResponseWriter keeps Content-Length and
// the body's framing, as nginx does when no filter cleared the length.
type LengthKeeper interface {
	KeepsLength() bool
}

// KeepsLength reports whether st passes on as many bytes as it takes.
func KeepsLength(st BodyStage) bool {
	lk, ok := st.(LengthKeeper)
	return ok && lk.KeepsLength()
}

// BodyStage is one response's body on its way through a BodyFilter.
// next receives what it passes on: it is the wire's (one Write is one
// chunk of a chunked body) and never nil.
type BodyStage interface {
	// Write filters p. It may keep a bounded tail of it (a possible
	// match cut by the end of p) for the next Write or End.
	Write(next io.Writer, p []byte) error
	// End passes on what the stage still holds: the body has ended. It
	// is called once for every body a stage took, also one cut short
	// (next then discards), so that the stage can let go of what it
	// holds.
	End(next io.Writer) error
}

// Framing is what the writer decided about a response before its head is
// composed: the length or chunking of the body and whether the connection
// stays open.
type Framing struct {
	ContentLength int64 // -1: none sent
	Chunked       bool
	KeepAlive     bool
}

// Limits are the location-level settings (ngx_http_core_loc_conf_t) that
// apply to one request; a handler sets them with
// ResponseWriter.SetLimits once the location is known. Durations of 0
// mean no deadline.
type Limits struct {
	ClientMaxBodySize int64         // client_max_body_size, default 1m; 0: unlimited
	ClientBodyTimeout time.Duration // client_body_timeout between two reads, default 60s
	SendTimeout       time.Duration // send_timeout between two writes, default 60s
	KeepaliveTimeout  time.Duration // keepalive_timeout, default 75s; 0 disables keep-alive
	KeepaliveRequests int           // keepalive_requests, default 1000
	KeepaliveTime     time.Duration // keepalive_time, default 1h: no keep-alive once the connection is older; 0: no bound
	// KeepaliveHeader is keepalive_timeout's second value: a kept
	// connection's response says "Keep-Alive: timeout=N"; 0: no header.
	KeepaliveHeader time.Duration
	// KeepaliveDisableMSIE6 and KeepaliveDisableSafari are
	// keepalive_disable's msie6 (the default) and safari.
	KeepaliveDisableMSIE6, KeepaliveDisableSafari bool
	// H2ChunkSize is http2_chunk_size, the largest DATA frame of a
	// response on HTTP/2 (default 8k; 0: the connection's).
	H2ChunkSize int
}
