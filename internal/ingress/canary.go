package ingress

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// canary is what an Ingress with canary: "true" asks for: its paths do
// not route on their own but send a share of the requests of the same
// host and path of another Ingress (the primary) to the canary's
// Service, chosen as ingress-nginx chooses: canary-by-header first
// ("always" or canary-by-header-value or a match of
// canary-by-header-pattern sends to the canary, "never" to the primary,
// anything else goes on), then canary-by-cookie ("always", "never"),
// then canary-weight out of canary-weight-total. A WebSocket is routed
// once, at its handshake.
type canary struct {
	header, headerValue, headerPattern, cookie value
	weight, total                              int
	pos                                        config.Pos
}

// parseCanary reads canary and the canary-* annotations; nil unless
// canary is "true".
func parseCanary(get, boolean, number func(string) value, bad func(name, format string, args ...any)) *canary {
	on := boolean("canary")
	if on.s != "true" {
		for _, n := range []string{"canary-by-header", "canary-by-header-value", "canary-by-header-pattern", "canary-by-cookie", "canary-weight", "canary-weight-total"} {
			if get(n).set {
				bad(n, "needs canary: \"true\"")
			}
		}
		return nil
	}
	c := &canary{header: get("canary-by-header"), headerValue: get("canary-by-header-value"),
		headerPattern: get("canary-by-header-pattern"), cookie: get("canary-by-cookie"), total: 100, pos: on.pos}
	for _, v := range []struct {
		name string
		v    value
	}{{"canary-by-header", c.header}, {"canary-by-cookie", c.cookie}} {
		if v.v.set && !cookieName(v.v.s) {
			bad(v.name, "%q is not a header or cookie name", v.v.s)
		}
	}
	if c.headerPattern.set {
		if _, err := regexp.Compile(c.headerPattern.s); err != nil {
			bad("canary-by-header-pattern", "%q is not a regular expression: %v", c.headerPattern.s, err)
		}
	}
	if t := number("canary-weight-total"); t.set {
		c.total, _ = strconv.Atoi(t.s)
	}
	if w := get("canary-weight"); w.set {
		n, err := strconv.Atoi(w.s)
		if err != nil || n < 0 || n > c.total {
			bad("canary-weight", "%q is not a weight from 0 to %d", w.s, c.total)
		} else {
			c.weight = n
		}
	}
	return c
}

// canaryRoute is a canary attached to a primary's path.
type canaryRoute struct {
	c  *canary
	up string // the canary Service's upstream
}

// attachCanaries gives each path of the canary Ingresses to the primary
// path of the same host, type and path; a canary path without one is
// ignored with a notice, as ingress-nginx ignores it.
func (t *translation) attachCanaries(hosts map[string]*host, ings []*netv1.Ingress, confs []*ingConf) {
	for i, ing := range ings {
		c := confs[i]
		if c.canary == nil {
			continue
		}
		for _, rule := range ing.Spec.Rules {
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
				var primary *pathRule
				if h := hosts[rule.Host]; h != nil {
					for _, r := range h.paths {
						if r.path == pp && r.typ == typ && r.c.canary == nil {
							primary = r
						}
					}
				}
				if primary == nil {
					t.notices = append(t.notices, fmt.Sprintf("Ingress %s: canary path %s on host %q has no primary Ingress: ignored", c.key, pp, rule.Host))
					continue
				}
				up := t.ups.backend(ing.Namespace, p.Backend.Service, t.balance(primary.c), "Ingress "+c.key)
				if up == "" || primary.up == "" {
					continue
				}
				primary.canary = &canaryRoute{c: c.canary, up: up}
			}
		}
	}
}

// canaryPass returns the upstream variable a path with a canary proxies
// to, after adding the maps that choose it at the http level.
func (t *translation) canaryPass(r *pathRule) string {
	cr := r.canary
	c, p := cr.c, cr.c.pos
	id := "canary_" + shortHash(r.c.key+" "+string(r.typ)+" "+r.path+" "+cr.up)
	h, k, w := "", "", "0"
	if c.header.set {
		entries := []*config.Directive{stmt(p, "default", ""), stmt(p, "never", "0")}
		switch {
		case c.headerValue.set:
			entries = append(entries, stmt(p, c.headerValue.s, "1"))
		case c.headerPattern.set:
			entries = append(entries, stmt(p, "~"+c.headerPattern.s, "1"))
		default:
			entries = append(entries, stmt(p, "always", "1"))
		}
		h = "$" + id + "_h"
		t.addMap(h, block(p, "map", []string{"$http_" + strings.ReplaceAll(strings.ToLower(c.header.s), "-", "_"), h}, entries...))
	}
	if c.cookie.set {
		k = "$" + id + "_c"
		t.addMap(k, block(p, "map", []string{"$cookie_" + c.cookie.s, k},
			stmt(p, "default", ""), stmt(p, "always", "1"), stmt(p, "never", "0")))
	}
	switch {
	case c.weight >= c.total && c.total > 0:
		w = "1"
	case c.weight > 0:
		w = "$" + id + "_w"
		pct := strconv.FormatFloat(float64(c.weight)*100/float64(c.total), 'f', -1, 64)
		if i := strings.IndexByte(pct, '.'); i >= 0 && len(pct) > i+3 {
			pct = pct[:i+3]
		}
		t.addMap(w, block(p, "split_clients", []string{"$request_id", w}, stmt(p, pct+"%", "1"), stmt(p, "*", "0")))
	}
	v := "$" + id
	t.addMap(v, block(p, "map", []string{h + ":" + k + ":" + w, v},
		stmt(p, "default", r.up),
		stmt(p, "~^1:", cr.up), stmt(p, "~^0:", r.up),
		stmt(p, "~^:1:", cr.up), stmt(p, "~^:0:", r.up),
		stmt(p, "~^::1$", cr.up)))
	return v
}
