// Package headers is wsgate's response header filter: what nginx's
// ngx_http_headers_filter_module (add_header, add_trailer) and the
// headers-more module's output filter (more_set_headers,
// more_clear_headers) do to every response a location sends, whoever
// made it: a proxied response, a 101 that starts a tunnel, a return, a
// redirect or an error page.
//
// A Filter is compiled once per location when a snapshot is built
// (Compile) and is immutable; a location without these directives has a
// nil Filter, and the wire layer then does nothing at all. At response
// time the Filter works on the head as the wire layer has composed it
// (Rewrite): a status line, nginx's own lines up to and including
// Connection (Server, Date, Content-Type, Content-Length, Last-Modified,
// Location, Transfer-Encoding, in ngx_http_header_filter's order), then
// the header list (the upstream's lines, those a handler added). That is
// the split nginx's header filter makes between r->headers_out's fields
// and its list, and the filter's rules follow it:
//
//   - headers-more runs first (it is an HTTP_AUX_FILTER module, so it
//     sits above the headers filter in nginx's chain). Its commands run in
//     order, the outer levels' first; -s and -t restrict one to statuses
//     and content types (the Content-Type without its charset parameter).
//     Server, Date and Content-Type act on nginx's own lines; any other
//     name on the list: the first line of that name takes the value, the
//     others go, and a name not present is appended (an empty value only
//     clears). A trailing "*" matches a name prefix, on the list only.
//   - add_header then appends its lines, for statuses 200, 201, 204, 206,
//     301, 302, 303, 304, 307 and 308 or when marked always, and only
//     when the value is not empty; ETag and Last-Modified replace the
//     response's own line instead (ngx_http_set_response_header).
//   - Lines that nginx's later filters add (the range filter's
//     Accept-Ranges and Content-Range, marked by the writer) stay after
//     the lines added here, and a 206 they made is the 200 the headers
//     filter saw ($status).
//   - add_trailer: a response with trailers to send is chunked even when
//     its length is known (ngx_http_chunked_header_filter), and the
//     trailers are evaluated when the body ends.
//
// Values may hold variables; they are evaluated with the request's
// vars.Ctx, $status being the response's. A value whose variables bring
// CR, LF or NUL is dropped rather than allowed to split the head; a CR or
// LF written in the configuration ("\n" in a quoted string) is sent as it
// is, as nginx sends it.
//
// The package leaves to others what nginx's headers module also does:
// expires belongs to the static files family, which applies it where
// it builds or relays a head.
package headers
