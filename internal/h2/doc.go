// Package h2 is wsgate's HTTP/2 server side (RFC 9113), beside
// internal/http1: it runs one client connection that ALPN "h2" or the h2c
// connection preface chose, on golang.org/x/net/http2's Framer and hpack,
// and hands each stream's request to the request pipeline as an
// exchange.Request with an exchange.ResponseWriter, as the HTTP/1.x loop
// does.
//
// What it promises:
//   - A request reaches the handlers as nginx's HTTP/2 module makes it
//     (ngx_http_v2_state_header_block and ngx_http_v2_construct_request_line):
//     :method, :path and :authority become the request line and a first
//     Host line, cookie fields are joined with "; ", and the head is then
//     checked by internal/http1's parser, so that header names, the Host,
//     the URI and large_client_header_buffers give the statuses they give
//     on HTTP/1.1. Connection-specific fields (Connection, Keep-Alive,
//     Proxy-Connection, Transfer-Encoding, Upgrade) are a malformed request
//     (RFC 9113 8.2.2).
//   - Responses carry the header lines the pipeline wrote, in their order,
//     with lower-cased names and without the HTTP/1.1 connection lines.
//   - WebSockets over HTTP/2 (RFC 8441): SETTINGS_ENABLE_CONNECT_PROTOCOL is
//     sent where Config.ExtendedConnect is set; an extended CONNECT with
//     ":protocol websocket" is handed over as the HTTP/1.1 handshake it
//     stands for (GET, "Upgrade: websocket", "Connection: upgrade" and a
//     fresh Sec-WebSocket-Key, RFC 8441 section 5), so that the proxy sends
//     an ordinary Upgrade to the backend; ResponseWriter.Upgrade maps the
//     backend's 101 to a 200 and returns the stream as a net.Conn, whose
//     writes are DATA frames sent at once (a flush per write) under the
//     client's flow control.
//   - Limits as nginx names them: http2_max_concurrent_streams,
//     http2_body_preread_size (each stream's receive window),
//     http2_chunk_size (the largest DATA frame sent), http2_recv_buffer_size
//     (the connection's read buffer), keepalive_timeout (idle connection,
//     nginx 1.19.7's replacement of http2_idle_timeout), keepalive_requests
//     (streams per connection, replacing http2_max_requests),
//     keepalive_time (no stream starts on an older connection),
//     client_header_timeout (the preface), send_timeout (a blocked write),
//     large_client_header_buffers (the header list, replacing
//     http2_max_field_size and http2_max_header_size).
//   - The known attacks are bounded: a connection whose frames carry far
//     more bytes than its requests' headers and bodies (SETTINGS, PING,
//     empty frame and CONTINUATION floods) is closed as nginx closes it
//     ("http2 flood detected"); streams the client resets still count
//     against the concurrency limit until their handlers return, and a
//     client that keeps opening streams beyond it is sent GOAWAY
//     ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487); a header list is
//     bounded after decoding, so an HPACK bomb costs no memory.
//
// What it leaves to others: TLS and ALPN (internal/server), the phases
// (internal/pipeline), the tunnel that relays a WebSocket stream
// (internal/tunnel), the request head and the response writer above the
// frames, which HTTP/3 shares (internal/framed). Server push and priorities are not implemented
// (nginx 1.25.1 removed push; priorities do not change what is sent).
package h2
