package config

import (
	"strings"
)

// This file holds the preaccess phase's limits:
// ngx_http_limit_req_module's limit_req_zone, limit_req,
// limit_req_status, limit_req_log_level and limit_req_dry_run, and
// ngx_http_limit_conn_module's counterparts. The zones are http-level
// definitions (Spec.HTTP.LimitZones); the rest are location settings
// (LocConf.LimitReq, LocConf.LimitConn), which internal/limit compiles
// and internal/pipeline runs.

// limitsDirectives are the limit_req and limit_conn modules'.
func limitsDirectives() map[string]*directive {
	return map[string]*directive{
		"limit_req_zone": {ctx: ctxHTTP, min: 3, max: 3, set: setLimitZone},
		"limit_req":      {ctx: ctxHTTPAll, min: 1, max: 3, set: setLimitReq},
		"limit_req_status": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(limitStatusArg,
			func(l *LocConf) *int { return &l.LimitReq.Status })},
		"limit_req_log_level": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("info", "notice", "warn", "error"),
			func(l *LocConf) *string { return &l.LimitReq.LogLevel })},
		"limit_req_dry_run": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg,
			func(l *LocConf) *bool { return &l.LimitReq.DryRun })},
		// limit_rate and limit_rate_after are ngx_http_core_module's,
		// paced by its write filter.
		"limit_rate": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: 1, once: true, set: onLoc(sizeValueArg,
			func(l *LocConf) **Value { return &l.LimitRate })},
		"limit_rate_after": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: 1, once: true, set: onLoc(sizeValueArg,
			func(l *LocConf) **Value { return &l.LimitRateAfter })},
		"limit_conn_zone": {ctx: ctxHTTP, min: 2, max: 2, set: setLimitZone},
		"limit_conn":      {ctx: ctxHTTPAll, min: 2, max: 2, set: setLimitConn},
		"limit_conn_status": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(limitStatusArg,
			func(l *LocConf) *int { return &l.LimitConn.Status })},
		"limit_conn_log_level": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("info", "notice", "warn", "error"),
			func(l *LocConf) *string { return &l.LimitConn.LogLevel })},
		"limit_conn_dry_run": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg,
			func(l *LocConf) *bool { return &l.LimitConn.DryRun })},
	}
}

// sizeValueArg is ngx_http_set_complex_value_size_slot: a size, or a
// string with variables whose value is read as a size per request.
func sizeValueArg(c *checker, d *Directive) (*Value, bool) {
	a := d.Args[0]
	if !strings.Contains(a.Text, "$") {
		if _, ok := ParseSize(a.Text); !ok {
			c.errorf(a.Pos, "%q directive invalid value", d.Name)
			return nil, false
		}
	}
	return &Value{Pos: a.Pos, Text: a.Text}, true
}

// minZoneSize is the smallest zone nginx takes: 8 pages of 4 KiB.
const minZoneSize = 8 * 4096

// limitStatusArg is ngx_conf_set_num_slot with
// ngx_conf_check_num_bounds 400..599.
func limitStatusArg(c *checker, d *Directive) (int, bool) {
	v, ok := numArg(c, d)
	if ok && (v < 400 || v > 599) {
		c.errorf(d.Args[0].Pos, "value must be between 400 and 599")
		return 0, false
	}
	return v, ok
}

