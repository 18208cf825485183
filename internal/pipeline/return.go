package pipeline

import (
	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// This file holds the answers the pipeline makes itself: the return
// directive of the rewrite phases and the redirects, whose Location it
// makes absolute as nginx's header filter does.

// serveReturn is the return directive ret (ngx_http_rewrite_return) with
// its compiled text, nil for a bare code, answered at loc: a redirect for
// 301 302 303 307 308 with a URL, a body for other codes with text, an
// error left to the pipeline (error_page, else nginx's page) for a bare
// 301 to 308 or a bare code from 400, and 444 closes without answering.
func (pc *Conn) serveReturn(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, ret *config.Return, tmpl *vars.Template) exchange.Result {
	code := ret.Code
	if code == http1.StatusNoResponse {
		w.WriteError(http1.StatusNoResponse)
		return exchange.Result{Status: http1.StatusNoResponse}
	}
	if r.Body.Empty() {
		// nginx discards the body (ngx_http_discard_request_body) and
		// answers "Expect: 100-continue" first; an empty one has nothing
		// to discard, so the 100 costs nothing (a non-empty body is not
		// invited: see the package doc of http1).
		r.Body.Begin()
	}
	var text []byte
	if tmpl != nil {
		text = tmpl.Append(pc.buf[:0], &pc.vc)
		pc.buf = text
	}
	switch code {
	case 301, 302, 303, 307, 308:
		if tmpl == nil {
			return exchange.Result{Error: code}
		}
		return pc.redirectOrPage(w, r, loc, code, text)
	}
	if tmpl == nil {
		// A bare code is an error nginx finishes as a special response
		// (error_page applies), unless it is below 400 and not a
		// redirect (ngx_http_script_return_code sends those).
		if code >= 400 {
			return exchange.Result{Error: code}
		}
		inPage := pc.ep.Status != 0 && pc.ep.Status != 204 && pc.ep.Status != 304
		if code >= 200 && (inPage || code != 204 && code != 304 && !http1.HasErrorPage(code)) {
			// A bare code without a built-in page ("return 200;"):
			// nginx sends an empty body with its default type
			// (ngx_http_script_return_code, ngx_http_send_response).
			// So does any bare code below 400 answering an error
			// page: ngx_http_send_header puts r->err_status in its
			// place ("error_page 405 /204" with "return 204;" is a
			// 405 with an empty text/plain body), and the header
			// filter then keeps the type and length a 204 loses.
			w.AddServerDate()
			w.AddHeader("Content-Type", "text/plain")
			w.MarkFraming()
			addLines(w, pc.expiresLines(loc, code))
			w.WriteHeader(code, "", 0)
			return exchange.Result{Status: code}
		}
		return pc.fail(w, code)
	}
	w.AddServerDate()
	// ngx_http_set_content_type by $uri's extension, then the charset
	// filter.
	ct := files.ContentType(loc.Types, loc.DefaultType, pc.vc.URI)
	if cs := loc.Charset.Resolve(&pc.vc).For(code, ct); cs != "" {
		ct += "; charset=" + cs
	}
	w.AddHeader("Content-Type", ct)
	w.MarkFraming()
	addLines(w, pc.expiresLines(loc, code))
	if err := w.WriteHeader(code, "", int64(len(text))); err == nil && !r.IsHEAD() {
		w.Write(text)
	}
	return exchange.Result{Status: code}
}

// redirectOrPage is a redirect the rewrite module makes (return with a
// URL, rewrite's redirect and permanent): nginx sets the Location and
// finishes the request with the code as a special response
// (ngx_http_send_response, ngx_http_script_regex_end_code), so that an
// error page for the code answers it, with the Location kept; else
// redirectTo answers it.
func (pc *Conn) redirectOrPage(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int, target []byte) exchange.Result {
	if pc.ep.Answers(loc.ErrorPages, status) {
		abs, _ := pc.absLocation(loc, target)
		w.SetLocation(abs)
		return exchange.Result{Error: status}
	}
	return pc.redirectTo(w, r, loc, status, target)
}

// redirectTo answers with status and a Location made absolute as nginx's
// header filter does, with the lines the location's expires and charset
// add to the page.
func (pc *Conn) redirectTo(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int, target []byte) exchange.Result {
	return pc.redirectWith(w, r, loc, status, target, pc.expiresLines(loc, status), loc.Charset.Resolve(&pc.vc).Page(status))
}

// redirectWith is redirectTo with the page's extra header lines (after
// Connection) and charset given. A target starting with "/" is completed
// as the location's absolute_redirect, port_in_redirect and
// server_name_in_redirect say (ngx_http_header_filter).
func (pc *Conn) redirectWith(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int, target, extra []byte, charset string) exchange.Result {
	abs, inPlace := pc.absLocation(loc, target)
	w.AddServerDate()
	if charset != "" {
		w.AddHeader("Content-Type", "text/html; charset="+charset)
	} else {
		w.AddHeader("Content-Type", "text/html")
	}
	w.MarkFraming()
	if inPlace {
		w.SetLocation(abs)
	} else {
		// ngx_http_header_filter writes only a Location it makes absolute
		// in its own place; any other stays in the header list, after
		// Connection (and replaces one a return set before its error
		// page).
		w.SetLocation(nil)
		w.AddHeaderBytes(locationName, abs)
	}
	addLines(w, extra)
	body := http1.AppendErrorPage(abs[:0], status, loc.ServerInfo.Name())
	pc.page = body
	// A redirect nginx makes is a special response, whose status is its
	// own even after an error page (ngx_http_special_response_handler
	// sets r->err_status).
	w.SetErrorStatus(0)
	if err := w.WriteHeader(status, "", int64(len(body))); err == nil && !r.IsHEAD() {
		w.Write(body)
	}
	return exchange.Result{Status: status}
}

var locationName = []byte("Location")

// absLocation is target, a Location value, in pc.page, completed when it
// starts with "/" as loc's absolute_redirect, port_in_redirect and
// server_name_in_redirect say (ngx_http_header_filter); inPlace says the
// header filter completed it and writes it in its own place.
func (pc *Conn) absLocation(loc *snapshot.Loc, target []byte) (abs []byte, inPlace bool) {
	c := pc.c
	abs = pc.page[:0]
	inPlace = len(target) > 0 && target[0] == '/' && loc.AbsoluteRedirect
	if inPlace {
		if c.TLS {
			abs = append(abs, "https://"...)
		} else {
			abs = append(abs, "http://"...)
		}
		if loc.ServerNameInRedirect {
			abs = append(abs, pc.vc.ServerName...)
		} else {
			abs = append(abs, pc.redirectHost()...)
		}
		if loc.PortInRedirect && ((c.TLS && c.LocalPort != "443") || (!c.TLS && c.LocalPort != "80")) {
			abs = append(abs, ':')
			abs = append(abs, c.LocalPort...)
		}
	}
	abs = append(abs, target...)
	pc.page = abs
	return abs, inPlace
}

// redirectHost is the host for absolute redirects without
// server_name_in_redirect: the request's Host, else the local address
// (ngx_http_header_filter uses r->headers_in.server, then
// ngx_connection_local_sockaddr; never the server name).
func (pc *Conn) redirectHost() string {
	if pc.vc.Host != "" {
		return pc.vc.Host
	}
	return pc.c.LocalAddr
}
