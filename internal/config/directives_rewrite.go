package config

import (
	"strings"
)

// This file holds ngx_http_rewrite_module's directives that wsgate
// implements: return only (rewrite, if, set and break are unsupported).

// rewriteDirectives are ngx_http_rewrite_module's.
func rewriteDirectives() map[string]*directive {
	return map[string]*directive{
		"return": {ctx: ctxServer | ctxLocation, min: 1, max: 2, set: setReturn},
	}
}

// setReturn is ngx_http_rewrite_return: "return code [text]" or "return URL".
func setReturn(c *checker, f *frame, d *Directive, _ bool) {
	r := &Return{Pos: d.Pos}
	a := d.Args[0]
	if len(d.Args) == 1 && (strings.HasPrefix(a.Text, "http://") || strings.HasPrefix(a.Text, "https://") || strings.HasPrefix(a.Text, "$scheme")) {
		r.Code, r.Text = 302, a.Text
	} else {
		n, ok := parseNumber(a.Text)
		if !ok || n > 999 {
			c.errorf(a.Pos, "invalid return code %q", a.Text)
			return
		}
		r.Code = int(n)
		if len(d.Args) == 2 {
			r.Text = d.Args[1].Text
		}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Return = r })
}
