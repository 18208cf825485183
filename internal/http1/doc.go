// Package http1 is wsgate's own HTTP/1.x wire layer.
//
// Client side: ParseRequestHead reads a request head the way nginx 1.22
// (src/http/ngx_http_parse.c, src/http/ngx_http_request.c) does, with its
// buffer limits and its statuses; Serve runs one client connection
// (keep-alive, pipelining, 100-continue, HEAD, error pages, Hijack).
//
// Upstream side: AppendRequestHead writes a request head verbatim and
// ReadResponseHead reads a response head; Body reads either side's body
// (Content-Length, chunked with trailers, or until EOF).
//
// net/http is not used: nginx semantics need header order and original name
// case kept, raw request targets passed byte for byte, and nginx's exact
// statuses (400 "Request Header Or Cookie Too Large", 414, 413, silent close
// on header timeout).
//
// Memory: a parsed Request or Response owns one scratch buffer that its
// byte-slice fields alias. They stay valid until the value is reused for
// the next head (ParseRequestHead / ReadHead with the same value) and must
// be copied to outlive that.
package http1
