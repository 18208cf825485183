// Package bodyfilter is wsgate's response body filter chain: what
// nginx's body filters (ngx_http_gunzip_filter_module,
// ngx_http_sub_filter_module, ngx_http_gzip_filter_module) do to the
// bodies a location sends, whoever makes them: a proxied response, a
// static file, a return's text, an error page. A 101 and the bytes of a
// tunnel never pass through it.
//
// A Filter is compiled once per location when a snapshot is built
// (Compile) and is immutable; a location without body filter directives
// has a nil Filter, and the wire layer then does nothing at all: no
// call, no allocation. Its stages are chosen at compile time, in the
// order nginx runs its filters (ngx_modules' order, reversed: gunzip,
// sub, then charset recoding, then gzip). It also answers the static
// file handler's questions: whether a file's body would be changed (no
// byte ranges then), and gzip_static's ngx_http_gzip_ok. A connection keeps one Bound, the
// Filter with the request's variables and the per-response state of
// every stage, so that a response allocates nothing once the
// connection's buffers have grown.
//
// The wire layer (exchange.BodyFilter) offers Bound.Start each head once
// the head filter (add_header, headers-more) has run, as nginx's headers
// filter runs before the body filters' header filters. Each stage's
// header filter decides from the head whether it takes the body (the
// content type against its types list, a declared length of 0) and
// edits the head (sub_filter removes Last-Modified and ETag, or weakens
// the ETag); any stage that takes the body makes its length unknown,
// and the wire layer then removes Content-Length and chunks the body
// (closes after it for an HTTP/1.0 client). The stages that took the
// body are chained: each one's output is the next one's input, the last
// one's goes to the wire.
//
// Streaming: no stage holds a whole body. sub_filter keeps at most the
// longest search string minus one byte between two writes: the tail
// that a match may continue; gzip keeps what compress/gzip has not yet
// emitted and about 8 KiB of output; gunzip decodes each write as it
// comes.
//
// Joining the chain: a new filter (charset recoding) adds its compiled
// form to Filter (Compile), its per-response state to Bound, and a step
// to Bound.Start in nginx's order (charset between sub and gzip); its
// header filter edits the head and returns a nil stage for a body it
// leaves alone, and its stage implements exchange.BodyStage (Write with
// a bounded hold, End once).
package bodyfilter
