package ingress

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// Rejection is an object left out of the configuration, with why.
type Rejection struct {
	Object  string // "Ingress ns/name" or "ConfigMap ns/name key k"
	Reasons []string
}

// Result is one translation.
type Result struct {
	// AST is the configuration, Spec what Check made of it (nil when
	// Err is set).
	AST  *config.AST
	Spec *config.Spec
	// Rejected are the objects left out, each with its reasons.
	Rejected []Rejection
	// Notices are things worth a log line: annotations accepted and
	// ignored, unknown annotations and keys, Services without endpoints.
	Notices []string
	// Skipped are Ingresses of other classes or namespaces, with why.
	Skipped []string
	// Served are the keys of the Ingresses in the configuration, and
	// ServedIngresses the objects.
	Served          []string
	ServedIngresses []*netv1.Ingress
	// Endpoints is the Resolver's table for this configuration.
	Endpoints map[string][]netip.Addr
	// Certs are the PEM files (certificate chain, then key) to write
	// under Options.SSLDir before the configuration is served, by path.
	Certs map[string][]byte
	// ShutdownTimeout is the ConfigMap's worker-shutdown-timeout.
	ShutdownTimeout time.Duration
}

// maxRounds bounds the check-and-leave-out loop: each round leaves out at
// least one object, and an error that names no object ends it.
const maxRounds = 64

// Translate turns st into a checked configuration. Objects that are
// broken are left out (Result.Rejected); the error is for problems that
// no object can be blamed for, and then nothing is to be served.
func Translate(st *State, o Options) (*Result, error) {
	cmKey := ""
	var cmData map[string]string
	if st.ConfigMap != nil {
		cmKey = objKey(st.ConfigMap.Namespace, st.ConfigMap.Name)
		cmData = st.ConfigMap.Data
	}
	res := &Result{}
	dropKeys := map[string]bool{}
	var confs []*ingConf
	var ings []*netv1.Ingress
	g := parseConfigMap(cmData, cmKey)
	res.Notices = append(res.Notices, g.notices...)
	res.ShutdownTimeout = g.shutdownTimeout
	for _, ing := range sortedIngresses(st.Ingresses) {
		key := objKey(ing.Namespace, ing.Name)
		if ok, why := st.Ours(ing, &o); !ok {
			res.Skipped = append(res.Skipped, "Ingress "+key+": "+why)
			continue
		}
		c := parseAnnotations(ing, g.allowSnippets)
		res.Notices = append(res.Notices, prefixAll("Ingress "+key+": ", c.notices)...)
		if len(c.reasons) > 0 {
			res.Rejected = append(res.Rejected, Rejection{Object: "Ingress " + key, Reasons: c.reasons})
			continue
		}
		confs = append(confs, c)
		ings = append(ings, ing)
	}
	for round := 0; ; round++ {
		g := parseConfigMap(dropConfigMapKeys(cmData, dropKeys), cmKey)
		tr := &translation{st: st, o: &o, g: g, ups: &upstreams{st: st, resolved: o.Resolved,
			blocks: map[string]*config.Directive{}, endpoints: map[string][]netip.Addr{}}, certs: map[string][]byte{}}
		ast := tr.build(ings, confs)
		var spec *config.Spec
		var errs config.ErrorList
		if len(tr.rejects) == 0 {
			spec, errs = config.Check(ast)
		}
		if len(errs) == 0 && len(tr.rejects) == 0 {
			res.AST, res.Spec = ast, spec
			res.Endpoints = tr.ups.endpoints
			res.Certs = tr.certs
			res.Notices = append(res.Notices, tr.notices...)
			res.Notices = append(res.Notices, tr.ups.notices...)
			for _, c := range confs {
				res.Served = append(res.Served, c.key)
			}
			res.ServedIngresses = ings
			return res, nil
		}
		blamed := tr.rejects
		if blamed == nil {
			blamed = map[string][]string{}
		}
		var unblamed config.ErrorList
		for _, e := range errs {
			if obj := blame(e.Pos.File); obj != "" {
				if !slices.Contains(blamed[obj], e.Error()) {
					blamed[obj] = append(blamed[obj], e.Error())
				}
			} else {
				unblamed = append(unblamed, e)
			}
		}
		if len(unblamed) > 0 || len(blamed) == 0 || round == maxRounds {
			return res, fmt.Errorf("translating the cluster's objects: %w", errs)
		}
		objs := make([]string, 0, len(blamed))
		for obj := range blamed {
			objs = append(objs, obj)
		}
		sort.Strings(objs)
		for _, obj := range objs {
			res.Rejected = append(res.Rejected, Rejection{Object: obj, Reasons: blamed[obj]})
			if k, ok := strings.CutPrefix(obj, "ConfigMap "+cmKey+" key "); ok {
				dropKeys[k] = true
				continue
			}
			key := strings.TrimPrefix(obj, "Ingress ")
			for i := range confs {
				if confs[i].key == key {
					confs = append(confs[:i], confs[i+1:]...)
					ings = append(ings[:i], ings[i+1:]...)
					break
				}
			}
		}
	}
}

