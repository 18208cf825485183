package pipeline

import (
	"net/netip"

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
// answered the request.
func (pc *Conn) access(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) (res exchange.Result, ok bool) {
	// ngx_http_access_module: the first allow or deny matching the
	// client decides; a denied request (a WebSocket handshake too) is
	// answered 403, with the location's error page, before anything
	// reaches a backend.
	if loc.Access != nil {
		addr, _ := netip.ParseAddr(pc.c.RemoteAddr)
		if loc.Access.Denied(addr, false) {
			pc.p.Log.Error("access forbidden by rule", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
			return exchange.Result{Error: 403}, false
		}
	}
	if loc.CheckHandshake && r.Upgrade != nil && exchange.TokenIn(r.Upgrade, "websocket") && r.HasToken("Connection", "upgrade") {
		if status, reason := ws.CheckClientRequest(r); status != 0 {
			pc.p.Log.Info("bad websocket handshake", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI, "reason", reason)
			return pc.refuseHandshake(w, r, loc, status), false
		}
	}
	return exchange.Result{}, true
}

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
