package exchange

import "errors"

// Result is what a handler of one request phase (rewrite, access,
// content) tells the request pipeline when it returns.
//
// The zero Result means "answered": the status to log is the one the
// writer sent. An internal redirect (nginx's ngx_http_internal_redirect
// and ngx_http_named_location: rewrite ... last, try_files' last
// argument, error_page to a URI) sends the request through the location
// search again with a new URI, or straight into a named location; nothing
// must have been written then. The pipeline allows 10 of them per
// request and answers 500 after that, as nginx does (r->uri_changes).
type Result struct {
	// Status, when not 0, is the status to log instead of the writer's
	// (408 and 499 are logged but never sent).
	Status int
	// RedirectURI is an internal redirect's new URI, decoded and
	// normalized as $uri ("/index.html"), with RedirectArgs its $args.
	RedirectURI  string
	RedirectArgs string
	// Named is a named location to continue in ("@fallback").
	Named string
	// Error, when not 0, is an error the handler did not answer: nothing
	// was written, and the pipeline finishes the request with it as
	// nginx's ngx_http_finalize_request does with a special response
	// code: the location's error page for it (error_page), else nginx's
	// built-in page.
	Error int
	// Detached means the handler took the connection over (a tunnel):
	// the request's log line is written when the tunnel ends, by the
	// handler, not by the pipeline's log phase.
	Detached bool
}

// Redirects reports whether r is an internal redirect.
func (r Result) Redirects() bool { return r.RedirectURI != "" || r.Named != "" }

// StatusError is an error that says which status the client is answered
// with: a protocol's body and limit errors (400, 413) are.
type StatusError interface {
	error
	StatusCode() int
}

// StatusOf returns the status carried by err (a StatusError in its
// chain), or 0.
func StatusOf(err error) int {
	var se StatusError
	if errors.As(err, &se) {
		return se.StatusCode()
	}
	return 0
}
