// Package framed holds what HTTP/2 (internal/h2) and HTTP/3
// (internal/h3) share above their framing: requests and responses carried
// on the streams of a multiplexed connection.
//
// It owns the response writer of a stream (Writer): the head put
// together in HTTP/1.1 form and in nginx's order, through the location's
// head and body filters, limit_rate, the trailers and the Content-Length
// bookkeeping, and the fields a head becomes (EachField). It owns the
// request too: the HTTP/1.1 head a request's pseudo-header fields stand
// for (ParseRequest), read by internal/http1's parser so that it is
// checked as an HTTP/1.1 head is, and the request body's limits (Body).
//
// It leaves to the protocols their frames: how a head and body bytes
// are sent (Transport), how body bytes arrive (BodySource), flow control,
// stream resets and the takeover of a stream by a tunnel. It is not
// internal/exchange, which is protocol-neutral and knows no HTTP/1.1
// head; framed speaks HTTP/1.1 heads to reuse internal/http1's rules.
package framed
