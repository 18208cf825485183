package config

import (
	"strings"
)

// This file holds the directives of the response header filters:
// ngx_http_headers_filter_module's add_header and add_trailer (expires is
// the static files family's), and the output directives of headers-more
// (ngx_http_headers_more_filter_module, the third-party module that
// distributions ship and ingress-nginx snippets lean on):
// more_set_headers and more_clear_headers. Their values are compiled and
// applied by internal/headers.

// headersDirectives are the header filters': http, server, location and
// a location's if block (NGX_HTTP_LIF_CONF), as in nginx and headers-more.
func headersDirectives() map[string]*directive {
	return map[string]*directive{
		"add_header":         {ctx: ctxHTTPAll | ctxLocIf, min: 2, max: 3, set: setAddHeader(false)},
		"add_trailer":        {ctx: ctxHTTPAll | ctxLocIf, min: 2, max: 3, set: setAddHeader(true)},
		"more_set_headers":   {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: unbounded, set: setMoreHeaders(false)},
		"more_clear_headers": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: unbounded, set: setMoreHeaders(true)},
		// headers-more's input commands act on the request's headers.
		"more_set_input_headers":   {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: unbounded, set: setMoreInputHeaders(false)},
		"more_clear_input_headers": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: unbounded, set: setMoreInputHeaders(true)},
	}
}

// setMoreInputHeaders is ngx_http_headers_more_parse_directive for the
// input commands: options -t (the request's Content-Type, compared
// whole) and -r (more_set_input_headers only: replace headers the
// request has, add none) anywhere among the arguments, the others headers
// as for the output commands. A trailing "*" clears by prefix; it sets
// nothing (headers-more matches a wildcard only to clear). Content-Length
// and Transfer-Encoding are refused: they frame the body, which wsgate
// reads as the client framed it. Commands accumulate as the output ones.
func setMoreInputHeaders(clear bool) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		cmd := MoreHeaders{Pos: d.Pos}
		for i := 0; i < len(d.Args); i++ {
			a := d.Args[i]
			if a.Text == "" {
				continue
			}
			if a.Text[0] != '-' {
				h, ok := parseMoreHeader(c, d, a)
				if !ok {
					return
				}
				if clear {
					h.Value = ""
				}
				if h.Wildcard && h.Value != "" {
					c.errorf(a.Pos, "%s: a wildcard header name only clears headers: %s", d.Name, a.Text)
					return
				}
				switch strings.ToLower(h.Name) {
				case "content-length", "transfer-encoding":
					c.errorf(a.Pos, "%s: %q is not supported by wsgate: the request body is read as the client framed it", d.Name, h.Name)
					return
				}
				cmd.Headers = append(cmd.Headers, h)
				continue
			}
			switch a.Text {
			case "-t":
				if i == len(d.Args)-1 {
					c.errorf(a.Pos, "%s: option %s takes an argument.", d.Name, a.Text)
					return
				}
				i++
				cmd.Types = append(cmd.Types, strings.FieldsFunc(d.Args[i].Text, func(r rune) bool {
					return r == ';' || isCSpace(byte(r))
				})...)
			case "-r":
				if clear {
					c.errorf(a.Pos, "%s: invalid option name: %q", d.Name, a.Text)
					return
				}
				cmd.Replace = true
			default:
				c.errorf(a.Pos, "%s: invalid option name: %q", d.Name, a.Text)
				return
			}
		}
		if len(cmd.Headers) == 0 {
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			l.Headers.MoreInput = append(l.Headers.MoreInput[:len(l.Headers.MoreInput):len(l.Headers.MoreInput)], cmd)
		})
	}
}

// setAddHeader is ngx_http_headers_add: "NAME VALUE [always]". The first
// add_header (add_trailer) of a level discards every inherited one
// (ngx_http_headers_merge_conf keeps the parent's array only when the
// level has none).
func setAddHeader(trailer bool) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		h := AddHeader{Pos: d.Pos, Name: d.Args[0].Text, Value: d.Args[1].Text}
		if len(d.Args) == 3 {
			if d.Args[2].Text != "always" {
				c.errorf(d.Args[2].Pos, "invalid parameter %q", d.Args[2].Text)
				return
			}
			h.Always = true
		}
		if !validHeaderName(h.Name) {
			// nginx writes any name; one that is not a token would break
			// the response head.
			c.errorf(d.Args[0].Pos, "%q: invalid header name %q", d.Name, h.Name)
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			list := &l.Headers.Add
			if trailer {
				list = &l.Headers.Trailers
			}
			if first {
				if !trailer {
					l.Headers.AddDropped = *list
				}
				*list = nil
			}
			*list = append(*list, h)
		})
	}
}

