package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"unsafe"

	"wsgate/internal/exchange"
	"wsgate/internal/rewrite"
	"wsgate/internal/route"
	"wsgate/internal/snapshot"
)

// This file is where ngx_http_rewrite_module joins the request: the
// server rewrite phase (NGX_HTTP_SERVER_REWRITE_PHASE), run with the
// server's own directives before any location is searched, and the
// rewrite phase (NGX_HTTP_REWRITE_PHASE) of the location found. Both run
// the programs internal/rewrite compiled (rewrite, return, break, set,
// if) with the request's variables.
//
// A phase returns ok to let the request go on (at the configuration it
// settled on: an if block's may replace the location's), or a Result: an
// answer, which ends the request. search is true when the location's
// directives changed the URI: the pipeline searches a location for it
// again, counted against the request's 10 (ngx_http_core_post_rewrite_
// phase).

// serverRewrite is the server rewrite phase of a request routed to srv,
// whose own level sl is: its return or redirect answers before any
// location is searched; a rewrite changes the URI the search uses.
func (pc *Conn) serverRewrite(w exchange.ResponseWriter, r *exchange.Request, snap *snapshot.Snapshot, srv *route.Server, sl *snapshot.Loc) (exchange.Result, bool) {
	out := snap.Rewrite.Server(&pc.vc, &pc.rw, srv.Config)
	pc.rewritten(r)
	if out.Action == rewrite.Continue {
		return exchange.Result{}, true
	}
	if err := w.SetLimits(sl.Limits); err != nil && !pc.refused {
		pc.refused = true
		return exchange.Result{Error: exchange.StatusOf(err)}, false
	}
	return pc.answer(w, r, sl, out), false
}

// rewrite is the rewrite phase of the location loc, found by m. It
// returns the location's compiled configuration the request goes on with
// (or is logged with): loc, or that of the if block that matched last.
func (pc *Conn) rewrite(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, m route.Match) (at *snapshot.Loc, res exchange.Result, ok, search bool) {
	out := loc.Snapshot.Rewrite.Location(&pc.vc, &pc.rw, m)
	pc.rewritten(r)
	if out.Conf != loc.Conf {
		// An if block's configuration: its header filter too.
		loc = loc.Snapshot.Loc(out.Conf)
		pc.loc = loc
		pc.headerFilter(w, loc)
	}
	switch out.Action {
	case rewrite.Continue:
		return loc, exchange.Result{}, true, false
	case rewrite.Search:
		return loc, exchange.Result{}, false, true
	}
	return loc, pc.answer(w, r, loc, out), false, false
}

// answer is a phase's answer: a return, a rewrite's redirect, or an
// error (500) left to the pipeline's error pages.
func (pc *Conn) answer(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, out rewrite.Outcome) exchange.Result {
	switch out.Action {
	case rewrite.Return:
		return pc.serveReturn(w, r, loc, out.Return, out.Text)
	case rewrite.Redirect:
		return pc.redirectOrPage(w, r, loc, out.Status, out.Location)
	}
	return exchange.Result{Error: out.Status}
}

// rewritten shows what the rewrite module changed to the content
// handlers, which read the request: $uri and $args as NormalizedPath and
// Query, Internal once a rewrite changed the URI (r->internal, and no
// r->valid_unparsed_uri), ArgsChanged once set changed $args, and
// NoLocationCut after rewrite ... break (no r->valid_location). The
// rewrite module's strings are its own, never a buffer that changes.
func (pc *Conn) rewritten(r *exchange.Request) {
	st := &pc.rw
	if st.Rewritten || st.ArgsChanged {
		r.NormalizedPath, r.Query, r.HasQuery = sbytes(pc.vc.URI), sbytes(pc.vc.Args), pc.vc.HasArgs
	}
	r.Internal = r.Internal || st.Rewritten
	r.ArgsChanged, r.NoLocationCut = st.ArgsChanged, st.NoLocationCut
}

// warnUninitialized is the request's vars.Ctx.Uninitialized: nginx's
// warning for a variable only set assigns, read before any set did, where
// uninitialized_variable_warn is on (the configuration the request has
// when the variable is read).
func (pc *Conn) warnUninitialized(name string) {
	if c := pc.rw.Conf; c != nil && !c.UninitializedVariableWarn {
		return
	}
	if lg := pc.p.Log; lg.Enabled(context.Background(), slog.LevelWarn) {
		lg.Warn(fmt.Sprintf("using uninitialized %q variable", name), "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
	}
}

// pathEscaped reports whether the path of a raw request-target holds a
// '%' (r->quoted_uri, snapshot.PathQuoted) or a '+' (r->plus_in_uri),
// either of which makes the rewrite module escape the captures it
// copies. Two vector scans answer for the most common target, with
// neither byte anywhere; others are read up to the query through a table.
func pathEscaped(requestURI []byte) bool {
	if bytes.IndexByte(requestURI, '%') < 0 && bytes.IndexByte(requestURI, '+') < 0 {
		return false
	}
	for _, c := range requestURI {
		switch pathMarks[c] {
		case markEscape:
			return true
		case markEnd:
			return false
		}
	}
	return false
}

const (
	markNone = iota
	markEscape
	markEnd
)

var pathMarks = [256]uint8{'%': markEscape, '+': markEscape, '?': markEnd, '#': markEnd}

// sbytes views s as bytes without copying, for reading only.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
