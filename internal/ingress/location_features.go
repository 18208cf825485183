package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"

	"wsgate/internal/config"
)

// The location features that take more than a line: CORS, rate and
// connection limits, cookie affinity, each as ingress-nginx's template
// renders it.

// cors renders enable-cors as ingress-nginx's template does: a preflight
// OPTIONS is answered 204 with the CORS headers, other requests get them
// added to the response.
func (t *translation) cors(co *cors) []*config.Directive {
	p := co.pos
	origin := co.origins[0]
	if len(co.origins) > 1 || (origin != "*" && strings.Contains(origin, "*")) {
		// Several origins: echo the request's Origin when it is one of them.
		v := "cors_origin_" + shortHash(strings.Join(co.origins, ","))
		t.addMap(v, block(p, "map", []string{"$http_origin", "$" + v}, append(originEntries(p, co.origins), stmt(p, "default", ""))...))
		origin = "$" + v
	}
	hdrs := []string{"Access-Control-Allow-Origin: " + origin}
	if co.credentials {
		hdrs = append(hdrs, "Access-Control-Allow-Credentials: true")
	}
	hdrs = append(hdrs, "Access-Control-Allow-Methods: "+co.methods, "Access-Control-Allow-Headers: "+co.headers)
	if co.expose != "" {
		hdrs = append(hdrs, "Access-Control-Expose-Headers: "+co.expose)
	}
	var pre []*config.Directive
	for _, h := range hdrs {
		pre = append(pre, stmt(p, "more_set_headers", h))
	}
	pre = append(pre, stmt(p, "more_set_headers", "Access-Control-Max-Age: "+co.maxAge),
		stmt(p, "more_set_headers", "Content-Type: text/plain; charset=utf-8"),
		stmt(p, "return", "204"))
	out := []*config.Directive{block(p, "if", []string{"($request_method", "=", "OPTIONS)"}, pre...)}
	for _, h := range hdrs {
		out = append(out, stmt(p, "more_set_headers", h))
	}
	return out
}

func originEntries(p config.Pos, origins []string) []*config.Directive {
	var out []*config.Directive
	for _, o := range origins {
		re := "~^" + strings.ReplaceAll(regexp.QuoteMeta(o), `\*`, `[^/]+`) + "$"
		out = append(out, stmt(p, re, "$http_origin"))
	}
	return out
}

// limits renders limit-rps, limit-rpm and limit-connections: a zone per
// Ingress keyed by $binary_remote_addr, burst = rate × limit-burst-multiplier
// (5 by default), as ingress-nginx does.
func (t *translation) limits(c *ingConf) []*config.Directive {
	var out []*config.Directive
	mult := 5
	if c.burst.set {
		mult, _ = strconv.Atoi(c.burst.s)
	}
	zone := safeName(strings.ReplaceAll(c.key, "/", "_"))
	// ingress-nginx keys every zone by $limit_ID, which a geo and a map
	// make empty for limit-allowlist's addresses (limit_req and limit_conn
	// do not count an empty key): with the key the same whether or not
	// there is an allowlist, an edit of it is a reload that keeps the
	// zones (nginx, and wsgate, refuse a zone whose key changed).
	key := "$limit_" + zone
	if c.limitRPS.set || c.limitRPM.set || c.limitConns.set {
		p := c.pos
		allow := "allowlist_" + zone
		entries := []*config.Directive{stmt(p, "default", "0")}
		if a := c.limitAllow; a.set {
			for _, n := range strings.Split(a.s, ",") {
				entries = append(entries, stmt(a.pos, n, "1"))
			}
		}
		t.addMap(allow, block(p, "geo", []string{"$remote_addr", "$" + allow}, entries...))
		t.addMap(key, block(p, "map", []string{"$" + allow, key},
			stmt(p, "0", "$binary_remote_addr"), stmt(p, "1", "")))
	}
	for _, l := range []struct {
		v    value
		unit string
	}{{c.limitRPS, "rps"}, {c.limitRPM, "rpm"}} {
		if !l.v.set {
			continue
		}
		n, _ := strconv.Atoi(l.v.s)
		name := zone + "_" + l.unit
		rate := l.v.s + "r/s"
		if l.unit == "rpm" {
			rate = l.v.s + "r/m"
		}
		t.addMap(name, stmt(l.v.pos, "limit_req_zone", key, "zone="+name+":5m", "rate="+rate))
		out = append(out, stmt(l.v.pos, "limit_req", "zone="+name, "burst="+strconv.Itoa(n*mult), "nodelay"))
	}
	if c.limitConns.set {
		name := zone + "_conn"
		t.addMap(name, stmt(c.limitConns.pos, "limit_conn_zone", key, "zone="+name+":5m"))
		out = append(out, stmt(c.limitConns.pos, "limit_conn", name, c.limitConns.s))
	}
	// limit-rate and limit-rate-after are kilobytes (ingress-nginx's "k").
	if c.limitRateAfter.set {
		out = append(out, stmt(c.limitRateAfter.pos, "limit_rate_after", c.limitRateAfter.s+"k"))
	}
	if c.limitRate.set {
		out = append(out, stmt(c.limitRate.pos, "limit_rate", c.limitRate.s+"k"))
	}
	if c.satisfy.set {
		out = append(out, stmt(c.satisfy.pos, "satisfy", c.satisfy.s))
	}
	return out
}

