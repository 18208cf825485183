package rewrite

import (
	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// This file is what the request pipeline calls: the server rewrite phase
// (NGX_HTTP_SERVER_REWRITE_PHASE) and the rewrite phase
// (NGX_HTTP_REWRITE_PHASE) of the location the search found. The search
// itself, and searching again (ngx_http_core_post_rewrite_phase, counted
// against the request's ten), are the pipeline's.

// Action is what the request does after a phase.
type Action uint8

const (
	// Continue: go on with the next phase, with Conf. After the server
	// phase that is the location search, for $uri as the phase left it.
	Continue Action = iota
	// Search: the location's directives changed the URI (a rewrite
	// without a flag, or last): search a location for $uri again.
	Search
	// Return: a return directive answers; Return and Text say how.
	Return
	// Redirect: a rewrite answers Status (301 or 302) with Location.
	Redirect
	// Fail: the request ends with 500 (a URI rewritten to nothing); the
	// cause is logged.
	Fail
)

// Outcome is where a phase leaves a request.
type Outcome struct {
	Action Action
	// Conf is the configuration the request has now: the server's, the
	// location's, or that of the last if block that matched in it. A
	// request that goes on is served with it, and an answer is logged
	// with it.
	Conf *config.LocConf
	// Status is the code of a Return, a Redirect's 301 or 302, or 500.
	Status int
	// Return is the return directive that answers, and Text its compiled
	// text or URL (nil for a bare code).
	Return *config.Return
	Text   *vars.Template
	// Location is a Redirect's target, made absolute by the caller when
	// it starts with "/" (nginx's header filter does that).
	Location []byte
}

// Server runs the server rewrite phase of a request routed to srv: the
// server block's rewrite module directives. vc holds the request's
// variables and is changed in place; st must be Reset first.
func (s *Set) Server(vc *vars.Ctx, st *State, srv *config.Server) Outcome {
	st.Conf = &srv.Conf
	if len(srv.Rewrite) == 0 {
		// Nothing to run: Compile made no Program (no map lookup).
		return Outcome{Action: Continue, Conf: st.Conf}
	}
	p := s.srv[srv]
	if p == nil {
		return Outcome{Action: Continue, Conf: st.Conf}
	}
	// A rewrite here changes the URI the search that follows uses; it
	// never asks for a second search (ngx_http_core_find_config_phase
	// clears r->uri_changed).
	r := p.run(vc, st)
	st.changed = false
	return s.outcome(r, st)
}

// Location runs the rewrite phase of the location m found for the
// request. A request that matched no location (m.Location nil) skips it:
// the server's directives ran already (ngx_http_rewrite_handler's "server
// null location").
func (s *Set) Location(vc *vars.Ctx, st *State, m route.Match) Outcome {
	st.changed, st.IfProxied = false, false
	st.Conf = m.Conf
	var p *Program
	if m.Location != nil && len(m.Location.Rewrite) > 0 {
		// A location without directives has no Program: no lookup.
		p = s.locs[m.Location]
	}
	if p == nil {
		return Outcome{Action: Continue, Conf: st.Conf}
	}
	r := p.run(vc, st)
	if r.exit < exitReturn && st.changed {
		st.changed = false
		return Outcome{Action: Search, Conf: st.Conf}
	}
	return s.outcome(r, st)
}

func (s *Set) outcome(r result, st *State) Outcome {
	o := Outcome{Conf: st.Conf}
	switch r.exit {
	case exitReturn:
		o.Action, o.Status, o.Return, o.Text = Return, r.in.ret.Code, r.in.ret, r.in.text
	case exitRedirect:
		o.Action, o.Status, o.Location = Redirect, r.status, r.location
	case exitFail:
		o.Action, o.Status = Fail, 500
	default:
		o.Action = Continue
	}
	return o
}
