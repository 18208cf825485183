package pipeline

import (
	"net/netip"
	"strings"

	"wsgate/internal/access"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/ws"
)

// This file is the access phase (NGX_HTTP_ACCESS_PHASE): the checks that
// may refuse a request after its location is known and before content.
// Each check declines where its location's snapshot did not ask for it,
// as nginx's access handlers decline where their directives are not set.

// access runs the access phase for r at loc; ok is false when a check
// answered the request. The checks run in nginx's order, allow/deny
// (ngx_http_access_module), auth_basic, then auth_request (a subrequest,
// subrequest.go), and are combined as ngx_http_core_access_phase
// combines them: under "satisfy all" the first that refuses answers (a
// denied client gets 403 before its credentials are looked at, and no
// subrequest is made); under "satisfy any" the first that lets the
// request through ends the phase, and a request none let through is
// refused with 401 if a check refused it so, else 403; any other refusal
// (a 500) answers at once. A refused request, a WebSocket handshake too,
// is answered with the location's error page before anything reaches a
// backend. A subrequest has no access phase.
func (pc *Conn) access(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) (res exchange.Result, ok bool) {
	if pc.sub.active {
		return exchange.Result{}, true
	}
	rules, basic, satisfyAny := loc.Access, loc.Basic, loc.Conf.SatisfyAny
	if lim := loc.Limit; lim != nil && lim.Applies(r.Method) {
		// limit_except: the block's configuration checks the request.
		rules, basic, satisfyAny = lim.Rules, lim.Basic, lim.SatisfyAny
	}
	if rules != nil || basic != nil || loc.AuthRequest != nil {
		if status := pc.accessChecks(w, r, rules, basic, loc.AuthRequest, satisfyAny); status != 0 {
			return exchange.Result{Error: status}, false
		}
	}
	if loc.CheckHandshake && r.Upgrade != nil && exchange.TokenIn(r.Upgrade, "websocket") && r.HasToken("Connection", "upgrade") {
		if status, reason := ws.CheckClientRequest(r); status != 0 {
			pc.p.Log.Info("bad websocket handshake", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI, "reason", reason)
			return pc.refuseHandshake(w, r, loc, status), false
		}
	}
	return exchange.Result{}, true
}

// accessChecks runs allow/deny, auth_basic and auth_request (any may be
// nil) under satisfy and returns the status that refuses the request, 0
// to let it through. The WWW-Authenticate lines of a 401 go with its
// answer only: under satisfy any a check that lets the request through
// after another asked for credentials drops them, as
// ngx_http_core_access_phase clears r->headers_out.www_authenticate.
func (pc *Conn) accessChecks(w exchange.ResponseWriter, r *exchange.Request, rules *access.Rules, basic *access.Basic, ar *access.AuthRequest, satisfyAny bool) int {
	code := 0 // r->access_code: the refusal that stands under satisfy any
	challenge, subChallenge := false, false
	refuse := func(status int) int {
		if status == 401 {
			// The challenge goes with whoever answers the 401 (the
			// built-in page or an error_page), as nginx keeps the line
			// in its response headers across the error page's redirect.
			if challenge {
				w.AddErrorHeader(wwwAuthenticate, pc.challenge)
			}
			if subChallenge {
				for _, v := range strings.SplitAfter(bstr(pc.sub.authHdr), "\n") {
					if v != "" {
						w.AddErrorHeader(wwwAuthenticate, []byte(v[:len(v)-1]))
					}
				}
			}
		}
		return status
	}
	addr, _ := netip.ParseAddr(pc.vc.RemoteAddr)
	// A client on a UNIX-domain socket has $remote_addr "unix:" (until
	// realip gives it an address), which only "allow|deny unix:" matches.
	switch rules.Decide(addr, strings.HasPrefix(pc.vc.RemoteAddr, "unix:")) {
	case access.Allowed:
		if satisfyAny {
			return 0
		}
	case access.Forbidden:
		if !satisfyAny {
			pc.p.Log.Error("access forbidden by rule", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI)
			return 403
		}
		code = 403
	}
	if basic != nil {
		switch status := pc.authBasic(basic); {
		case status == 0:
			if satisfyAny && pc.basicAllowed {
				return 0
			}
		case status == 401:
			pc.challenge = append(append(append(pc.challenge[:0], `Basic realm="`...), pc.realm...), '"')
			challenge = true
			if !satisfyAny {
				return refuse(401)
			}
			code = 401
		case status == 403 && satisfyAny:
			if code != 401 {
				code = 403
			}
		default: // 403 under satisfy all, 500
			return status
		}
	}
	if ar != nil {
		switch status := pc.authRequest(r, ar); {
		case status == 0:
			if satisfyAny {
				return 0
			}
		case status == 401 || status == 403:
			subChallenge = status == 401
			if !satisfyAny {
				return refuse(status)
			}
			if code != 401 {
				code = status
			}
		default: // 500
			return status
		}
	}
	if code == 403 {
		// ngx_http_core_post_access_phase: nothing let the request
		// through under satisfy any.
		pc.p.Log.Error("access forbidden by rule", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI)
	}
	return refuse(code)
}

// authBasic runs auth_basic b (ngx_http_auth_basic_handler) and
// returns the status that refuses the request, 0 when it lets it through
// (pc.basicAllowed) or declines; for 401, pc.realm holds the realm.
func (pc *Conn) authBasic(b *access.Basic) int {
	d, realm, why, err := b.Check(&pc.basic, pc.realm)
	pc.realm = realm
	pc.basicAllowed = d == access.Allowed
	switch d {
	case access.Declined, access.Allowed:
		return 0
	case access.Forbidden:
		pc.p.Log.Error("auth_basic_user_file not found", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI, "err", err)
		return 403
	case access.Failed:
		pc.p.Log.Error("auth_basic failed", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI, "user", pc.vc.RemoteUser, "err", err)
		return 500
	}
	if pc.basic.HasCredentials {
		pc.p.Log.Error("basic authentication refused", "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI, "user", pc.vc.RemoteUser, "reason", why)
	} else {
		pc.p.Log.Info(why, "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI)
	}
	return 401
}

// wwwAuthenticate is the challenge's header name (RFC 9110 11.6.1).
var wwwAuthenticate = []byte("WWW-Authenticate")

// refuseHandshake answers a malformed WebSocket handshake with nginx's
// error page for status; a 426 carries "Sec-WebSocket-Version: 13", the
// version wsgate speaks (RFC 6455 4.4). WriteError starts the header list
// afresh, so that page is written here.
func (pc *Conn) refuseHandshake(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int) exchange.Result {
	if status != 426 {
		return pc.fail(w, status)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/html")
	w.MarkFraming()
	w.AddHeader("Sec-WebSocket-Version", ws.Version)
	body := http1.AppendErrorPage(nil, status, loc.ServerInfo.Name())
	if err := w.WriteHeader(status, "", int64(len(body))); err == nil && !r.IsHEAD() {
		w.Write(body)
	}
	return exchange.Result{Status: status}
}
