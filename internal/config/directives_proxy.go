package config

import (
	"net/netip"
	"strings"
	"time"
)

// This file holds ngx_http_proxy_module's directives.

// proxyDirectives are ngx_http_proxy_module's.
func proxyDirectives() map[string]*directive {
	return map[string]*directive{
		"proxy_pass":                  {ctx: ctxLocation | ctxLocIf | ctxLimit, min: 1, max: 1, once: true, set: setProxyPass},
		"proxy_http_version":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("1.0", "1.1"), func(l *LocConf) *string { return &l.ProxyHTTPVersion })},
		"proxy_set_header":            {ctx: ctxHTTPAll, min: 2, max: 2, set: setProxySetHeader},
		"proxy_hide_header":           {ctx: ctxHTTPAll, min: 1, max: 1, set: setHeaderNames(func(l *LocConf) *[]string { return &l.ProxyHideHeaders })},
		"proxy_pass_header":           {ctx: ctxHTTPAll, min: 1, max: 1, set: setHeaderNames(func(l *LocConf) *[]string { return &l.ProxyPassHeaders })},
		"proxy_redirect":              {ctx: ctxHTTPAll, min: 1, max: 2, set: setProxyRedirect},
		"proxy_connect_timeout":       {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyConnectTimeout })},
		"proxy_read_timeout":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyReadTimeout })},
		"proxy_send_timeout":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxySendTimeout })},
		"proxy_next_upstream":         {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(nextUpstreamArg, func(l *LocConf) *NextUpstream { return &l.ProxyNextUpstream })},
		"proxy_next_upstream_tries":   {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(numArg, func(l *LocConf) *int { return &l.ProxyNextUpstreamTries })},
		"proxy_next_upstream_timeout": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyNextUpstreamTimeout })},
		"proxy_buffering":             {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyBuffering })},
		"proxy_buffer_size":           {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(sizeArg, func(l *LocConf) *int64 { return &l.ProxyBufferSize })},
		"proxy_request_buffering":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyRequestBuffering })},
		"proxy_pass_request_headers":  {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyPassRequestHeaders })},
		"proxy_pass_request_body":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyPassRequestBody })},
		"proxy_ignore_client_abort":   {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyIgnoreClientAbort })},
		"proxy_intercept_errors":      {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyInterceptErrors })},
		"proxy_method":                {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(textArg, func(l *LocConf) *string { return &l.Proxy.Method })},
		"proxy_set_body":              {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: setProxySetBody},
		"proxy_bind":                  {ctx: ctxHTTPAll, min: 1, max: 2, once: true, set: setProxyBind},
		"proxy_socket_keepalive":      {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.Proxy.SocketKeepalive })},
		"proxy_ignore_headers":        {ctx: ctxHTTPAll, min: 1, max: unbounded, set: bitmaskOnLoc(ignoreHeadersArg, func(l *LocConf) *IgnoreHeaders { return &l.Proxy.IgnoreHeaders })},
		"proxy_limit_rate":            {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(sizeArg, func(l *LocConf) *int64 { return &l.Proxy.LimitRate })},
		"proxy_cookie_domain":         {ctx: ctxHTTPAll, min: 1, max: 2, set: setCookieRewrite(true)},
		"proxy_cookie_path":           {ctx: ctxHTTPAll, min: 1, max: 2, set: setCookieRewrite(false)},
		"proxy_cookie_flags":          {ctx: ctxHTTPAll, min: 1, max: 4, set: setCookieFlags},
	}
}

