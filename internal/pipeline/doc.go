// Package pipeline runs each request through nginx's phases, in nginx
// 1.22's order (ngx_http_core_module's phase engine): find the server
// (ngx_http_find_virtual_server), the server rewrite phase, find the
// location (the find-config phase, with its trailing-slash redirect), the
// rewrite phase, the preaccess phase, the access phase, the content phase,
// the log phase.
//
// It sits between the server, which runs a connection's protocol and
// hands each request over as an exchange.Request with an
// exchange.ResponseWriter, and the content handlers (return here; the
// proxy, static files and others in their own packages, the files one
// called through files.go, which writes its pages and turns its index and
// try_files redirects into internal redirects). A
// protocol loop calls Conn.ServeRequest; HTTP/2 and HTTP/3 streams are to
// call it the same way.
//
// One file per phase or concern: pipeline.go (find server, find config,
// the internal redirect loop, the content call), rewrite.go (the server
// rewrite and rewrite phases), preaccess.go (the preaccess phase:
// limit_req, limit_conn, and the response's limit_rate), access.go (the
// access phase), return.go
// (the answers the pipeline makes itself: return, redirects, with the
// charset, expires and redirect settings of the location), files.go (the
// static file content handler), errorpage.go (errors nobody answered, and
// their error pages), log.go (the log phase).
//
// Which handler answers a location was decided when its snapshot was
// built (snapshot.Loc.Content): the content phase indexes the
// connection's table of content handlers by it, and tests nothing else.
// Each phase says which module's work it does, and a module joins a phase
// in the phase's function here (rewrite, access) or as a Content handler.
//
// What it promises:
//   - Each request loads the published snapshot once and keeps it for all
//     its phases; a reload changes nothing in flight.
//   - The request's variables (vars.Ctx) are filled once, from the
//     request's bytes without copying them, and the same Ctx is what every
//     phase and the content handler read and write.
//   - An internal redirect (exchange.Result) sends the request through the
//     server rewrite phase and the location search again with its new
//     URI, or straight into a named location, at most 10 times; the 11th
//     is answered 500, as nginx's r->uri_changes.
//   - An error a phase or handler leaves unanswered (Result.Error) is
//     finished as nginx finishes a special response: with the location's
//     error_page (internal/errorpage decides which, and the status the
//     answer then carries), else nginx's built-in page. internal
//     locations refuse requests that no internal redirect brought.
//   - The log phase writes the location's access log lines and tells the
//     observer, once per request; a request whose connection a handler
//     took over (a tunnel) is logged by that handler when it ends, through
//     Pipeline.Finish.
//   - The request path reuses per-connection state: no allocation per
//     request of its own.
//
// What it leaves to others: the wire (internal/server and its protocols),
// the compiled configuration (internal/snapshot, internal/route,
// internal/vars), and what each content handler does.
package pipeline
