package config

import "strings"

// This file holds the error page directives of ngx_http_core_module:
// error_page, recursive_error_pages and internal (proxy_intercept_errors,
// which applies error pages to upstream responses, is the proxy
// family's). Named locations, the other way into a location without a
// URI, are read by setLocation.

// errorPageDirectives are error_page, recursive_error_pages and internal.
func errorPageDirectives() map[string]*directive {
	return map[string]*directive{
		"error_page":            {ctx: ctxHTTPAll, min: 2, max: unbounded, set: setErrorPage},
		"recursive_error_pages": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.RecursiveErrorPages })},
		"internal":              {ctx: ctxLocation, min: 0, max: 0, once: true, set: setInternal},
	}
}

// setErrorPage is ngx_http_core_error_page: "error_page code ... [=[code]]
// target". The first error_page of a level drops the inherited list.
func setErrorPage(c *checker, f *frame, d *Directive, first bool) {
	resp, code := ResponseError, 0
	n := len(d.Args) - 1 // the codes end before n
	if a := d.Args[n-1]; strings.HasPrefix(a.Text, "=") {
		if n == 1 {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return
		}
		resp = ResponseTarget
		if len(a.Text) > 1 {
			v, ok := parseNumber(a.Text[1:])
			if !ok || v > 1<<31-1 {
				c.errorf(a.Pos, "invalid value %q", a.Text)
				return
			}
			if v != 0 { // "=0" is "=", as in nginx
				resp, code = ResponseCode, int(v)
			}
		}
		n--
	}
	target, args := d.Args[len(d.Args)-1].Text, ""
	if strings.HasPrefix(target, "/") && !strings.Contains(target, "$") {
		// A literal URI's arguments are split off once (a target with
		// variables is split per request).
		if i := strings.IndexByte(target, '?'); i >= 0 {
			target, args = target[:i], target[i+1:]
		}
	}
	pages := make([]ErrorPage, 0, n-1)
	for _, a := range d.Args[:n] {
		v, ok := parseNumber(a.Text)
		if !ok || v == 499 || v > 1<<31-1 {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return
		}
		if v < 300 || v > 599 {
			c.errorf(a.Pos, "value %q must be between 300 and 599", a.Text)
			return
		}
		p := ErrorPage{Pos: a.Pos, Status: int(v), Response: resp, Code: code, Target: target, Args: args}
		if resp == ResponseError {
			switch v {
			case 494, 495, 496, 497: // request header too large, TLS certificate errors, HTTP to an HTTPS port
				p.Response, p.Code = ResponseCode, 400
			}
		}
		pages = append(pages, p)
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.ErrorPages = nil
		}
		l.ErrorPages = append(l.ErrorPages, pages...)
	})
}

// setInternal is ngx_http_core_internal.
func setInternal(c *checker, f *frame, d *Directive, _ bool) {
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Internal = true })
}
