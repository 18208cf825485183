package config

import (
	"strconv"
	"strings"
	"time"
)

// This file holds ngx_http_proxy_module's cache directives and
// ngx_http_file_cache_set_slot's proxy_cache_path (Spec.HTTP.CachePaths;
// the rest are LocConf.Cache), which internal/cache stores and
// internal/proxy follows.

// cacheDirectives are proxy_cache's.
func cacheDirectives() map[string]*directive {
	return map[string]*directive{
		"proxy_cache_path": {ctx: ctxHTTP, min: 2, max: unbounded, set: setCachePath},
		"proxy_cache":      {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: setProxyCache},
		"proxy_cache_key": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(valueArg,
			func(l *LocConf) **Value { return &l.Cache.Key })},
		"proxy_cache_valid":   {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setCacheValid},
		"proxy_cache_methods": {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(cacheMethodsArg, func(l *LocConf) *[]string { return &l.Cache.Methods })},
		"proxy_cache_bypass":  {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setCachePredicate(func(l *LocConf) *[]Value { return &l.Cache.Bypass })},
		"proxy_no_cache":      {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setCachePredicate(func(l *LocConf) *[]Value { return &l.Cache.NoCache })},
		"proxy_cache_use_stale": {ctx: ctxHTTPAll, min: 1, max: unbounded, set: bitmaskOnLoc(useStaleArg,
			func(l *LocConf) *CacheStale { return &l.Cache.UseStale })},
		"proxy_cache_lock": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.Cache.Lock })},
		"proxy_cache_lock_timeout": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg,
			func(l *LocConf) *time.Duration { return &l.Cache.LockTimeout })},
		"proxy_cache_lock_age": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg,
			func(l *LocConf) *time.Duration { return &l.Cache.LockAge })},
		"proxy_cache_min_uses": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(numArg, func(l *LocConf) *int { return &l.Cache.MinUses })},
		"proxy_cache_revalidate": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg,
			func(l *LocConf) *bool { return &l.Cache.Revalidate })},
		"proxy_cache_convert_head": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg,
			func(l *LocConf) *bool { return &l.Cache.ConvertHead })},
		"proxy_cache_background_update": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg,
			func(l *LocConf) *bool { return &l.Cache.BackgroundUpdate })},
	}
}

// bitmaskOnLoc is ngx_conf_set_bitmask_slot: each directive of a level
// adds its names to the level's set, which replaces an inherited one.
func bitmaskOnLoc[T ~uint16](parse argParser[T], field func(*LocConf) *T) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		v, ok := parse(c, d)
		if !ok {
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			p := field(l)
			if first {
				*p = 0
			}
			*p |= v
		})
	}
}

