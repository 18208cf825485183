// Package exchange is what the server and the request handlers exchange
// for one request, whatever protocol carried it: the request's head and
// body (Request), the client connection it came on (Conn), the response
// writer the handlers answer through (ResponseWriter, with Upgrade for a
// tunnel's client stream) and what a handler tells the request pipeline
// when it returns (Result: a status to log, an internal redirect, or a
// connection taken over).
//
// internal/http1 is one protocol behind these types: its Request embeds
// Request and its ResponseWriter implements ResponseWriter, so that the
// HTTP/1.x loop hands a request over without copying a byte or allocating.
// HTTP/2 and HTTP/3 streams are to fill the same types (RFC 8441 and RFC
// 9220 turn a WebSocket handshake into an extended CONNECT whose stream
// ResponseWriter.Upgrade returns).
//
// What it promises: plain data and one interface, no I/O of its own and
// no other wsgate package imported, so that every protocol and every
// handler can depend on it. Byte slices in a Request alias the protocol's
// buffers and are valid until the handler returns (see Request).
package exchange
