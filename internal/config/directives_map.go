package config

import (
	"strings"
)

// This file holds ngx_http_map_module's directive.

// mapDirectives are ngx_http_map_module's.
func mapDirectives() map[string]*directive {
	return map[string]*directive{
		"map": {ctx: ctxHTTP, min: 2, max: 2, block: true, set: setMap},
	}
}

// setMap is ngx_http_map_block with its line handler ngx_http_map.
func setMap(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[1]
	if !strings.HasPrefix(v.Text, "$") || !nameOK(strings.TrimSuffix(strings.TrimPrefix(v.Text[1:], "{"), "}")) {
		c.errorf(v.Pos, "invalid variable name %q", strings.TrimPrefix(v.Text, "$"))
		return
	}
	m := &Map{Pos: d.Pos, Source: d.Args[0].Text, Var: strings.TrimSuffix(strings.TrimPrefix(v.Text[1:], "{"), "}")}
	hasDefault := false
	seen := map[string]bool{}
	for _, e := range d.Block {
		n := len(e.Args) + 1
		switch {
		case e.HasBlock:
			c.errorf(e.Pos, "unexpected \"{\"")
			continue
		case n == 1 && e.Name == "hostnames":
			m.Hostnames = true
			continue
		case n == 1 && e.Name == "volatile":
			m.Volatile = true
			continue
		case n != 2:
			c.errorf(e.Pos, "invalid number of the map parameters")
			continue
		case e.Name == "default":
			if hasDefault {
				c.errorf(e.Pos, "duplicate default map parameter")
				continue
			}
			hasDefault, m.Default = true, e.Args[0].Text
			continue
		}
		me := MapEntry{Pos: e.Pos, Key: e.Name, Value: e.Args[0].Text}
		switch {
		case strings.HasPrefix(me.Key, "~*"):
			me.Regex, me.NoCase, me.Key = true, true, me.Key[2:]
		case strings.HasPrefix(me.Key, "~"):
			me.Regex, me.Key = true, me.Key[1:]
		}
		if me.Regex {
			re, ok := c.convertRegex(e.Pos, me.Key, me.NoCase)
			if !ok {
				continue
			}
			me.Key = re
			m.Entries = append(m.Entries, me)
			continue
		}
		if strings.HasPrefix(me.Key, "\\") {
			me.Key = me.Key[1:]
		}
		me.Key = strings.ToLower(me.Key)
		if m.Hostnames && strings.Contains(me.Key, "*") {
			k := me.Key
			if !(strings.HasPrefix(k, "*.") && !strings.Contains(k[2:], "*") ||
				strings.HasSuffix(k, ".*") && !strings.Contains(k[:len(k)-2], "*")) {
				c.errorf(e.Pos, "invalid hostname or wildcard %q", e.Name)
				continue
			}
		}
		if m.Hostnames && strings.HasSuffix(me.Key, ".") && !strings.HasSuffix(me.Key, "*.") {
			me.Key = strings.TrimSuffix(me.Key, ".")
		}
		if seen[me.Key] {
			c.errorf(e.Pos, "conflicting parameter %q", me.Key)
			continue
		}
		seen[me.Key] = true
		m.Entries = append(m.Entries, me)
	}
	c.http.h.Maps = append(c.http.h.Maps, m)
}

// nameOK reports whether s is a plausible variable name ([A-Za-z0-9_]+).
func nameOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}
