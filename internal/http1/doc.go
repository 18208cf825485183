// Package http1 is wsgate's own HTTP/1.x wire layer.
//
// Client side: ParseRequestHead reads a request head the way nginx 1.22
// (src/http/ngx_http_parse.c, src/http/ngx_http_request.c) does, with its
// buffer limits and its statuses; Serve runs one client connection
// (keep-alive, pipelining, 100-continue, HEAD, error pages, Hijack). It is
// one protocol behind internal/exchange: a Request embeds the
// exchange.Request the request handlers read, and ResponseWriter is an
// exchange.ResponseWriter, so a request reaches them without a copy.
//
// Upstream side: Response.ReadHead reads a response head (of at most max
// bytes, nginx's proxy_buffer_size); Body reads either side's body
// (Content-Length, chunked with trailers, or until EOF). Upstream request
// heads are composed by the proxy, which keeps the client's header order.
//
// Status lines and Date values have one home each: StatusText and
// AppendStatusLine (nginx's ngx_http_status_lines), and Date (formatted
// once per second for the process). The proxy uses both.
//
// net/http is not used: nginx semantics need header order and original name
// case kept, raw request targets passed byte for byte, and nginx's exact
// statuses (400 "Request Header Or Cookie Too Large", 414, 413, silent close
// on header timeout).
//
// Where this package differs from nginx 1.22 on purpose:
//   - chunked bodies are strict: every line must end in CRLF (nginx also
//     takes a bare LF), extensions may hold no control bytes but HTAB, a
//     chunk-size line is at most MaxChunkLine bytes and trailers at most
//     MaxTrailerBytes (nginx bounds neither);
//   - a closing response is always followed by a lingering close (half-close,
//     then discard what the client still sends), also after 400 and 414
//     where nginx closes at once and may reset the connection;
//   - an unread request body is discarded only up to ConnConfig.DrainLimit
//     and never when "100 Continue" was not sent; otherwise the connection
//     closes (nginx discards any amount);
//   - upstream responses: a status line that is not HTTP/1.x, and duplicate,
//     invalid or conflicting Content-Length/Transfer-Encoding, are errors
//     (502), as in nginx 1.23+, where 1.22 relays an HTTP/0.9 body or picks
//     one header;
//   - a pipelined request always starts in a fresh client_header_buffer_size
//     buffer; nginx continues in the previous request's large buffer, so
//     its 414/494 boundaries for pipelined heads can differ by a few bytes.
//
// Memory: a parsed Request or Response owns one scratch buffer that its
// byte-slice fields alias. They stay valid until the value is reused for
// the next head (ParseRequestHead / ReadHead with the same value) and must
// be copied to outlive that.
package http1
