package ingress

import (
	"net/url"
	"strconv"
	"strings"

	"wsgate/internal/config"
)

// The annotations that answer with a redirect (permanent-redirect,
// temporal-redirect, app-root) or tune one line of ingress-nginx's
// template (connection-proxy-header, ssl-ciphers,
// ssl-prefer-server-ciphers).

// serverConf are the server-level annotations of a host: the first
// Ingress on the host that sets each one decides it, as a server block
// has one of each.
type serverConf struct {
	appRoot, sslCiphers, preferCiphers, aliases value
	fromToWWW                                   value
}

// parseRedirects reads the redirect and one-line annotations into c.
func parseRedirects(c *ingConf, get, boolean func(string) value, bad func(name, format string, args ...any)) {
	code := func(name string, def int) string {
		v := get(name)
		if !v.set {
			return strconv.Itoa(def)
		}
		n, err := strconv.Atoi(v.s)
		if err != nil || n < 300 || n > 308 {
			bad(name, "%q is not a redirect status code (300 to 308)", v.s)
			return strconv.Itoa(def)
		}
		return v.s
	}
	absURL := func(name string, v value) bool {
		u, err := url.Parse(v.s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			bad(name, "%q is not an absolute URL", v.s)
			return false
		}
		return true
	}
	// ingress-nginx reads temporal-redirect first: it wins over
	// permanent-redirect.
	if v := get("temporal-redirect"); v.set && absURL("temporal-redirect", v) {
		v.s = code("temporal-redirect-code", 302) + " " + v.s
		c.redirect = v
	} else if v := get("permanent-redirect"); v.set && absURL("permanent-redirect", v) {
		v.s = code("permanent-redirect-code", 301) + " " + v.s
		c.redirect = v
	}
	if v := get("app-root"); v.set {
		if !strings.HasPrefix(v.s, "/") || strings.ContainsAny(v.s, " \t\"';{}") {
			bad("app-root", "%q is not a path", v.s)
		} else {
			c.server.appRoot = v
		}
	}
	c.connHeader = get("connection-proxy-header")
	if v := get("server-alias"); v.set {
		var names []string
		for _, n := range strings.Split(v.s, ",") {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if strings.ContainsAny(n, " \t;{}\"'/") {
				bad("server-alias", "%q is not a host name", n)
				continue
			}
			names = append(names, n)
		}
		v.s = strings.Join(names, ",")
		c.server.aliases = v
	}
	if v := boolean("from-to-www-redirect"); v.s == "true" {
		c.server.fromToWWW = v
	}
	c.server.sslCiphers = get("ssl-ciphers")
	c.server.preferCiphers = boolean("ssl-prefer-server-ciphers")
}

// redirectLocation returns the return statement of permanent-redirect
// or temporal-redirect: the location answers with it and proxies nothing.
func redirectLocation(c *ingConf) []*config.Directive {
	if !c.redirect.set {
		return nil
	}
	code, target, _ := strings.Cut(c.redirect.s, " ")
	return []*config.Directive{stmt(c.redirect.pos, "return", code, target)}
}

// merge takes each annotation of o that s does not have yet.
func (s *serverConf) merge(o serverConf) {
	for _, f := range []struct{ dst, src *value }{{&s.appRoot, &o.appRoot}, {&s.sslCiphers, &o.sslCiphers},
		{&s.preferCiphers, &o.preferCiphers}, {&s.aliases, &o.aliases}, {&s.fromToWWW, &o.fromToWWW}} {
		if !f.dst.set && f.src.set {
			*f.dst = *f.src
		}
	}
}

// statements returns the server-level statements: ssl_ciphers,
// ssl_prefer_server_ciphers, and app-root's redirect of "/" (302, as
// ingress-nginx).
func (s *serverConf) statements() []*config.Directive {
	var out []*config.Directive
	if s.sslCiphers.set {
		out = append(out, stmt(s.sslCiphers.pos, "ssl_ciphers", s.sslCiphers.s))
	}
	if s.preferCiphers.set {
		v := "off"
		if s.preferCiphers.s == "true" {
			v = "on"
		}
		out = append(out, stmt(s.preferCiphers.pos, "ssl_prefer_server_ciphers", v))
	}
	if s.appRoot.set {
		p := s.appRoot.pos
		out = append(out, block(p, "if", []string{"($uri", "=", "/)"}, stmt(p, "return", "302", "$scheme://$http_host"+s.appRoot.s)))
	}
	return out
}

// posOr is v's position when it is set, else p.
func posOr(v value, p config.Pos) config.Pos {
	if v.set && v.pos.File != "" {
		return v.pos
	}
	return p
}

// serverNames returns h's server_name arguments: its name and the
// server-alias names no other host has (an alias that is a host of its
// own is left to that host, with a notice, as ingress-nginx does).
func (t *translation) serverNames(h *host, hosts map[string]*host, note bool) []string {
	names := []string{h.name}
	if !h.conf.aliases.set {
		return names
	}
	for _, a := range strings.Split(h.conf.aliases.s, ",") {
		if a == "" || a == h.name {
			continue
		}
		if hosts[a] != nil {
			if !note {
				continue
			}
			t.notices = append(t.notices, "server-alias "+a+" of host "+strconv.Quote(h.name)+" is a host of its own: left to it")
			continue
		}
		names = append(names, a)
	}
	return names
}

// wwwRedirects returns the servers of from-to-www-redirect: for a host
// www.NAME a server NAME, for a host NAME a server www.NAME, that answers
// every request with 308 to the same URI on the host, unless the other
// name is a host (or an alias) of its own.
func (t *translation) wwwRedirects(hosts map[string]*host, order []string) []*config.Directive {
	taken := map[string]bool{}
	for _, name := range order {
		for _, n := range t.serverNames(hosts[name], hosts, false) {
			taken[n] = true
		}
	}
	var out []*config.Directive
	httpL, httpsL := t.o.listens()
	for _, name := range order {
		h := hosts[name]
		v := h.conf.fromToWWW
		if !v.set || name == "" || strings.Contains(name, "*") {
			continue
		}
		from := "www." + name
		if rest, ok := strings.CutPrefix(name, "www."); ok {
			from = rest
		}
		if taken[from] {
			t.notices = append(t.notices, "from-to-www-redirect of host "+strconv.Quote(name)+": "+from+" is a host of its own: no redirect")
			continue
		}
		taken[from] = true
		cert := h.tls
		if cert == "" || cert == "-" {
			cert = t.defaultCert()
		}
		p := v.pos
		out = append(out, block(p, "server", nil,
			stmt(p, "listen", httpL), stmt(p, "listen", httpsL, "ssl"), stmt(p, "server_name", from),
			stmt(p, "ssl_certificate", cert), stmt(p, "ssl_certificate_key", cert),
			stmt(p, "return", "308", "$scheme://"+name+"$request_uri")))
	}
	return out
}
