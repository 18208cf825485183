package config

import "strings"

// This file holds the directives of ngx_http_gzip_filter_module (gzip,
// gzip_types, gzip_comp_level, gzip_min_length), of
// ngx_http_gunzip_filter_module (gunzip; gunzip_buffers is accepted with
// a notice), of ngx_http_gzip_static_module (gzip_static) and those of
// ngx_http_core_module that say when a response may be compressed
// (gzip_vary, gzip_proxied, gzip_disable, gzip_http_version). The filter
// is internal/bodyfilter's; gzip_buffers, gzip_window, gzip_hash,
// gzip_no_buffer and postpone_gzipping tune zlib and nginx's buffers and
// are accepted with a notice.

// gzipDirectives are the gzip filter's: http, server and location; gzip
// itself also in a location's if block (NGX_HTTP_LIF_CONF).
func gzipDirectives() map[string]*directive {
	gz := func(l *LocConf) *GzipConf { return &l.Gzip }
	return map[string]*directive{
		"gzip": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: 1, once: true,
			set: onLoc(flagArg, func(l *LocConf) *bool { return &gz(l).On })},
		"gzip_types": {ctx: ctxHTTPAll, min: 1, max: unbounded, set: typesSlot(func(l *LocConf) *[]string { return &l.Gzip.Types })},
		"gzip_comp_level": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(func(c *checker, d *Directive) (int, bool) {
			n, ok := parseNumber(d.Args[0].Text)
			if !ok {
				c.errorf(d.Args[0].Pos, "%q directive invalid number", d.Name)
				return 0, false
			}
			if n < 1 || n > 9 {
				c.errorf(d.Args[0].Pos, "the value must be in 1..9 range")
				return 0, false
			}
			return int(n), true
		}, func(l *LocConf) *int { return &gz(l).CompLevel })},
		"gzip_min_length": {ctx: ctxHTTPAll, min: 1, max: 1, once: true,
			set: onLoc(sizeArg, func(l *LocConf) *int64 { return &gz(l).MinLength })},
		"gzip_vary": {ctx: ctxHTTPAll, min: 1, max: 1, once: true,
			set: onLoc(flagArg, func(l *LocConf) *bool { return &gz(l).Vary })},
		"gzip_http_version": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(func(c *checker, d *Directive) (int, bool) {
			switch d.Args[0].Text {
			case "1.0":
				return 10, true
			case "1.1":
				return 11, true
			}
			c.errorf(d.Args[0].Pos, "invalid value \"%s\" in \"%s\" directive, it must be \"1.0\" or \"1.1\"", d.Args[0].Text, d.Name)
			return 0, false
		}, func(l *LocConf) *int { return &gz(l).HTTPVersion })},
		"gzip_proxied": {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setGzipProxied},
		"gzip_disable": {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setGzipDisable},
		// ngx_http_gzip_static_module.
		"gzip_static": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(func(c *checker, d *Directive) (GzipStatic, bool) {
			switch d.Args[0].Text {
			case "off":
				return GzipStaticOff, true
			case "on":
				return GzipStaticOn, true
			case "always":
				return GzipStaticAlways, true
			}
			c.errorf(d.Args[0].Pos, "invalid value \"%s\" in \"%s\" directive, it must be \"off\", \"on\" or \"always\"", d.Args[0].Text, d.Name)
			return 0, false
		}, func(l *LocConf) *GzipStatic { return &gz(l).Static })},
		// ngx_http_gunzip_filter_module.
		"gunzip": {ctx: ctxHTTPAll, min: 1, max: 1, once: true,
			set: onLoc(flagArg, func(l *LocConf) *bool { return &gz(l).Gunzip })},
	}
}

// setGzipProxied is ngx_conf_set_bitmask_slot: the values of every
// gzip_proxied line of a level add up (a value given twice is a
// warning); the level's first line replaces what it inherits.
func setGzipProxied(c *checker, f *frame, d *Directive, first bool) {
	var p GzipProxied
	for _, a := range d.Args {
		bit, ok := gzipProxiedNames[a.Text]
		if !ok {
			c.errorf(a.Pos, "invalid value \"%s\" in \"%s\" directive", a.Text, d.Name)
			return
		}
		p |= bit
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.Gzip.Proxied = 0
		}
		l.Gzip.Proxied |= p
	})
}

// typesSlot is ngx_http_types_slot with text/html as the default type:
// a level's first line starts a list that holds text/html, each line
// adds its types, and "*" stands for any type from then on.
func typesSlot(field func(*LocConf) *[]string) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		var ts []string
		any := false
		for _, a := range d.Args {
			if a.Text == "*" {
				any = true
				break
			}
			ts = append(ts, strings.ToLower(a.Text))
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			list := field(l)
			switch {
			case first && any:
				*list = []string{"*"}
			case first:
				*list = append([]string{"text/html"}, ts...)
			case len(*list) == 1 && (*list)[0] == "*":
			case any:
				*list = []string{"*"}
			default:
				*list = append(append([]string(nil), *list...), ts...)
			}
		})
	}
}

// gzipProxiedNames are gzip_proxied's values (ngx_http_gzip_proxied_mask).
var gzipProxiedNames = map[string]GzipProxied{
	"off": GzipProxiedOff, "expired": GzipProxiedExpired, "no-cache": GzipProxiedNoCache,
	"no-store": GzipProxiedNoStore, "private": GzipProxiedPrivate, "no_last_modified": GzipProxiedNoLM,
	"no_etag": GzipProxiedNoETag, "auth": GzipProxiedAuth, "any": GzipProxiedAny,
}

// setGzipDisable is ngx_http_gzip_disable: "msie6" is the old MSIE test,
// "degradation" is refused (it needs the degradation module), anything
// else a case-insensitive regular expression matched against User-Agent.
// The lines of a level add up; the list and the msie6 test are
// inherited on their own.
func setGzipDisable(c *checker, f *frame, d *Directive, first bool) {
	var res []string
	msie6 := false
	for _, a := range d.Args {
		switch a.Text {
		case "msie6":
			msie6 = true
			continue
		case "degradation":
			c.errorf(a.Pos, "\"gzip_disable degradation\" is not supported by wsgate: it needs nginx's degradation module")
			return
		}
		re, ok := c.convertRegex(a.Pos, a.Text, true)
		if !ok {
			return
		}
		res = append(res, re)
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if msie6 {
			l.Gzip.DisableMSIE6 = true
		}
		if first {
			l.Gzip.Disable = nil
		}
		if len(res) > 0 {
			l.Gzip.Disable = append(append([]string(nil), l.Gzip.Disable...), res...)
		}
	})
}
