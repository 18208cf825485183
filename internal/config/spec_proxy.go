package config

// This file holds the Spec types of the proxy module's response
// rewriting (proxy_cookie_domain, proxy_cookie_path, proxy_cookie_flags).

// ProxyCookies is how a location rewrites the Set-Cookie lines of proxied
// responses (ngx_http_proxy_rewrite_cookie). Each list is inherited
// all-or-nothing from the nearest level that sets the directive; "off"
// sets an empty list there.
type ProxyCookies struct {
	Domains []CookieRewrite // proxy_cookie_domain
	Paths   []CookieRewrite // proxy_cookie_path
	Flags   []CookieFlags   // proxy_cookie_flags
}

// Any reports whether any Set-Cookie rewriting is configured.
func (p *ProxyCookies) Any() bool {
	return len(p.Domains) > 0 || len(p.Paths) > 0 || len(p.Flags) > 0
}

// CookieRewrite is one "proxy_cookie_domain|proxy_cookie_path from to".
// From is a regex when Regex is set ("~" and "~*" removed, converted to Go
// syntax; proxy_cookie_domain's are always case-insensitive), else text
// that may hold variables (a domain's leading '.' removed, as nginx
// removes it from both values). To may hold variables, and captures of a
// regex From.
type CookieRewrite struct {
	Pos    Pos
	From   string
	Regex  bool
	NoCase bool
	To     string
}

// CookieFlags is one "proxy_cookie_flags cookie flag...". Cookie is a
// case-insensitive regex when Regex is set, else a name (may hold
// variables) compared case-insensitively. Flags are secure, httponly,
// samesite=strict|lax|none and nosecure, nohttponly, nosamesite; they may
// hold variables, and a value that names no flag is ignored, as nginx
// ignores it.
type CookieFlags struct {
	Pos    Pos
	Cookie string
	Regex  bool
	Flags  []string
}
