package pipeline

import (
	"wsgate/internal/errorpage"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
)

// This file is where error_page joins the request: an error nobody
// answered (a handler's exchange.Result.Error, a limit, internal, a named
// location not found) is finished as ngx_http_finalize_request finishes a
// special response code, through ngx_http_special_response_handler: the
// location's error page for it, if the request may still use one
// (internal/errorpage decides), else nginx's built-in page. An error page
// is an internal redirect to a URI or into a named location, counted
// against the request's 10, or a redirect answered here; whatever then
// answers the request carries the status error_page chose
// (ResponseWriter.SetErrorStatus).

// getMethod is the method a URI error page turns the request into.
var getMethod = []byte("GET")

// finalize finishes the request in loc with status, which nobody
// answered. redirectsLeft is false for the 500 of a request out of
// internal redirects, which gets no error page. It returns the Result to
// log, or the internal redirect the error page makes.
func (pc *Conn) finalize(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int, redirectsLeft bool) exchange.Result {
	pc.loc = loc
	pc.headerFilter(w, loc)
	switch {
	case w.Written():
		// A head went out already: the connection is cut after it.
		return pc.fail(w, status)
	case status == http1.StatusNoResponse || status == http1.StatusClientClosedRequest || status == 408:
		// Never answered, so never with a page (NGX_HTTP_CLOSE and the
		// codes nginx only logs).
		return pc.fail(w, status)
	}
	pg, ok := pc.ep.Find(loc.ErrorPages, status, redirectsLeft)
	if !ok {
		return pc.fail(w, status)
	}
	if http1.ClosesKeepalive(status) {
		// ngx_http_special_response_handler turns keep-alive off for
		// these before it looks for a page.
		w.CloseAfter()
	}
	var act errorpage.Action
	act, pc.epBuf = pg.Act(&pc.ep, status, bstr(r.Method), &pc.vc, pc.epBuf[:0])
	w.SetErrorStatus(pc.ep.Status)
	// $status is r->err_status from here on (ngx_http_variable_status),
	// as a named location's return 200 "$status" shows.
	pc.vc.Status = pc.ep.Status
	switch act.Kind {
	case errorpage.Internal:
		if act.GET && string(r.Method) != "GET" {
			// $request keeps the method the client sent
			// (r->request_line); $request_method is the new one.
			if pc.vc.RequestLine == "" {
				pc.reqLine = append(append(append(append(append(pc.reqLine[:0], r.Method...), ' '), r.URI...), ' '), pc.vc.Proto...)
				pc.vc.RequestLine = bstr(pc.reqLine)
			}
			r.Method = getMethod
			pc.vc.Method = "GET"
		}
		return exchange.Result{RedirectURI: act.URI, RedirectArgs: act.Args}
	case errorpage.Named:
		return exchange.Result{Named: act.Name}
	}
	return pc.redirectTo(w, r, loc, act.Status, act.Location)
}
