package config

import "strings"

// This file holds ngx_http_proxy_module's Set-Cookie rewriting
// directives: proxy_cookie_domain, proxy_cookie_path (ngx_http_proxy_cookie_domain,
// ngx_http_proxy_cookie_path) and proxy_cookie_flags
// (ngx_http_proxy_cookie_flags). Each is a list that a level replaces
// when it sets the directive at all; "off" is an empty list, which may be
// neither repeated nor combined with rules at the same level ("is
// duplicate", as nginx says).

// cookieFlagNames are ngx_http_proxy_cookie_flags_masks' names, compared
// case-insensitively.
var cookieFlagNames = []string{"secure", "nosecure", "httponly", "nohttponly",
	"samesite=strict", "samesite=lax", "samesite=none", "nosamesite"}

// IsCookieFlag reports whether v names a proxy_cookie_flags flag.
func IsCookieFlag(v string) bool {
	for _, n := range cookieFlagNames {
		if strings.EqualFold(n, v) {
			return true
		}
	}
	return false
}

// cookieOff handles the one-argument form shared by the three directives:
// "off", else nginx's "invalid parameter". It reports whether d was that
// form (handled, with or without an error).
func cookieOff(c *checker, f *frame, d *Directive, first bool, set func(l *LocConf)) bool {
	if len(d.Args) != 1 {
		if f.seen[d.Name+" off"] {
			c.errorf(d.Pos, "%q directive is duplicate", d.Name)
			return true
		}
		return false
	}
	if d.Args[0].Text != "off" {
		c.errorf(d.Args[0].Pos, "invalid parameter %q", d.Args[0].Text)
		return true
	}
	if !first {
		c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		return true
	}
	f.seen[d.Name+" off"] = true
	f.lvl.loc = append(f.lvl.loc, set)
	return true
}

// setCookieRewrite makes the setter of proxy_cookie_domain (domain) or
// proxy_cookie_path: "off" or "from to", from "~regex" ("~*regex" for a
// case-insensitive path; a domain regex is always case-insensitive).
func setCookieRewrite(domain bool) setFunc {
	list := func(l *LocConf) *[]CookieRewrite {
		if domain {
			return &l.ProxyCookies.Domains
		}
		return &l.ProxyCookies.Paths
	}
	return func(c *checker, f *frame, d *Directive, first bool) {
		if cookieOff(c, f, d, first, func(l *LocConf) { *list(l) = []CookieRewrite{} }) {
			return
		}
		r := CookieRewrite{Pos: d.Pos, From: d.Args[0].Text, To: d.Args[1].Text}
		if rest, ok := strings.CutPrefix(r.From, "~"); ok {
			r.Regex, r.NoCase, r.From = true, domain, rest
			if !domain {
				if rest, ok := strings.CutPrefix(r.From, "*"); ok {
					r.NoCase, r.From = true, rest
				}
			}
			re, ok := c.convertRegex(d.Args[0].Pos, r.From, r.NoCase)
			if !ok {
				return
			}
			r.From = re
		} else if domain {
			r.From = strings.TrimPrefix(r.From, ".")
			r.To = strings.TrimPrefix(r.To, ".")
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			if first {
				*list(l) = nil
			}
			*list(l) = append(*list(l), r)
		})
	}
}

// setCookieFlags is proxy_cookie_flags: "off" or "cookie flag...", cookie
// "~regex" (case-insensitive) or a name.
func setCookieFlags(c *checker, f *frame, d *Directive, first bool) {
	if cookieOff(c, f, d, first, func(l *LocConf) { l.ProxyCookies.Flags = []CookieFlags{} }) {
		return
	}
	r := CookieFlags{Pos: d.Pos, Cookie: d.Args[0].Text}
	if rest, ok := strings.CutPrefix(r.Cookie, "~"); ok {
		re, ok := c.convertRegex(d.Args[0].Pos, rest, true)
		if !ok {
			return
		}
		r.Regex, r.Cookie = true, re
	}
	for _, a := range d.Args[1:] {
		if !strings.Contains(a.Text, "$") && !IsCookieFlag(a.Text) {
			// nginx accepts it and ignores it at each response.
			c.notice(a.Pos, "proxy_cookie_flags: %q is no flag (secure, httponly, samesite=strict|lax|none, nosecure, nohttponly, nosamesite); nginx and wsgate ignore it", a.Text)
		}
		r.Flags = append(r.Flags, a.Text)
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.ProxyCookies.Flags = nil
		}
		l.ProxyCookies.Flags = append(l.ProxyCookies.Flags, r)
	})
}
