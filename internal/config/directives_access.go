package config

import (
	"net/netip"
	"strings"
)

// This file holds the access phase's directives: ngx_http_access_module's
// allow and deny, which make each level's list of address rules
// (AccessRule), the first match deciding, and
// ngx_http_auth_basic_module's auth_basic and auth_basic_user_file, and
// satisfy, which says whether a request must pass both or either. They
// run in the access phase (internal/access, internal/pipeline).

// accessDirectives are allow, deny, satisfy, auth_basic and
// auth_basic_user_file.
// nginx takes them in http, server, location and limit_except blocks.
func accessDirectives() map[string]*directive {
	return map[string]*directive{
		"allow": {ctx: ctxHTTPAll, min: 1, max: 1, set: setAccessRule},
		"deny":  {ctx: ctxHTTPAll, min: 1, max: 1, set: setAccessRule},
		// satisfy is ngx_http_core_module's, the rule that combines them.
		"satisfy": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(satisfyArg, func(l *LocConf) *bool { return &l.SatisfyAny })},
		"auth_basic": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(valueArg, func(l *LocConf) **Value {
			return &l.AuthBasic
		})},
		"auth_basic_user_file": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(valueArg, func(l *LocConf) **Value {
			return &l.AuthBasicUserFile
		})},
	}
}

// satisfyArg reads "satisfy all|any": true for any.
func satisfyArg(c *checker, d *Directive) (bool, bool) {
	v, ok := enumArg("all", "any")(c, d)
	return v == "any", ok
}

// valueArg reads a one-argument value that may hold variables, with its
// position for the errors of its compilation.
func valueArg(c *checker, d *Directive) (*Value, bool) {
	return &Value{Pos: d.Args[0].Pos, Text: d.Args[0].Text}, true
}

// setAccessRule is ngx_http_access_rule: "allow|deny address|CIDR|unix:|all".
// A CIDR whose host bits are set is masked, with nginx's warning. The
// first allow or deny of a level drops the inherited list: nginx inherits
// the rules all or nothing (ngx_http_access_merge_loc_conf).
func setAccessRule(c *checker, f *frame, d *Directive, first bool) {
	other := "deny"
	if d.Name == "deny" {
		other = "allow"
	}
	first = first && !f.seen[other]
	a := d.Args[0]
	rule := AccessRule{Pos: d.Pos, Deny: d.Name == "deny"}
	switch {
	case a.Text == "all":
		rule.All = true
	case a.Text == "unix:":
		rule.Unix = true
	default:
		p, ok := parseAccessAddr(a.Text)
		if !ok {
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
		if m := p.Masked(); m != p {
			c.notice(a.Pos, "low address bits of %s are meaningless", a.Text)
			p = m
		}
		rule.CIDR = p.String()
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.Access = nil
		}
		l.Access = append(l.Access, rule)
	})
}

// parseAccessAddr reads an address or CIDR as ngx_ptocidr does: a bare
// address is a host prefix (/32, /128).
func parseAccessAddr(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, false
		}
		return p, true
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(ip, ip.BitLen()), true
}
