// Package errorpage decides what nginx's error_page does with an error:
// the choice of ngx_http_special_response_handler (which page, if the
// request may still use one) and the action of ngx_http_send_error_page
// (an internal redirect to a URI, a jump into a named location, or a
// redirect for a URL), with the status the answer then carries (nginx's
// r->err_status).
//
// Compile turns a location's config.ErrorPages into Pages once per
// configuration; a target with variables is compiled against the
// configuration's variables (internal/vars), so that -t reports an
// unknown one. A request keeps a State: Find says whether an error gets
// a page, Page.Act evaluates the page's target into an Action.
//
// What it promises:
//   - nginx 1.22's semantics: the first page of a code in the
//     location's list answers it; a request uses error pages once unless
//     recursive_error_pages is on in the location where the error
//     happened (r->error_page is set there even when no page matches);
//     no page is used once the request has made its ten internal
//     redirects (r->uri_changes reached 0); without "=", the answer
//     carries the error's status whatever the target answers, "=" takes
//     the target's, "=code" answers code; a URI target turns every
//     method but HEAD into GET, a named location keeps the method; a URL
//     target is a 302, or the 301, 303, 307 or 308 "=code" names.
//   - Pages and Page are immutable and safe for concurrent use; a State
//     belongs to one request. Find and Act do not allocate: values are
//     appended to the caller's buffer.
//
// What it leaves to others: the request pipeline follows an Action
// (searches the location again, or enters the named one, at most ten
// times; answers the redirect with nginx's page for its status) and
// makes every later answer of the request carry State.Status; the proxy
// asks Intercepts before relaying an upstream response
// (proxy_intercept_errors).
package errorpage
