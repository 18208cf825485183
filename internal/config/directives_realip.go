package config

import "strings"

// This file holds ngx_http_realip_module's directives: set_real_ip_from,
// real_ip_header and real_ip_recursive, which let a trusted proxy name
// the client ($remote_addr) in a header or a PROXY protocol header. They
// run in the post-read phase with the server's settings and again in the
// preaccess phase with the location's (internal/access, pipeline).

// realipDirectives are the realip module's directives; nginx takes them
// in http, server and location blocks.
func realipDirectives() map[string]*directive {
	return map[string]*directive{
		"set_real_ip_from": {ctx: ctxHTTPAll, min: 1, max: 1, set: setRealIPFrom},
		"real_ip_header": {ctx: ctxHTTPAll, min: 1, max: 1, set: onLoc(valueText, func(l *LocConf) *string {
			return &l.RealIP.Header
		})},
		"real_ip_recursive": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool {
			return &l.RealIP.Recursive
		})},
	}
}

// valueText reads a one-argument value as it is written.
func valueText(c *checker, d *Directive) (string, bool) { return d.Args[0].Text, true }

// setRealIPFrom is ngx_http_realip_from: "set_real_ip_from
// address|CIDR|unix:". A CIDR whose host bits are set is masked, with
// nginx's warning. The first set_real_ip_from of a level drops the
// inherited list (ngx_http_realip_merge_loc_conf takes the parent's only
// where a level has none). A host name stands for the addresses it
// resolves to when the configuration is loaded (see RealIPFrom.Host).
func setRealIPFrom(c *checker, f *frame, d *Directive, first bool) {
	a := d.Args[0]
	from := RealIPFrom{Pos: a.Pos}
	if a.Text == "unix:" {
		from.Unix = true
	} else {
		p, ok := parseAccessAddr(a.Text)
		switch {
		case ok:
			if m := p.Masked(); m != p {
				c.notice(a.Pos, "low address bits of %s are meaningless", a.Text)
				p = m
			}
			from.CIDR = p.String()
		case isHostName(a.Text):
			from.Host = strings.ToLower(a.Text)
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.RealIP.From = nil
		}
		l.RealIP.From = append(l.RealIP.From, from)
	})
}

// isHostName reports whether s may be a host name: letters, digits,
// hyphens and dots, with a letter or hyphen somewhere (so that a
// malformed IPv4 address is not taken for one).
func isHostName(s string) bool {
	letter := false
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-':
			letter = true
		case c >= '0' && c <= '9' || c == '.':
		default:
			return false
		}
	}
	return letter
}