// setCachePath is ngx_http_file_cache_set_slot: "proxy_cache_path PATH
// [levels=L] [use_temp_path=on|off] keys_zone=NAME:SIZE [inactive=T]
// [max_size=S] [min_free=S] [manager_*=] [loader_*=]".
func setCachePath(c *checker, f *frame, d *Directive, _ bool) {
	p := &CachePath{Pos: d.Pos, Path: d.Args[0].Text, Inactive: 10 * time.Minute, UseTempPath: true}
	for _, a := range d.Args[1:] {
		name, v, _ := strings.Cut(a.Text, "=")
		switch name {
		case "levels":
			parts := strings.Split(v, ":")
			if len(parts) > 3 {
				c.errorf(a.Pos, "invalid \"levels\" %q", a.Text)
				return
			}
			for _, l := range parts {
				if l != "1" && l != "2" {
					c.errorf(a.Pos, "invalid \"levels\" %q", a.Text)
					return
				}
				p.Levels = append(p.Levels, int(l[0]-'0'))
			}
		case "use_temp_path":
			on, ok := ParseFlag(v)
			if !ok {
				c.errorf(a.Pos, "invalid use_temp_path value %q, it must be \"on\" or \"off\"", v)
				return
			}
			p.UseTempPath = on
		case "keys_zone":
			zn, size, ok := strings.Cut(v, ":")
			n, sizeOK := ParseSize(size)
			if !ok || zn == "" || !sizeOK {
				c.errorf(a.Pos, "invalid keys zone size %q", a.Text)
				return
			}
			if n < minZoneSize {
				c.errorf(a.Pos, "keys zone %q is too small", a.Text)
				return
			}
			p.Name, p.KeysSize = zn, n
		case "inactive":
			t, ok := ParseTime(v, true)
			if !ok {
				c.errorf(a.Pos, "invalid inactive value %q", a.Text)
				return
			}
			p.Inactive = t
		case "max_size", "min_free":
			n, ok := ParseSize(v)
			if !ok {
				c.errorf(a.Pos, "invalid %s value %q", name, a.Text)
				return
			}
			if name == "max_size" {
				p.MaxSize = n
			} else {
				p.MinFree = n
			}
		case "loader_files", "manager_files":
			if _, ok := parseNumber(v); !ok {
				c.errorf(a.Pos, "invalid %s value %q", name, a.Text)
				return
			}
			c.notice(a.Pos, "%q accepted: wsgate's loader and manager pace themselves", name)
		case "loader_sleep", "loader_threshold", "manager_sleep", "manager_threshold":
			if _, ok := ParseTime(v, false); !ok {
				c.errorf(a.Pos, "invalid %s value %q", name, a.Text)
				return
			}
			c.notice(a.Pos, "%q accepted: wsgate's loader and manager pace themselves", name)
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if p.Name == "" {
		c.errorf(d.Pos, "%q must have \"keys_zone\" parameter", d.Name)
		return
	}
	for _, o := range c.http.h.CachePaths {
		if o.Name == p.Name {
			c.errorf(d.Pos, "duplicate zone %q", p.Name)
			return
		}
		if o.Path == p.Path {
			c.errorf(d.Pos, "duplicate %q path %q", d.Name, p.Path)
			return
		}
	}
	c.http.h.CachePaths = append(c.http.h.CachePaths, p)
}

// setProxyCache is ngx_http_proxy_cache: "off" or a zone, maybe with
// variables (nginx 1.7.9). A location with proxy_store cannot cache.
func setProxyCache(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	var v *Value
	if a.Text != "off" {
		v = &Value{Pos: a.Pos, Text: a.Text}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Cache.Zone = v })
}

// setCacheValid is ngx_http_file_cache_valid_set_slot: "[code ...|any]
// time"; a time alone is for 200, 301 and 302. Inherited all or nothing.
func setCacheValid(c *checker, f *frame, d *Directive, first bool) {
	last := d.Args[len(d.Args)-1]
	t, ok := ParseTime(last.Text, true)
	if !ok {
		c.errorf(last.Pos, "invalid time value %q", last.Text)
		return
	}
	v := CacheValid{Time: t}
	if len(d.Args) == 1 {
		v.Statuses = []int{200, 301, 302}
	}
	for _, a := range d.Args[:len(d.Args)-1] {
		if a.Text == "any" {
			v.Statuses = append(v.Statuses, 0)
			continue
		}
		n, err := strconv.Atoi(a.Text)
		if err != nil || n < 1 || n > 599 {
			c.errorf(a.Pos, "invalid status %q", a.Text)
			return
		}
		v.Statuses = append(v.Statuses, n)
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.Cache.Valid = nil
		}
		l.Cache.Valid = append(l.Cache.Valid, v)
	})
}

// cacheMethodsArg is proxy_cache_methods (ngx_http_upstream_cache_
// method_mask): GET, HEAD and POST; GET and HEAD are always in.
func cacheMethodsArg(c *checker, d *Directive) ([]string, bool) {
	var m []string
	for _, a := range d.Args {
		switch a.Text {
		case "GET", "HEAD":
		case "POST":
			m = append(m, "POST")
		default:
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return nil, false
		}
	}
	return m, true
}

// setCachePredicate makes proxy_cache_bypass and proxy_no_cache's
// setter (ngx_http_set_predicate_slot): each directive's values join
// the level's list, which replaces an inherited one.
func setCachePredicate(list func(*LocConf) *[]Value) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		vals := make([]Value, len(d.Args))
		for i, a := range d.Args {
			vals[i] = Value{Pos: a.Pos, Text: a.Text}
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			p := list(l)
			if first {
				*p = nil
			}
			*p = append(*p, vals...)
		})
	}
}

var useStaleNames = map[string]CacheStale{
	"error": StaleError, "timeout": StaleTimeout, "invalid_header": StaleInvalidHeader, "updating": StaleUpdating,
	"http_500": StaleHTTP500, "http_502": StaleHTTP502, "http_503": StaleHTTP503, "http_504": StaleHTTP504,
	"http_403": StaleHTTP403, "http_404": StaleHTTP404, "http_429": StaleHTTP429, "off": 0,
}

// useStaleArg is proxy_cache_use_stale's bitmask.
func useStaleArg(c *checker, d *Directive) (CacheStale, bool) {
	var m CacheStale
	for _, a := range d.Args {
		v, ok := useStaleNames[a.Text]
		if !ok {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return 0, false
		}
		if a.Text == "off" {
			m = 0
			continue
		}
		m |= v
	}
	return m, true
}
