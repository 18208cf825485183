package config

import (
	"net/netip"
	"slices"
	"strings"
)

// This file holds the access phase's directives: ngx_http_access_module's
// allow and deny, which make each level's list of address rules
// (AccessRule), the first match deciding, and
// ngx_http_auth_basic_module's auth_basic and auth_basic_user_file, and
// satisfy, which says whether a request must pass both or either. They
// run in the access phase (internal/access, internal/pipeline).

// accessDirectives are allow, deny, satisfy, auth_basic,
// auth_basic_user_file, auth_request and auth_request_set.
// nginx takes them in http, server, location and limit_except blocks.
func accessDirectives() map[string]*directive {
	return map[string]*directive{
		"allow":        {ctx: ctxHTTPAll | ctxLimit, min: 1, max: 1, set: setAccessRule},
		"deny":         {ctx: ctxHTTPAll | ctxLimit, min: 1, max: 1, set: setAccessRule},
		"limit_except": {ctx: ctxLocation, min: 1, max: unbounded, block: true, set: setLimitExcept},
		// satisfy is ngx_http_core_module's, the rule that combines them.
		"satisfy": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(satisfyArg, func(l *LocConf) *bool { return &l.SatisfyAny })},
		"auth_basic": {ctx: ctxHTTPAll | ctxLimit, min: 1, max: 1, once: true, set: onLoc(valueArg, func(l *LocConf) **Value {
			return &l.AuthBasic
		})},
		"auth_basic_user_file": {ctx: ctxHTTPAll | ctxLimit, min: 1, max: 1, once: true, set: onLoc(valueArg, func(l *LocConf) **Value {
			return &l.AuthBasicUserFile
		})},
		// ngx_http_auth_request_module.
		"auth_request":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(authRequestArg, func(l *LocConf) *string { return &l.AuthRequest })},
		"auth_request_set": {ctx: ctxHTTPAll, min: 2, max: 2, set: setAuthRequestSet},
	}
}

// authRequestArg reads "auth_request uri|off": "" for off.
func authRequestArg(c *checker, d *Directive) (string, bool) {
	if d.Args[0].Text == "off" {
		return "", true
	}
	return d.Args[0].Text, true
}

// setAuthRequestSet is ngx_http_auth_request_set: "auth_request_set
// $variable value". The variable is declared as set declares it
// (ngx_http_add_variable with NGX_HTTP_VAR_CHANGEABLE); a level with
// lines of its own drops the inherited ones (all or nothing, as
// ngx_http_auth_request_merge_conf).
func setAuthRequestSet(c *checker, f *frame, d *Directive, first bool) {
	a := d.Args[0]
	if !strings.HasPrefix(a.Text, "$") || len(a.Text) == 1 {
		c.errorf(a.Pos, "invalid variable name %q", a.Text)
		return
	}
	name := strings.ToLower(a.Text[1:])
	if c.setVars == nil {
		c.setVars = map[string]bool{}
	}
	if !c.setVars[name] {
		c.setVars[name] = true
		c.http.h.SetVariables = append(c.http.h.SetVariables, VarDecl{Pos: a.Pos, Name: name})
	}
	line := AuthRequestSet{Pos: d.Pos, Var: name, Value: d.Args[1].Text}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.AuthRequestSet = nil
		}
		l.AuthRequestSet = append(l.AuthRequestSet, line)
	})
}

// limitMethods are the methods limit_except may name
// (ngx_methods_names).
var limitMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "MKCOL", "COPY", "MOVE",
	"OPTIONS", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH"}

// setLimitExcept is ngx_http_core_limit_except: "limit_except method ...
// { ... }". The methods named (any case; GET brings HEAD) keep the
// location's configuration; a request with any other method, or one
// nginx does not know, is checked with the block's. wsgate's block holds
// the access directives; a location with rewrite module directives may
// not have one, because nginx would not run them for the block's
// requests (the block's configuration has none of its own), which
// wsgate's phases do not model.
func setLimitExcept(c *checker, f *frame, d *Directive, _ bool) {
	if f.loc.limit != nil {
		c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		return
	}
	le := &LimitExcept{Pos: d.Pos}
	for _, a := range d.Args {
		i := slices.IndexFunc(limitMethods, func(m string) bool { return strings.EqualFold(m, a.Text) })
		if i < 0 {
			c.errorf(a.Pos, "invalid method %q", a.Text)
			return
		}
		if !slices.Contains(le.Methods, limitMethods[i]) {
			le.Methods = append(le.Methods, limitMethods[i])
		}
	}
	if slices.Contains(le.Methods, "GET") && !slices.Contains(le.Methods, "HEAD") {
		le.Methods = append(le.Methods, "HEAD")
	}
	ll := &limitLevel{le: le}
	f.loc.limit = ll
	nf := c.newFrame(ctxLimit)
	nf.lvl, nf.loc, nf.server = &ll.level, f.loc, f.server
	c.walk(nf, d.Block)
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
