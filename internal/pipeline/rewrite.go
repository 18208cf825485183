package pipeline

import (
	"wsgate/internal/exchange"
	"wsgate/internal/snapshot"
)

// This file is where ngx_http_rewrite_module joins the request: the
// server rewrite phase (NGX_HTTP_SERVER_REWRITE_PHASE), run with the
// server's own level before any location is searched, and the rewrite
// phase (NGX_HTTP_REWRITE_PHASE) of the location found. Today both run
// only return; the module's programs (if, set, rewrite, break) are to
// run here too, with the request's variables.
//
// A phase returns ok to let the request go on, or a Result: an answer
// (the request is over), or an internal redirect. From the server
// rewrite phase a redirect only changes the URI the first location search
// uses (its Named is not allowed there, as in nginx); from the rewrite
// phase it sends the request through the location search again, counted
// against the request's 10.

// serverRewrite is the server rewrite phase at the server's level sl: a
// server-level return answers before any location is searched.
func (pc *Conn) serverRewrite(w exchange.ResponseWriter, r *exchange.Request, sl *snapshot.Loc) (exchange.Result, bool) {
	if sl.Content != snapshot.ContentReturn {
		return exchange.Result{}, true
	}
	if err := w.SetLimits(sl.Limits); err != nil {
		return pc.fail(w, exchange.StatusOf(err)), false
	}
	return pc.serveReturn(w, r, sl), false
}

// rewrite is the rewrite phase of the location loc: its return answers.
func (pc *Conn) rewrite(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) (exchange.Result, bool) {
	if loc.Content != snapshot.ContentReturn {
		return exchange.Result{}, true
	}
	return pc.serveReturn(w, r, loc), false
}
