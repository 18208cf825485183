// Package h3 is wsgate's HTTP/3 server side (RFC 9114), beside
// internal/http1 and internal/h2: it serves the QUIC connections of one
// UDP socket with github.com/quic-go/quic-go's http3 server, and hands
// each request stream to the request pipeline as an exchange.Request with
// an exchange.ResponseWriter, as the HTTP/1.x loop and internal/h2 do.
//
// quic-go's http3 server does the framing, QPACK and the connection's
// control streams; it advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC
// 9220 section 3), takes an extended CONNECT (its request's Proto is the
// :protocol value) and lets a handler take the stream over
// (http3.HTTPStreamer), whose reads and writes are then DATA frames.
//
// What it promises:
//   - A request reaches the handlers as nginx's HTTP/3 module makes it
//     (ngx_http_v3_process_request_header): :method and :path become the
//     request line and :authority a first Host line, the fields follow
//     with the names the client sent (lower case), cookies joined with
//     "; " (RFC 9114 4.2.1), and the head is then checked by
//     internal/http1's parser, so that header names, the Host, the URI
//     and large_client_header_buffers give the statuses they give on
//     HTTP/1.1. The order of fields other than Host and Cookie is not kept
//     (quic-go hands them over in a map): they are passed sorted by name.
//   - A body without a declared length is framed by DATA frames (Chunked,
//     as HTTP/2's is), except on GET and HEAD, which are taken as having
//     none.
//   - Responses carry the header lines the pipeline wrote, with lower-cased
//     names and without the HTTP/1.1 connection lines; quic-go sends them
//     in an order of its own. Each write is flushed at once.
//   - WebSockets over HTTP/3 (RFC 9220): an extended CONNECT with
//     ":protocol websocket" is handed over as the HTTP/1.1 handshake it
//     stands for (GET, "Upgrade: websocket", "Connection: upgrade" and a
//     fresh Sec-WebSocket-Key, RFC 8441 section 5), so that the proxy sends
//     an ordinary Upgrade to the backend; ResponseWriter.Upgrade maps the
//     backend's 101 to a 200 and returns the stream as a net.Conn whose
//     writes are DATA frames sent at once; CloseWrite ends the stream's
//     sending half (RFC 8441 section 4's TCP half-close).
//   - Limits as nginx names them: http3_max_concurrent_streams (the
//     client's bidirectional stream limit), http3_stream_buffer_size (each
//     stream's receive window), quic_retry (a Retry packet validates a
//     client's address before any state is kept), keepalive_timeout (the
//     idle timeout of a connection without requests),
//     large_client_header_buffers (SETTINGS_MAX_FIELD_SECTION_SIZE),
//     client_body_timeout, client_max_body_size and send_timeout per
//     request.
//
// What it leaves to others: the UDP socket and its TLS configuration
// (internal/server), the phases (internal/pipeline), the tunnel that
// relays a WebSocket stream (internal/tunnel), the request head and the
// response writer above the frames, which HTTP/2 shares (internal/framed).
package h3
