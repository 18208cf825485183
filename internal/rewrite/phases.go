package rewrite

import (
	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// This file is the request's way through nginx's phases that this package
// owns: server rewrite, find config, rewrite and post rewrite
// (ngx_http_core_find_config_phase, ngx_http_core_post_rewrite_phase).

// Action is what the request does after the rewrite phases.
type Action uint8

const (
	// Serve: run the content handler of Conf (proxy_pass, or nothing).
	Serve Action = iota
	// Return: a return directive answers; Return and Text say how.
	Return
	// Redirect: a rewrite answers Status (301 or 302) with Location.
	Redirect
	// AutoRedirect: the search found a proxied location whose name is
	// the URI plus "/" (Match.Redirect): nginx answers 301 to that name.
	AutoRedirect
	// Fail: the request ends with 500 (a URI rewritten to nothing, or
	// more than ten searches); the cause is logged.
	Fail
)

// Outcome is where the rewrite phases leave a request.
type Outcome struct {
	Action Action
	// Match is the last location search; its Location is nil when the
	// request ended in the server rewrite phase or matched no location.
	Match route.Match
	// Conf is the configuration to serve with: Match.Conf, the
	// server's, or that of the last if block that matched.
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

// Run takes a request that was routed to srv through the rewrite phases:
// the server's directives, the location search for $uri, the location's
// directives, and the search again while they change the URI. vc holds
// the request's variables and is changed in place; st must be Reset.
func (s *Set) Run(vc *vars.Ctx, st *State, srv *route.Server) Outcome {
	st.Conf = srv.Conf
	if p := s.srv[srv.Config]; p != nil {
		r := p.run(vc, st)
		if r.exit >= exitReturn {
			return s.outcome(r, route.Match{Conf: srv.Conf}, st)
		}
	}
	return s.Locate(vc, st, srv)
}

// Locate is the location search for $uri and the location's directives,
// repeated while they change the URI. Run calls it after the server's
// directives; an internal redirect (InternalRedirect) calls it again.
func (s *Set) Locate(vc *vars.Ctx, st *State, srv *route.Server) Outcome {
	for {
		st.changed = false
		m := srv.Location(vc.URI)
		if m.Regex {
			vc.Captures = m.Captures
		}
		st.Conf = m.Conf
		if m.Redirect {
			return Outcome{Action: AutoRedirect, Match: m, Conf: m.Conf, Status: 301}
		}
		p := (*Program)(nil)
		if m.Location != nil {
			// A request that matched no location skips the location
			// phase: the server's directives ran already.
			p = s.locs[m.Location]
		}
		if p == nil {
			return Outcome{Action: Serve, Match: m, Conf: m.Conf}
		}
		r := p.run(vc, st)
		if r.exit >= exitReturn {
			return s.outcome(r, m, st)
		}
		if !st.changed {
			return Outcome{Action: Serve, Match: m, Conf: st.Conf}
		}
		if !st.count(vc) {
			return Outcome{Action: Fail, Match: m, Conf: st.Conf, Status: 500}
		}
	}
}

// InternalRedirect sends the request to uri with args (HasArgs false:
// none) and searches its location again (ngx_http_internal_redirect, for
// error_page and the like). It counts against the same limit as a
// rewritten URI.
func (s *Set) InternalRedirect(vc *vars.Ctx, st *State, srv *route.Server, uri, args string, hasArgs bool) Outcome {
	vc.URI, vc.Args, vc.HasArgs = uri, args, hasArgs
	st.Rewritten = true
	if !st.count(vc) {
		return Outcome{Action: Fail, Match: route.Match{Conf: srv.Conf}, Conf: srv.Conf, Status: 500}
	}
	return s.Locate(vc, st, srv)
}

// count records one more search for a changed URI and reports whether it
// is allowed (ngx_http_core_post_rewrite_phase's r->uri_changes).
func (st *State) count(vc *vars.Ctx) bool {
	st.changes++
	if st.changes > maxChanges {
		errorf(st, "rewrite or internal redirection cycle while processing %q", vc.URI)
		return false
	}
	return true
}

func (s *Set) outcome(r result, m route.Match, st *State) Outcome {
	o := Outcome{Match: m, Conf: st.Conf}
	switch r.exit {
	case exitReturn:
		o.Action, o.Status, o.Return, o.Text = Return, r.in.ret.Code, r.in.ret, r.in.text
	case exitRedirect:
		o.Action, o.Status, o.Location = Redirect, r.status, r.location
	default:
		o.Action, o.Status = Fail, 500
	}
	return o
}
