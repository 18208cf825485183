package pipeline

import (
	"strings"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
)

// This file holds the answers the pipeline makes itself: the return
// directive of the rewrite phases and the redirects, whose Location it
// makes absolute as nginx's header filter does.

// serveReturn is the return directive (ngx_http_rewrite_return): a
// redirect for 301 302 303 307 308 with a URL, a body for other codes with
// text, nginx's page for a bare code, and 444 closes without answering.
func (pc *Conn) serveReturn(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) exchange.Result {
	code := loc.Conf.Return.Code
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
	if loc.Return != nil {
		text = loc.Return.Append(pc.buf[:0], &pc.vc)
		pc.buf = text
	}
	switch code {
	case 301, 302, 303, 307, 308:
		if loc.Return == nil {
			return pc.fail(w, code)
		}
		return pc.redirectTo(w, r, loc, code, text)
	}
	if loc.Return == nil {
		if code >= 200 && code != 204 && code != 304 && !http1.HasErrorPage(code) {
			// A bare code without a built-in page ("return 200;"):
			// nginx sends an empty body with its default type.
			w.AddServerDate()
			w.AddHeader("Content-Type", "text/plain")
			w.MarkFraming()
			w.WriteHeader(code, "", 0)
			return exchange.Result{Status: code}
		}
		return pc.fail(w, code)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", contentType(pc.vc.URI))
	w.MarkFraming()
	if err := w.WriteHeader(code, "", int64(len(text))); err == nil && !r.IsHEAD() {
		w.Write(text)
	}
	return exchange.Result{Status: code}
}

// redirectTo answers with status and a Location made absolute as nginx's
// header filter does (absolute_redirect on, port_in_redirect on,
// server_name_in_redirect off).
func (pc *Conn) redirectTo(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, status int, target []byte) exchange.Result {
	c := pc.c
	abs := pc.page[:0]
	relative := len(target) > 0 && target[0] == '/'
	if relative {
		if c.TLS {
			abs = append(abs, "https://"...)
		} else {
			abs = append(abs, "http://"...)
		}
		abs = append(abs, pc.redirectHost()...)
		if (c.TLS && c.LocalPort != "443") || (!c.TLS && c.LocalPort != "80") {
			abs = append(abs, ':')
			abs = append(abs, c.LocalPort...)
		}
	}
	abs = append(abs, target...)
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/html")
	w.MarkFraming()
	if relative {
		w.SetLocation(abs)
	} else {
		// ngx_http_header_filter writes only a Location it makes absolute
		// in its own place; one that is already absolute stays in the
		// header list, after Connection.
		w.AddHeaderBytes(locationName, abs)
	}
	body := http1.AppendErrorPage(abs[:0], status, loc.ServerInfo.Name())
	pc.page = body
	if err := w.WriteHeader(status, "", int64(len(body))); err == nil && !r.IsHEAD() {
		w.Write(body)
	}
	return exchange.Result{Status: status}
}

var locationName = []byte("Location")

// redirectHost is the host for absolute redirects: the request's, the
// server name, or the local address.
func (pc *Conn) redirectHost() string {
	if pc.vc.Host != "" {
		return pc.vc.Host
	}
	if pc.vc.ServerName != "" {
		return pc.vc.ServerName
	}
	return pc.c.LocalAddr
}

// contentType is the Content-Type of a response nginx builds itself with
// a body (return CODE TEXT): ngx_http_set_content_type looks the URI's
// extension up in the types, which without a types block are nginx's
// built-in three (ngx_http_core_default_types), else default_type
// text/plain.
func contentType(uri string) string {
	i := len(uri) - 1
	for i >= 0 && uri[i] != '.' && uri[i] != '/' {
		i--
	}
	if i < 0 || uri[i] != '.' {
		return "text/plain"
	}
	ext := uri[i+1:]
	switch {
	case strings.EqualFold(ext, "html"):
		return "text/html"
	case strings.EqualFold(ext, "gif"):
		return "image/gif"
	case strings.EqualFold(ext, "jpg"):
		return "image/jpeg"
	}
	return "text/plain"
}