// proxyRewrites renders proxy-redirect-from/-to (proxy_redirect FROM TO,
// or off or default alone) and proxy-cookie-domain/-path, whose words are
// the directive's arguments ("off", or FROM TO).
func proxyRewrites(c *ingConf) []*config.Directive {
	var out []*config.Directive
	if f := c.redirectFrom; f.set {
		switch {
		case f.s == "off" || f.s == "default":
			out = append(out, stmt(f.pos, "proxy_redirect", f.s))
		case c.redirectTo.set && c.redirectTo.s != "off":
			out = append(out, stmt(f.pos, "proxy_redirect", f.s, c.redirectTo.s))
		}
	}
	if v := c.cookieDomain; v.set {
		out = append(out, stmt(v.pos, "proxy_cookie_domain", strings.Fields(v.s)...))
	}
	if v := c.cookiePath; v.set {
		out = append(out, stmt(v.pos, "proxy_cookie_path", strings.Fields(v.s)...))
	}
	return out
}

// addMap adds an http-level statement once per name.
func (t *translation) addMap(name string, d *config.Directive) {
	if t.maps == nil {
		t.maps = map[string]bool{}
	}
	if t.maps[name] {
		return
	}
	t.maps[name] = true
	t.http = append(t.http, d)
}

// affinityKey returns the variable an affinity cookie's upstream hashes:
// the cookie's value, or for a request without the cookie a fresh
// $request_id, which the response then sets as the cookie
// (affinityCookie). A client keeps its peer while the upstream's peers
// stay, as with ingress-nginx's persistent mode. The cookie is read from
// $http_cookie because cookie names may hold bytes ("-") that a
// $cookie_NAME variable cannot.
func (t *translation) affinityKey(a *affinity) string {
	v := "sticky_" + shortHash(a.name)
	t.addMap(v, block(a.pos, "map", []string{"$http_cookie", "$" + v},
		stmt(a.pos, cookieRegex(a.name)+"([^;]+)", "$1"), stmt(a.pos, "default", "$request_id")))
	return v
}

func cookieRegex(name string) string {
	return `~(?:^|;\s*)` + regexp.QuoteMeta(name) + "="
}

// affinityCookie returns the variable holding the Set-Cookie value for a
// request that came without the cookie (empty otherwise: add_header adds
// nothing for an empty value).
func (t *translation) affinityCookie(a *affinity, locPath string, regex bool) string {
	cpath := a.path
	if cpath == "" {
		cpath = locPath
		if regex {
			cpath = "/"
		}
	}
	parts := []string{a.name + "=$request_id", "Path=" + cpath}
	if a.maxAge != "" {
		parts = append(parts, "Max-Age="+a.maxAge)
	} else if a.expires != "" {
		parts = append(parts, "Max-Age="+a.expires)
	}
	if a.domain != "" {
		parts = append(parts, "Domain="+a.domain)
	}
	parts = append(parts, "HttpOnly")
	if a.sameSite != "" {
		parts = append(parts, "SameSite="+a.sameSite)
	}
	if a.secure || a.sameSite == "None" {
		parts = append(parts, "Secure")
	}
	val := strings.Join(parts, "; ")
	v := "sticky_set_" + shortHash(val)
	t.addMap(v, block(a.pos, "map", []string{"$http_cookie", "$" + v},
		stmt(a.pos, cookieRegex(a.name)+"[^;]", ""), stmt(a.pos, "default", val)))
	return v
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// reject leaves the Ingress key out, for a reason found while building.
func (t *translation) reject(key, reason string) {
	if t.rejects == nil {
		t.rejects = map[string][]string{}
	}
	for _, r := range t.rejects["Ingress "+key] {
		if r == reason {
			return
		}
	}
	t.rejects["Ingress "+key] = append(t.rejects["Ingress "+key], reason)
}
