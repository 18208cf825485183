package config

import (
	"strconv"
	"strings"
	"time"
)

// This file holds ngx_http_log_module's directives (error_log is a core
// directive, in directives_core.go).

// logDirectives are ngx_http_log_module's.
func logDirectives() map[string]*directive {
	return map[string]*directive{
		"log_format":          {ctx: ctxHTTP, min: 2, max: unbounded, set: setLogFormat},
		"access_log":          {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: unbounded, set: setAccessLog},
		"open_log_file_cache": {ctx: ctxHTTPAll, min: 1, max: 4, once: true, set: setOpenLogFileCache},
	}
}

// combinedFormat is nginx's predefined log format (ngx_http_log_module).
const combinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// setLogFormat is ngx_http_log_set_format: "name [escape=default|json|none] string ...".
func setLogFormat(c *checker, f *frame, d *Directive, _ bool) {
	name := d.Args[0].Text
	if name == "combined" || c.hasLogFormat(name) {
		c.errorf(d.Args[0].Pos, "duplicate \"log_format\" name %q", name)
		return
	}
	lf := &LogFormat{Pos: d.Pos, Name: name, Escape: "default"}
	args := d.Args[1:]
	if v, ok := strings.CutPrefix(args[0].Text, "escape="); ok {
		if v != "default" && v != "json" && v != "none" {
			c.errorf(args[0].Pos, "unknown log format escaping %q", v)
			return
		}
		lf.Escape = v
		args = args[1:]
		if len(args) == 0 {
			c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
			return
		}
	}
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.Text)
	}
	lf.Format = b.String()
	c.http.h.LogFormats = append(c.http.h.LogFormats, lf)
}

// setAccessLog is ngx_http_log_set_log: "off" or "path [format
// [buffer=size] [flush=time] [if=condition]]"; inherited all-or-nothing.
func setAccessLog(c *checker, f *frame, d *Directive, first bool) {
	if d.Args[0].Text == "off" {
		if len(d.Args) != 1 {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.AccessLogs = nil; l.AccessLogOff = true })
		return
	}
	al := AccessLog{Pos: d.Pos, Path: d.Args[0].Text, Format: "combined", Vars: strings.Contains(d.Args[0].Text, "$")}
	rest := d.Args[1:]
	if len(rest) > 0 && !strings.Contains(rest[0].Text, "=") {
		al.Format = rest[0].Text
		rest = rest[1:]
		if al.Format != "combined" && !c.hasLogFormat(al.Format) {
			c.errorf(d.Args[1].Pos, "unknown log format %q", al.Format)
			return
		}
	}
	for _, a := range rest {
		switch {
		case strings.HasPrefix(a.Text, "buffer="):
			n, ok := ParseSize(a.Text[len("buffer="):])
			if !ok {
				c.errorf(a.Pos, "invalid buffer size %q", a.Text[len("buffer="):])
				return
			}
			al.Buffer = n
		case strings.HasPrefix(a.Text, "flush="):
			v, ok := ParseTime(a.Text[len("flush="):], false)
			if !ok {
				c.errorf(a.Pos, "invalid flush time %q", a.Text[len("flush="):])
				return
			}
			al.Flush = v
		case strings.HasPrefix(a.Text, "if="):
			al.If = a.Text[len("if="):]
		case a.Text == "gzip":
			al.Gzip = 1 // Z_BEST_SPEED, as nginx
		case strings.HasPrefix(a.Text, "gzip="):
			n, err := strconv.Atoi(a.Text[len("gzip="):])
			if err != nil || n < 1 || n > 9 {
				c.errorf(a.Pos, "invalid compression level \"%s\"", a.Text[len("gzip="):])
				return
			}
			al.Gzip = n
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if al.Gzip > 0 && al.Buffer == 0 {
		al.Buffer = 64 << 10 // nginx's buffer for a gzip'ed log without buffer=
	}
	if al.Flush > 0 && al.Buffer == 0 {
		c.errorf(d.Pos, "no buffer is defined for access_log %q", al.Path)
		return
	}
	if al.Buffer > 0 && al.Vars {
		c.errorf(d.Pos, "buffered logs cannot have variables in name")
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.AccessLogs = nil
			l.AccessLogOff = false
		}
		l.AccessLogs = append(l.AccessLogs, al)
	})
}

// setOpenLogFileCache is ngx_http_log_open_file_cache: "off" or "max=N
// [inactive=time] [min_uses=N] [valid=time]"; without max= it is off.
func setOpenLogFileCache(c *checker, f *frame, d *Directive, _ bool) {
	oc := &OpenLogFileCache{Pos: d.Pos, Inactive: 10 * time.Second, MinUses: 1, Valid: 60 * time.Second}
	for _, a := range d.Args {
		k, v, _ := strings.Cut(a.Text, "=")
		ok := true
		switch {
		case a.Text == "off":
			oc.Max = 0
		case k == "max" || k == "min_uses":
			n, err := strconv.Atoi(v)
			ok = err == nil && n >= 0
			if k == "max" {
				oc.Max = n
			} else {
				oc.MinUses = n
			}
		case k == "inactive" || k == "valid":
			t, tok := ParseTime(v, true)
			ok = tok
			if k == "inactive" {
				oc.Inactive = t
			} else {
				oc.Valid = t
			}
		default:
			ok = false
		}
		if !ok {
			c.errorf(a.Pos, "invalid \"open_log_file_cache\" parameter \"%s\"", a.Text)
			return
		}
	}
	if oc.Max == 0 {
		oc = nil
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.OpenLogFileCache = oc })
}

func (c *checker) hasLogFormat(name string) bool {
	for _, lf := range c.http.h.LogFormats {
		if lf.Name == name {
			return true
		}
	}
	return false
}