// setProxyPass is ngx_http_proxy_pass.
func setProxyPass(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	pp := &ProxyPass{Pos: d.Pos, Raw: a.Text}
	rest := a.Text
	// A URL with variables is checked only per request, when its value is
	// known (ngx_http_proxy_pass returns before looking at the prefix;
	// ngx_http_proxy_eval checks it): "http:/$uri" may well evaluate to a
	// valid URL.
	if strings.Contains(a.Text, "$") {
		pp.HasVars = true
		switch {
		case len(rest) >= 7 && strings.EqualFold(rest[:7], "http://"):
			pp.Scheme = "http"
		case len(rest) >= 8 && strings.EqualFold(rest[:8], "https://"):
			pp.Scheme = "https"
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxyPass = pp })
		return
	}
	switch {
	case len(rest) >= 7 && strings.EqualFold(rest[:7], "http://"):
		pp.Scheme, rest = "http", rest[7:]
	case len(rest) >= 8 && strings.EqualFold(rest[:8], "https://"):
		pp.Scheme, rest = "https", rest[8:]
	default:
		c.errorf(a.Pos, "invalid URL prefix in %q", a.Text)
		return
	}
	if path, ok := strings.CutPrefix(rest, "unix:"); ok {
		// ngx_parse_unix_domain_url: the path runs to the first ':', what
		// follows it is the URI part; the host is "localhost".
		if i := strings.IndexByte(path, ':'); i >= 0 {
			path, pp.URI = path[:i], path[i+1:]
			pp.HasURI = pp.URI != ""
		}
		if path == "" {
			c.errorf(a.Pos, "no path in the unix domain socket in upstream %q", rest)
			return
		}
		pp.Unix, pp.Host = path, "localhost"
		if pp.HasURI && (f.ctx&(ctxLocIf|ctxLimit) != 0 || f.loc != nil && (f.loc.l.Match == MatchRegex || f.loc.l.Match == MatchRegexNoCase || f.loc.l.Match == MatchNamed)) {
			c.errorf(d.Pos, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxyPass = pp })
		return
	}
	hostport := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hostport, pp.URI, pp.HasURI = rest[:i], rest[i:], true
		if pp.URI[0] == '?' {
			pp.URI = "/" + pp.URI
		}
	}
	host, port, ok := splitHostPort(hostport)
	if !ok || host == "" {
		c.errorf(a.Pos, "invalid host in upstream %q", hostport)
		return
	}
	if port != "" {
		if n, ok := parseNumber(port); !ok || n < 1 || n > 65535 {
			c.errorf(a.Pos, "invalid port in upstream %q", hostport)
			return
		}
	}
	pp.Host, pp.Port = host, port
	if pp.HasURI && (f.ctx&(ctxLocIf|ctxLimit) != 0 || f.loc != nil && (f.loc.l.Match == MatchRegex || f.loc.l.Match == MatchRegexNoCase || f.loc.l.Match == MatchNamed)) {
		c.errorf(d.Pos, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxyPass = pp })
}

// setProxySetHeader is ngx_conf_set_keyval_slot into headers_source: the
// first one at a level discards everything inherited (§1.4).
func setProxySetHeader(c *checker, f *frame, d *Directive, first bool) {
	h := HeaderSet{Pos: d.Pos, Name: d.Args[0].Text, Value: d.Args[1].Text}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.SetHeadersDropped = l.ProxySetHeaders
			l.ProxySetHeaders = nil
			l.SetHeadersInherited = false
		}
		l.ProxySetHeaders = append(l.ProxySetHeaders, h)
	})
}

// setHeaderNames makes the setter of proxy_hide_header and
// proxy_pass_header: a list of lower-cased header names, which a level that
// sets the directive replaces rather than extends (a level inherits its
// parent's list only when it sets none: ngx_http_upstream_hide_headers_hash).
func setHeaderNames(list func(*LocConf) *[]string) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		name := strings.ToLower(d.Args[0].Text)
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			names := list(l)
			if first {
				*names = nil
			}
			*names = append(*names, name)
		})
	}
}

// setProxyRedirect is ngx_http_proxy_redirect: "default", "off"/"false",
// or "from to" where from may be "~re" or "~*re". Inherited all-or-nothing;
// "default" is expanded per location once proxy_pass is known.
func setProxyRedirect(c *checker, f *frame, d *Directive, first bool) {
	a := d.Args[0]
	reset := func(l *LocConf) {
		if first {
			l.ProxyRedirect = nil
			l.ProxyRedirectOff = false
		}
	}
	if len(d.Args) == 1 {
		switch a.Text {
		case "off", "false":
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirectOff = true })
			return
		case "default":
			if !f.seen["proxy_pass"] {
				c.errorf(d.Pos, "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive")
				return
			}
			r := Redirect{Pos: d.Pos, Default: true}
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirect = append(l.ProxyRedirect, r) })
			return
		}
		c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
		return
	}
	r := Redirect{Pos: d.Pos, From: a.Text, To: d.Args[1].Text}
	switch {
	case strings.HasPrefix(r.From, "~*"):
		r.Regex, r.NoCase, r.From = true, true, r.From[2:]
	case strings.HasPrefix(r.From, "~"):
		r.Regex, r.From = true, r.From[1:]
	}
	if r.Regex {
		re, ok := c.convertRegex(a.Pos, r.From, r.NoCase)
		if !ok {
			return
		}
		r.From = re
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirect = append(l.ProxyRedirect, r) })
}