// blame returns the object a position's File names: "Ingress ns/name" or
// "ConfigMap ns/name key k"; "" for statements no object owns.
func blame(file string) string {
	switch {
	case strings.HasPrefix(file, "Ingress "):
		f := strings.Fields(file)
		if len(f) >= 2 {
			return "Ingress " + f[1]
		}
	case strings.HasPrefix(file, "ConfigMap "):
		f := strings.Fields(file)
		if len(f) >= 4 && f[2] == "key" {
			return strings.Join(f[:4], " ")
		}
	}
	return ""
}

func dropConfigMapKeys(data map[string]string, drop map[string]bool) map[string]string {
	if len(drop) == 0 {
		return data
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		if !drop[k] {
			out[k] = v
		}
	}
	return out
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

// translation is one build of the AST.
type translation struct {
	st      *State
	o       *Options
	g       *globalConf
	ups     *upstreams
	certs   map[string][]byte
	notices []string
	http    []*config.Directive // http-level statements owned by Ingresses (zones, maps)
	maps    map[string]bool
	rejects map[string][]string // by object, found while building
}

// host is one server block: a host name (or "" for the default server)
// and its paths from every Ingress that names it.
type host struct {
	name    string
	owner   *ingConf // the oldest Ingress with a path here
	tls     string   // certificate path, "" for the default certificate
	regex   bool
	paths   []*pathRule
	seen    map[string]string // path key → Ingress key
	snippet []*config.Directive
	named   map[string]*config.Directive
	// clientCert is the client certificate authentication of the oldest
	// Ingress on the host that asks for it (it is the server's TLS).
	clientCert *clientCert
	conf       serverConf
}

type pathRule struct {
	path  string
	typ   netv1.PathType
	c     *ingConf
	ing   *netv1.Ingress
	up    string // upstream name, "" when there is nothing to proxy to
	defUp string // the default-backend's upstream
	// canary is the canary Ingress that shares this path, if any.
	canary *canaryRoute
}

func (t *translation) build(ings []*netv1.Ingress, confs []*ingConf) *config.AST {
	hosts := map[string]*host{}
	var order []string
	getHost := func(name string, c *ingConf) *host {
		h := hosts[name]
		if h == nil {
			h = &host{name: name, owner: c, seen: map[string]string{}, named: map[string]*config.Directive{}}
			hosts[name] = h
			order = append(order, name)
		}
		return h
	}
	getHost("", nil)
	for i, ing := range ings {
		c := confs[i]
		if c.canary != nil {
			continue // attached to the primaries' paths below
		}
		bal := t.balance(c)
		defUp := ""
		if c.defaultBackend.set {
			defUp = t.ups.backend(ing.Namespace, &netv1.IngressServiceBackend{Name: c.defaultBackend.s,
				Port: netv1.ServiceBackendPort{Number: 80}}, balance{}, "Ingress "+c.key+" default-backend")
			if defUp == "" {
				// Any port of the Service: ingress-nginx takes its first.
				if svc := t.ups.service(ing.Namespace, c.defaultBackend.s); svc != nil && len(svc.Spec.Ports) > 0 {
					defUp = t.ups.backend(ing.Namespace, &netv1.IngressServiceBackend{Name: c.defaultBackend.s,
						Port: netv1.ServiceBackendPort{Number: svc.Spec.Ports[0].Port}}, balance{}, "Ingress "+c.key+" default-backend")
				}
			}
		}
		if ing.Spec.DefaultBackend != nil && ing.Spec.DefaultBackend.Service != nil {
			h := getHost("", c)
			if _, dup := h.seen["catch-all"]; !dup {
				h.seen["catch-all"] = c.key
				up := t.ups.backend(ing.Namespace, ing.Spec.DefaultBackend.Service, bal, "Ingress "+c.key)
				h.paths = append(h.paths, &pathRule{path: "/", typ: netv1.PathTypePrefix, c: c, ing: ing, up: up, defUp: defUp})
			}
		}
		for _, rule := range ing.Spec.Rules {
			h := getHost(rule.Host, c)
			if h.owner == nil {
				h.owner = c
			}
			if c.useRegex || c.rewriteTarget.set {
				h.regex = true
			}
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				typ := netv1.PathTypeImplementationSpecific
				if p.PathType != nil {
					typ = *p.PathType
				}
				pp := p.Path
				if pp == "" {
					pp = "/"
				}
				k := string(typ) + " " + pp
				if prev, dup := h.seen[k]; dup {
					t.notices = append(t.notices, fmt.Sprintf("Ingress %s: path %s on host %q is Ingress %s's (the older): left out", c.key, pp, rule.Host, prev))
					continue
				}
				h.seen[k] = c.key
				if p.Backend.Resource != nil {
					t.notices = append(t.notices, fmt.Sprintf("Ingress %s: path %s has a resource backend, which wsgate cannot serve: it answers 503", c.key, pp))
				}
				up := t.ups.backend(ing.Namespace, p.Backend.Service, bal, "Ingress "+c.key)
				h.paths = append(h.paths, &pathRule{path: pp, typ: typ, c: c, ing: ing, up: up, defUp: defUp})
			}
		}
		for _, tl := range ing.Spec.TLS {
			cert := t.secretCert(ing.Namespace, tl.SecretName, c.key)
			for _, hn := range tl.Hosts {
				h := getHost(hn, c)
				if h.tls == "" && cert != "" {
					h.tls = cert
				}
				if h.tls == "" {
					h.tls = "-" // TLS asked for: ssl-redirect applies, with the default certificate
				}
			}
		}
		for _, rule := range ing.Spec.Rules {
			getHost(rule.Host, c).conf.merge(c.server)
		}
		t.readProxySSL(c, ing.Namespace)
		if c.clientCert != nil && t.readClientCA(c.key, c.clientCert) {
			for _, rule := range ing.Spec.Rules {
				if h := getHost(rule.Host, c); h.clientCert == nil {
					h.clientCert = c.clientCert
				}
			}
		}
		if len(c.serverSnippet) > 0 {
			for _, rule := range ing.Spec.Rules {
				h := getHost(rule.Host, c)
				h.snippet = append(h.snippet, c.serverSnippet...)
			}
		}
	}

	t.attachCanaries(hosts, ings, confs)
	var http []*config.Directive
	http = append(http, t.globals()...)
	var servers []*config.Directive
	sort.Strings(order[1:])
	for _, name := range order {
		servers = append(servers, t.server(hosts[name], hosts))
	}
	servers = append(servers, t.wwwRedirects(hosts, order)...)
	for _, name := range t.ups.order {
		http = append(http, t.ups.blocks[name])
	}
	http = append(http, t.http...)
	http = append(http, servers...)
	p := origin("wsgate-ingress")
	return &config.AST{Main: []*config.Directive{block(p, "events", nil), block(p, "http", nil, http...)}}
}