// setLimitZone is ngx_http_limit_req_zone ("limit_req_zone KEY
// zone=NAME:SIZE rate=Nr/s|Nr/m") and ngx_http_limit_conn_zone
// ("limit_conn_zone KEY zone=NAME:SIZE"). A name is bound to one key and
// one use.
func setLimitZone(c *checker, f *frame, d *Directive, _ bool) {
	z := &LimitZone{Pos: d.Pos, Conn: d.Name == "limit_conn_zone", Key: d.Args[0].Text, Rate: 1000}
	for _, a := range d.Args[1:] {
		switch {
		case strings.HasPrefix(a.Text, "zone="):
			name, size, ok := strings.Cut(a.Text[5:], ":")
			n, sizeOK := ParseSize(size)
			if !ok || !sizeOK {
				c.errorf(a.Pos, "invalid zone size %q", a.Text)
				return
			}
			if n < minZoneSize {
				c.errorf(a.Pos, "zone %q is too small", a.Text)
				return
			}
			z.Name, z.Size = name, n
		case strings.HasPrefix(a.Text, "rate=") && !z.Conn:
			v, scale := a.Text[5:], int64(1)
			switch {
			case strings.HasSuffix(v, "r/s"):
				v = v[:len(v)-3]
			case strings.HasSuffix(v, "r/m"):
				v, scale = v[:len(v)-3], 60
			}
			r, ok := parseNumber(v)
			if !ok || r <= 0 {
				c.errorf(a.Pos, "invalid rate %q", a.Text)
				return
			}
			z.Rate = r * 1000 / scale
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if z.Name == "" {
		c.errorf(d.Pos, "%q must have \"zone\" parameter", d.Name)
		return
	}
	for _, o := range c.http.h.LimitZones {
		if o.Name != z.Name {
			continue
		}
		if o.Conn != z.Conn {
			c.errorf(d.Pos, "the shared memory zone %q is already declared for a different use", z.Name)
		} else {
			c.errorf(d.Pos, "%s %q is already bound to key %q", d.Name, z.Name, o.Key)
		}
		return
	}
	c.http.h.LimitZones = append(c.http.h.LimitZones, z)
}

// setLimitReq is ngx_http_limit_req: "limit_req zone=NAME [burst=N]
// [nodelay | delay=N]". The first limit_req of a level drops the
// inherited ones (ngx_http_limit_req_merge_conf copies the parent's
// array only when the level has none); a zone may appear once per level.
func setLimitReq(c *checker, f *frame, d *Directive, first bool) {
	r := LimitReqRule{Pos: d.Pos}
	for _, a := range d.Args {
		switch {
		case strings.HasPrefix(a.Text, "zone="):
			r.Zone = a.Text[5:]
		case strings.HasPrefix(a.Text, "burst="):
			v, ok := parseNumber(a.Text[6:])
			if !ok || v <= 0 {
				c.errorf(a.Pos, "invalid burst value %q", a.Text)
				return
			}
			r.Burst = v
		case strings.HasPrefix(a.Text, "delay="):
			v, ok := parseNumber(a.Text[6:])
			if !ok || v <= 0 {
				c.errorf(a.Pos, "invalid delay value %q", a.Text)
				return
			}
			r.Delay, r.NoDelay = v, false
		case a.Text == "nodelay":
			r.NoDelay = true
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if r.Zone == "" {
		c.errorf(d.Pos, "%q must have \"zone\" parameter", d.Name)
		return
	}
	// f.seen also remembers the zones the block's lines named.
	if f.seen["\x00req:"+r.Zone] {
		c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		return
	}
	f.seen["\x00req:"+r.Zone] = true
	c.limitRefs = append(c.limitRefs, limitRef{pos: d.Pos, zone: r.Zone, directive: d.Name})
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.LimitReq.Rules = nil
		}
		l.LimitReq.Rules = append(l.LimitReq.Rules, r)
	})
}

// setLimitConn is ngx_http_limit_conn: "limit_conn NAME N", inherited as
// limit_req is.
func setLimitConn(c *checker, f *frame, d *Directive, first bool) {
	r := LimitConnRule{Pos: d.Pos, Zone: d.Args[0].Text}
	n, ok := parseNumber(d.Args[1].Text)
	if !ok || n <= 0 || n > 65535 {
		c.errorf(d.Args[1].Pos, "invalid number of connections %q", d.Args[1].Text)
		return
	}
	r.Conn = int(n)
	// f.seen also remembers the zones the block's lines named.
	if f.seen["\x00conn:"+r.Zone] {
		c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		return
	}
	f.seen["\x00conn:"+r.Zone] = true
	c.limitRefs = append(c.limitRefs, limitRef{pos: d.Pos, zone: r.Zone, conn: true, directive: d.Name})
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.LimitConn.Rules = nil
		}
		l.LimitConn.Rules = append(l.LimitConn.Rules, r)
	})
}

// limitRef is a limit_req or limit_conn naming a zone, checked once the
// whole configuration is read (a zone may be defined after its use).
type limitRef struct {
	pos       Pos
	zone      string
	conn      bool
	directive string
}

// checkLimitRefs reports limits whose zone no limit_req_zone or
// limit_conn_zone defines: nginx's "zero size shared memory zone", or a
// zone of the other module's.
func (c *checker) checkLimitRefs() {
	for _, r := range c.limitRefs {
		var z *LimitZone
		for _, o := range c.http.h.LimitZones {
			if o.Name == r.zone {
				z = o
			}
		}
		switch {
		case z == nil:
			c.errorf(r.pos, "zero size shared memory zone %q: no %s_zone defines it", r.zone, r.directive)
		case z.Conn != r.conn:
			c.errorf(r.pos, "the shared memory zone %q is already declared for a different use", r.zone)
		}
	}
}