var nextUpstreamNames = map[string]NextUpstream{
	"error": NextError, "timeout": NextTimeout, "invalid_header": NextInvalidHeader,
	"http_500": NextHTTP500, "http_502": NextHTTP502, "http_503": NextHTTP503, "http_504": NextHTTP504,
	"http_403": NextHTTP403, "http_404": NextHTTP404, "http_429": NextHTTP429,
	"non_idempotent": NextNonIdempotent, "off": NextOff,
}

// nextUpstreamArg is ngx_conf_set_bitmask_slot over ngx_http_proxy_next_upstream_masks.
func nextUpstreamArg(c *checker, d *Directive) (NextUpstream, bool) {
	var m NextUpstream
	for _, a := range d.Args {
		v, ok := nextUpstreamNames[a.Text]
		if !ok {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return 0, false
		}
		if v == NextOff {
			m = NextOff
			continue
		}
		m |= v
	}
	return m, true
}

// hasDirective reports whether name appears in dirs or in any block
// within them.
func hasDirective(dirs []*Directive, name string) bool {
	for _, d := range dirs {
		if d.Name == name || hasDirective(d.Block, name) {
			return true
		}
	}
	return false
}

// textArg is a value taken as written (it may hold variables, compiled
// with the snapshot).
func textArg(c *checker, d *Directive) (string, bool) { return d.Args[0].Text, true }

// setProxySetBody is proxy_set_body: the body sent instead of the
// client's (ngx_http_proxy_set_body's body_source).
func setProxySetBody(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[0].Text
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Proxy.Body, l.Proxy.HasBody = v, true })
}

// setProxyBind is ngx_http_upstream_bind_set_slot: "off", or an address
// (with variables, or an IP literal with an optional port) and
// "transparent".
func setProxyBind(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0].Text
	if a == "off" {
		if len(d.Args) == 2 {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Proxy.Bind, l.Proxy.Transparent = "", false })
		return
	}
	if !strings.Contains(a, "$") {
		if _, ok := ParseBindAddr(a); !ok {
			c.errorf(d.Args[0].Pos, "invalid address %q", a)
			return
		}
	}
	transparent := false
	if len(d.Args) == 2 {
		if d.Args[1].Text != "transparent" {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
		transparent = true
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Proxy.Bind, l.Proxy.Transparent = a, transparent })
}

// ParseBindAddr reads a proxy_bind address as ngx_parse_addr_port does:
// an IPv4 or IPv6 literal ("[v6]" with a port), with an optional port; it
// returns it as "host:port" for a dialer's local address (port 0 when none).
func ParseBindAddr(s string) (string, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.String(), true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || ip.Zone() != "" || strings.HasPrefix(s, "[") != strings.HasSuffix(s, "]") {
		return "", false
	}
	return netip.AddrPortFrom(ip, 0).String(), true
}

var ignoreHeaderNames = map[string]IgnoreHeaders{
	"x-accel-redirect": IgnoreXAccelRedirect, "x-accel-expires": IgnoreXAccelExpires,
	"x-accel-limit-rate": IgnoreXAccelLimitRate, "x-accel-buffering": IgnoreXAccelBuffering,
	"x-accel-charset": IgnoreXAccelCharset, "expires": IgnoreExpires, "cache-control": IgnoreCacheControl,
	"set-cookie": IgnoreSetCookie, "vary": IgnoreVary,
}

// ignoreHeadersArg is ngx_conf_set_bitmask_slot over
// ngx_http_upstream_ignore_headers_masks (names compared
// case-insensitively).
func ignoreHeadersArg(c *checker, d *Directive) (IgnoreHeaders, bool) {
	var m IgnoreHeaders
	for _, a := range d.Args {
		v, ok := ignoreHeaderNames[strings.ToLower(a.Text)]
		if !ok {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return 0, false
		}
		m |= v
	}
	return m, true
}