// balance is what c's annotations (or the ConfigMap) ask of the upstream.
func (t *translation) balance(c *ingConf) balance {
	switch {
	case c.affinity != nil:
		return balance{hashBy: "$" + t.affinityKey(c.affinity)}
	case c.hashBy.set:
		return balance{hashBy: c.hashBy.s}
	case c.loadBalance.set, t.g.loadBalance.set:
		return balance{leastConn: true}
	}
	return balance{}
}

// globals are the http-level statements every configuration has.
func (t *translation) globals() []*config.Directive {
	p := origin("wsgate-ingress")
	g := t.g
	out := []*config.Directive{
		block(p, "map", []string{"$http_upgrade", "$connection_upgrade"}, stmt(p, "default", "upgrade"), stmt(p, "", "close")),
		block(p, "map", []string{"$http_host", "$this_host"}, stmt(p, "default", "$http_host"), stmt(p, "", "$host")),
	}
	if g.useForwardedHeaders {
		out = append(out,
			block(p, "map", []string{"$http_x_forwarded_proto", "$pass_access_scheme"}, stmt(p, "default", "$http_x_forwarded_proto"), stmt(p, "", "$scheme")),
			block(p, "map", []string{"$http_x_forwarded_port", "$pass_server_port"}, stmt(p, "default", "$http_x_forwarded_port"), stmt(p, "", "$server_port")),
			block(p, "map", []string{"$http_x_forwarded_host", "$best_http_host"}, stmt(p, "default", "$http_x_forwarded_host"), stmt(p, "", "$this_host")),
			stmt(p, "real_ip_header", g.forwardedForHeader),
			stmt(p, "real_ip_recursive", "on"),
		)
		rp := g.realIPPos
		if rp.File == "" {
			rp = p
		}
		for _, c := range g.realIPCIDRs {
			out = append(out, stmt(rp, "set_real_ip_from", c))
		}
	}
	if g.computeFullForwardedFor {
		out = append(out, block(p, "map", []string{"$http_x_forwarded_for", "$full_x_forwarded_for"},
			stmt(p, "default", "$http_x_forwarded_for, $realip_remote_addr"), stmt(p, "", "$realip_remote_addr")))
	}
	if !g.accessLogOff && t.o.accessLog() != "off" {
		args := []string{"upstreaminfo"}
		if g.logEscape != "default" {
			args = append(args, "escape="+g.logEscape)
		}
		lp := g.logFormat.pos
		if lp.File == "" {
			lp = p
		}
		out = append(out, stmt(lp, "log_format", append(args, g.logFormat.s)...))
		out = append(out, stmt(lp, "access_log", t.o.accessLog(), "upstreaminfo"))
	} else {
		out = append(out, stmt(p, "access_log", "off"))
	}
	out = append(out, g.httpSnippet...)
	return out
}