// setMoreHeaders is ngx_http_headers_more_parse_directive for the output
// commands: options -s (status codes), -t (content types) and -a (append,
// more_set_headers only) anywhere among the arguments, the others headers
// as "Name: Value", "Name:" or "Name" (the last two clear). Commands
// accumulate across levels, outer ones first.
func setMoreHeaders(clear bool) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		cmd := MoreHeaders{Pos: d.Pos}
		for i := 0; i < len(d.Args); i++ {
			a := d.Args[i]
			if a.Text == "" {
				continue
			}
			if a.Text[0] != '-' {
				h, ok := parseMoreHeader(c, d, a)
				if !ok {
					return
				}
				if clear {
					h.Value = ""
				}
				cmd.Headers = append(cmd.Headers, h)
				continue
			}
			switch a.Text {
			case "-s", "-t":
				if i == len(d.Args)-1 {
					c.errorf(a.Pos, "%s: option %s takes an argument.", d.Name, a.Text)
					return
				}
				i++
				v := d.Args[i]
				if a.Text == "-t" {
					cmd.Types = append(cmd.Types, strings.FieldsFunc(v.Text, func(r rune) bool {
						return r == ';' || isCSpace(byte(r))
					})...)
					continue
				}
				for _, s := range strings.FieldsFunc(v.Text, func(r rune) bool { return isCSpace(byte(r)) }) {
					n, ok := parseNumber(s)
					if !ok || n > 999 {
						c.errorf(v.Pos, "%s: invalid digit found in the status code list %q", d.Name, v.Text)
						return
					}
					cmd.Statuses = append(cmd.Statuses, int(n))
				}
			case "-a":
				if clear {
					c.errorf(a.Pos, "%s: invalid option name: %q", d.Name, a.Text)
					return
				}
				cmd.Append = true
			default:
				c.errorf(a.Pos, "%s: invalid option name: %q", d.Name, a.Text)
				return
			}
		}
		for _, h := range cmd.Headers {
			if cmd.Append && moreBuiltin(h.Name) {
				c.errorf(d.Pos, "%s: can not append builtin headers %q", d.Name, h.Name)
				return
			}
			switch strings.ToLower(h.Name) {
			case "content-length":
				c.errorf(d.Pos, "%s: %q is not supported by wsgate: it frames responses itself (the length, or chunks when it is unknown)", d.Name, h.Name)
				return
			case "transfer-encoding", "connection", "keep-alive":
				if h.Value != "" {
					c.errorf(d.Pos, "%s: %q is not supported by wsgate: it frames responses itself, as nginx's header filter does after headers-more", d.Name, h.Name)
					return
				}
			}
		}
		if len(cmd.Headers) == 0 {
			return // nginx keeps a command without headers, which does nothing
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			// A full slice expression: the parent's list is shared with
			// its other children and must not be appended to in place.
			l.Headers.More = append(l.Headers.More[:len(l.Headers.More):len(l.Headers.More)], cmd)
		})
	}
}

// parseMoreHeader is ngx_http_headers_more_parse_header: the name runs
// from the first non-space byte to ':' or a space; the value from the
// next byte that is neither to the end. A name ending in "*" is a prefix.
func parseMoreHeader(c *checker, d *Directive, a Word) (MoreHeader, bool) {
	s := strings.TrimLeft(a.Text, " \t\r\n\f\v")
	end := strings.IndexFunc(s, func(r rune) bool { return r == ':' || isCSpace(byte(r)) })
	name, rest := s, ""
	if end >= 0 {
		name, rest = s[:end], s[end+1:]
	}
	if name == "" {
		c.errorf(a.Pos, "%s: no key found in the header argument: %s", d.Name, a.Text)
		return MoreHeader{}, false
	}
	h := MoreHeader{Name: name, Value: strings.TrimLeft(rest, ": \t\r\n\f\v")}
	if strings.HasSuffix(name, "*") {
		if len(name) < 2 {
			c.errorf(a.Pos, "%s: wildcard key too short: %s", d.Name, a.Text)
			return MoreHeader{}, false
		}
		h.Name, h.Wildcard = name[:len(name)-1], true
	}
	if !validHeaderName(h.Name) {
		c.errorf(a.Pos, "%s: invalid header name %q", d.Name, name)
		return MoreHeader{}, false
	}
	return h, true
}

// moreBuiltin reports whether headers-more handles name as one of
// nginx's own response headers (ngx_http_headers_more_set_handlers),
// which -a may not append to.
func moreBuiltin(name string) bool {
	switch strings.ToLower(name) {
	case "server", "date", "content-encoding", "location", "refresh", "last-modified", "content-range",
		"accept-ranges", "www-authenticate", "expires", "e-tag", "content-length", "content-type", "cache-control":
		return true
	}
	return false
}

// validHeaderName reports whether s is an RFC 9110 token (§5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isCSpace is C's isspace.
func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}
