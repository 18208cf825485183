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

// ProxyOptions are the rest of ngx_http_proxy_module's per-location
// settings: what is sent upstream instead of the client's request, how
// the connection is made, and how the response is read.
type ProxyOptions struct {
	// Method is proxy_method: the method sent upstream (may hold
	// variables); "" sends the client's.
	Method string
	// Body is proxy_set_body (may hold variables), sent instead of the
	// client's body when HasBody is set.
	Body    string
	HasBody bool
	// Bind is proxy_bind: the local address (may hold variables; an empty
	// value binds nothing) of connections to the upstream, "" for none
	// ("off"). Transparent is its "transparent" parameter (IP_TRANSPARENT:
	// the address may be a foreign one, such as the client's).
	Bind        string
	Transparent bool
	// SocketKeepalive is proxy_socket_keepalive: SO_KEEPALIVE on upstream
	// connections, with the system's probe timings.
	SocketKeepalive bool
	// IgnoreHeaders is proxy_ignore_headers: the upstream response headers
	// whose processing is turned off.
	IgnoreHeaders IgnoreHeaders
	// LimitRate is proxy_limit_rate in bytes per second; 0: unlimited.
	LimitRate int64
}

// IgnoreHeaders is the proxy_ignore_headers set
// (ngx_http_upstream_ignore_headers_masks).
type IgnoreHeaders uint16

const (
	IgnoreXAccelRedirect IgnoreHeaders = 1 << iota
	IgnoreXAccelExpires
	IgnoreXAccelLimitRate
	IgnoreXAccelBuffering
	IgnoreXAccelCharset
	IgnoreExpires
	IgnoreCacheControl
	IgnoreSetCookie
	IgnoreVary
)