// server renders h's server block.
func (t *translation) server(h *host, hosts map[string]*host) *config.Directive {
	p := origin("wsgate-ingress")
	if h.owner != nil && h.name != "" {
		p = h.owner.pos
	}
	httpL, httpsL := t.o.listens()
	name := h.name
	var body []*config.Directive
	if name == "" {
		body = append(body, stmt(p, "listen", httpL, "default_server"), stmt(p, "listen", httpsL, "ssl", "default_server"), stmt(p, "server_name", "_"))
	} else {
		body = append(body, stmt(p, "listen", httpL), stmt(p, "listen", httpsL, "ssl"), stmt(p, "server_name", t.serverNames(h, hosts, true)...))
	}
	cert := h.tls
	if cert == "" || cert == "-" {
		cert = t.defaultCert()
	}
	body = append(body, stmt(p, "ssl_certificate", cert), stmt(p, "ssl_certificate_key", cert))
	if h.clientCert != nil {
		body = append(body, h.clientCert.server()...)
	}
	body = append(body, h.conf.statements()...)
	body = append(body, t.g.serverSnippet...)
	body = append(body, h.snippet...)

	rules := h.paths
	sort.SliceStable(rules, func(i, j int) bool {
		if h.regex && len(rules[i].path) != len(rules[j].path) {
			return len(rules[i].path) > len(rules[j].path)
		}
		return rules[i].path < rules[j].path
	})
	hasRoot := false
	for _, r := range rules {
		for _, m := range t.matches(h, r) {
			if len(m) == 1 && m[0] == "/" {
				hasRoot = true
			}
			body = append(body, block(r.c.pos, "location", m, t.location(h, r, m)...))
		}
		extra := t.named(r)
		if a := t.extAuthInternal(r); a != nil {
			extra = append(extra, a)
		}
		for _, n := range extra {
			k := n.Args[len(n.Args)-1].Text
			if h.named[k] == nil {
				h.named[k] = n
				body = append(body, n)
			}
		}
	}
	if !hasRoot {
		// ingress-nginx's default backend answers what no path matches.
		body = append(body, block(p, "location", []string{"/"}, stmt(p, "return", "404")))
	}
	return block(p, "server", nil, body...)
}

// matches returns the location arguments of r: ingress-nginx's buildLocation.
func (t *translation) matches(h *host, r *pathRule) [][]string {
	pth := r.path
	if r.typ == netv1.PathTypeExact {
		return [][]string{{"=", pth}}
	}
	if h.regex {
		return [][]string{{"~*", "^" + pth}}
	}
	if r.typ == netv1.PathTypePrefix && pth != "/" {
		trimmed := strings.TrimRight(pth, "/")
		return [][]string{{trimmed + "/"}, {"=", trimmed}}
	}
	return [][]string{{pth}}
}

// location renders the body of one location of path rule r.
func (t *translation) location(h *host, r *pathRule, match []string) []*config.Directive {
	c, g := r.c, t.g
	p := c.pos
	var out []*config.Directive
	at := func(v value) config.Pos {
		if v.pos.File != "" {
			return v.pos
		}
		return p
	}
	if c.deny.set {
		for _, a := range strings.Split(c.deny.s, ",") {
			out = append(out, stmt(c.deny.pos, "deny", a))
		}
	}
	if c.allow.set {
		for _, a := range strings.Split(c.allow.s, ",") {
			out = append(out, stmt(c.allow.pos, "allow", a))
		}
		out = append(out, stmt(c.allow.pos, "deny", "all"))
	}
	sslRedirect := pick(c.sslRedirect, g.sslRedirect)
	force := pick(c.forceSSLRedirect, g.forceSSLRedirect)
	if (h.tls != "" && sslRedirect.s == "true") || force.s == "true" {
		rp := at(force)
		if force.s != "true" {
			rp = at(sslRedirect)
		}
		out = append(out, block(rp, "if", []string{"($scheme", "=", "http)"}, stmt(rp, "return", "308", "https://$host$request_uri")))
	}
	if c.cors != nil {
		out = append(out, t.cors(c.cors)...)
	}
	out = append(out, redirectLocation(c)...)
	if c.rewriteTarget.set {
		re := r.path
		if r.typ == netv1.PathTypeExact {
			re = "^" + regexp.QuoteMeta(re) + "$"
		}
		out = append(out, stmt(c.rewriteTarget.pos, "rewrite", "(?i)"+re, c.rewriteTarget.s, "break"))
	}
	out = append(out, t.limits(c)...)
	out = append(out, t.auth(c)...)
	out = append(out, extAuthLocation(r)...)
	out = append(out,
		stmt(at(pick(c.bodySize, g.bodySize)), "client_max_body_size", pick(c.bodySize, g.bodySize).s),
		stmt(at(pick(c.connectTimeout, g.connectTimeout)), "proxy_connect_timeout", pick(c.connectTimeout, g.connectTimeout).s),
		stmt(at(pick(c.sendTimeout, g.sendTimeout)), "proxy_send_timeout", pick(c.sendTimeout, g.sendTimeout).s),
		stmt(at(pick(c.readTimeout, g.readTimeout)), "proxy_read_timeout", pick(c.readTimeout, g.readTimeout).s),
	)
	if c.nextUpstream.set {
		out = append(out, stmt(c.nextUpstream.pos, "proxy_next_upstream", strings.Fields(c.nextUpstream.s)...))
	}
	if c.nextTries.set {
		out = append(out, stmt(c.nextTries.pos, "proxy_next_upstream_tries", c.nextTries.s))
	}
	if c.nextTimeout.set {
		out = append(out, stmt(c.nextTimeout.pos, "proxy_next_upstream_timeout", c.nextTimeout.s))
	}
	hv := pick(c.httpVersion, g.httpVersion)
	out = append(out, stmt(at(hv), "proxy_http_version", hv.s))
	out = append(out, proxyRewrites(c)...)
	out = append(out, c.proxySSL.statements()...)
	out = append(out, t.headers(c)...)
	if h.clientCert != nil {
		out = append(out, h.clientCert.location()...)
	}
	if c.affinity != nil {
		out = append(out, stmt(c.affinity.pos, "add_header", "Set-Cookie", "$"+t.affinityCookie(c.affinity, r.path, h.regex), "always"))
	}
	if c.customErrors.set {
		if r.defUp == "" {
			// parseAnnotations cannot know whether the default-backend
			// has endpoints; it is known here.
			t.reject(c.key, "annotation "+nginxPrefix+"custom-http-errors needs a default-backend annotation naming a Service with ready endpoints (wsgate-ingress has no built-in error backend)")
		} else {
			args := []string{}
			for _, s := range strings.Split(c.customErrors.s, ",") {
				args = append(args, strings.TrimSpace(s))
			}
			out = append(out, stmt(c.customErrors.pos, "proxy_intercept_errors", "on"))
			out = append(out, stmt(c.customErrors.pos, "error_page", append(args, "@custom_"+r.defUp)...))
		}
	}
	if c.accessLogOff.set {
		out = append(out, stmt(c.accessLogOff.pos, "access_log", "off"))
	}
	out = append(out, g.locSnippet...)
	out = append(out, c.confSnippet...)
	out = append(out, c.ws...)
	switch {
	case r.up != "" && r.canary != nil:
		out = append(out, stmt(r.canary.c.pos, "proxy_pass", c.backendScheme+"://"+t.canaryPass(r)))
	case r.up != "":
		out = append(out, stmt(p, "proxy_pass", c.backendScheme+"://"+r.up))
	case r.defUp != "":
		out = append(out, stmt(c.defaultBackend.pos, "proxy_pass", "http://"+r.defUp))
	default:
		out = append(out, stmt(p, "return", "503"))
	}
	return out
}

// named returns the named locations r's custom-http-errors go to.
func (t *translation) named(r *pathRule) []*config.Directive {
	c := r.c
	if !c.customErrors.set || r.defUp == "" {
		return nil
	}
	p := c.customErrors.pos
	return []*config.Directive{block(p, "location", []string{"@custom_" + r.defUp},
		stmt(p, "proxy_set_header", "X-Code", "$status"),
		stmt(p, "proxy_set_header", "X-Format", "$http_accept"),
		stmt(p, "proxy_set_header", "X-Original-URI", "$request_uri"),
		stmt(p, "proxy_set_header", "X-Namespace", r.ing.Namespace),
		stmt(p, "proxy_set_header", "X-Ingress-Name", r.ing.Name),
		stmt(p, "proxy_set_header", "X-Request-ID", "$request_id"),
		stmt(p, "proxy_pass", "http://"+r.defUp),
	)}
}

func pick(v, def value) value {
	if v.set {
		return v
	}
	return def
}

// headers are ingress-nginx's proxy_set_header lines (template
// nginx.tmpl, "location" section).
func (t *translation) headers(c *ingConf) []*config.Directive {
	p := c.pos
	g := t.g
	hostVar, schemeVar, portVar := "$this_host", "$scheme", "$server_port"
	if g.useForwardedHeaders {
		hostVar, schemeVar, portVar = "$best_http_host", "$pass_access_scheme", "$pass_server_port"
	}
	xff := "$remote_addr"
	if g.computeFullForwardedFor {
		xff = "$full_x_forwarded_for"
	}
	var out []*config.Directive
	if c.upstreamVhost.set {
		out = append(out, stmt(c.upstreamVhost.pos, "proxy_set_header", "Host", c.upstreamVhost.s))
	} else {
		out = append(out, stmt(p, "proxy_set_header", "Host", hostVar))
	}
	out = append(out,
		stmt(p, "proxy_set_header", "X-Request-ID", "$request_id"),
		stmt(p, "proxy_set_header", "X-Real-IP", "$remote_addr"),
		stmt(p, "proxy_set_header", g.forwardedForHeader, xff),
		stmt(p, "proxy_set_header", "X-Forwarded-Host", hostVar),
		stmt(p, "proxy_set_header", "X-Forwarded-Port", portVar),
		stmt(p, "proxy_set_header", "X-Forwarded-Proto", schemeVar),
		stmt(p, "proxy_set_header", "X-Forwarded-Scheme", schemeVar),
		stmt(p, "proxy_set_header", "X-Scheme", schemeVar),
		stmt(p, "proxy_set_header", "X-Original-URI", "$request_uri"),
	)
	if c.forwardedPrefix.set {
		out = append(out, stmt(c.forwardedPrefix.pos, "proxy_set_header", "X-Forwarded-Prefix", c.forwardedPrefix.s))
	}
	conn := "$connection_upgrade"
	if c.connHeader.set {
		conn = c.connHeader.s
	}
	out = append(out,
		stmt(p, "proxy_set_header", "Upgrade", "$http_upgrade"),
		stmt(posOr(c.connHeader, p), "proxy_set_header", "Connection", conn),
	)
	return out
}
