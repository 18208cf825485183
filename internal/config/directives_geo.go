package config

import (
	"strings"

	"wsgate/internal/geo"
)

// This file holds ngx_http_geo_module's and
// ngx_http_split_clients_module's directives. Both define a variable as
// map does, and share map's place in the Spec (Map.Geo, Map.Split), so
// that a later block of the same variable replaces an earlier one and
// the value is computed once per request, as for a map.

// geoDirectives are the geo and split_clients modules' directives.
func geoDirectives() map[string]*directive {
	return map[string]*directive{
		"geo":           {ctx: ctxHTTP, min: 1, max: 2, block: true, set: setGeo},
		"split_clients": {ctx: ctxHTTP, min: 2, max: 2, block: true, set: setSplitClients},
	}
}

// blockVariable reads "$name" as ngx_http_geo_block and
// ngx_conf_split_clients_block do.
func (c *checker) blockVariable(a Word) (string, bool) {
	if !strings.HasPrefix(a.Text, "$") || !nameOK(a.Text[1:]) {
		c.errorf(a.Pos, "invalid variable name %q", a.Text)
		return "", false
	}
	return a.Text[1:], true
}

// setGeo is ngx_http_geo_block with its line handler ngx_http_geo:
// "geo [$address] $variable { ... }". The block's lines are "ranges"
// (first), "proxy_recursive", "proxy CIDR", "default V", "delete NET",
// "include FILE" (expanded by the parser; nginx's binary ".bin" bases
// are not read) and "NET V", NET a CIDR or, with ranges, an IPv4 range.
// Each line is checked here against a table built as nginx builds it,
// so that its errors (an overlapping range) come at their line.
func setGeo(c *checker, f *frame, d *Directive, _ bool) {
	m := &Map{Pos: d.Pos, Geo: &Geo{}}
	name := d.Args[0]
	if len(d.Args) == 2 {
		if !strings.HasPrefix(name.Text, "$") {
			c.errorf(name.Pos, "invalid variable name %q", name.Text)
			return
		}
		m.Source, name = name.Text, d.Args[1]
	}
	v, ok := c.blockVariable(name)
	if !ok {
		return
	}
	m.Var = v
	g := m.Geo
	var t *geo.Table
	for _, e := range d.Block {
		if e.HasBlock {
			c.errorf(e.Pos, "unexpected \"{\"")
			continue
		}
		if len(e.Args) == 0 {
			switch e.Name {
			case "ranges":
				if t != nil && !t.Ranges() {
					c.errorf(e.Pos, "the \"ranges\" directive must be the first directive inside \"geo\" block")
					continue
				}
				g.Ranges = true
				continue
			case "proxy_recursive":
				g.ProxyRecursive = true
				continue
			}
		}
		if len(e.Args) != 1 {
			c.errorf(e.Pos, "invalid number of the geo parameters")
			continue
		}
		arg := e.Args[0].Text
		if e.Name == "proxy" {
			p, low, ok := geo.ParseCIDR(arg)
			if !ok {
				c.errorf(e.Args[0].Pos, "invalid network %q", arg)
				continue
			}
			if low {
				c.notice(e.Args[0].Pos, "low address bits of %s are meaningless", arg)
			}
			g.Proxies = append(g.Proxies, p)
			continue
		}
		if t == nil {
			t = geo.NewTable(g.Ranges)
		}
		ge := GeoEntry{Pos: e.Pos, Net: e.Name, Value: arg}
		switch e.Name {
		case "default":
			ge.Default = true
			t.SetDefault(arg)
			g.Entries = append(g.Entries, ge)
			continue
		case "delete":
			ge.Delete, ge.Net, ge.Value = true, arg, ""
		}
		if g.Ranges {
			s, en, ok := geo.ParseRange(ge.Net)
			if !ok {
				c.errorf(e.Pos, "invalid range %q", ge.Net)
				continue
			}
			ge.Start, ge.End = s, en
			if ge.Delete {
				t.DeleteRange(s, en)
			} else if _, err := t.AddRange(ge.Net, s, en, ge.Value); err != nil {
				c.errorf(e.Pos, "%v", err)
				continue
			}
		} else {
			p, low, ok := geo.ParseCIDR(ge.Net)
			if !ok {
				c.errorf(e.Pos, "invalid network %q", ge.Net)
				continue
			}
			if low {
				c.notice(e.Pos, "low address bits of %s are meaningless", ge.Net)
			}
			ge.Prefix = p
		}
		g.Entries = append(g.Entries, ge)
	}
	c.http.h.Maps = append(c.http.h.Maps, m)
}

// setSplitClients is ngx_conf_split_clients_block with its line handler:
// "split_clients STRING $variable { PERCENT% VALUE; ... * VALUE; }".
func setSplitClients(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := c.blockVariable(d.Args[1])
	if !ok {
		return
	}
	m := &Map{Pos: d.Pos, Source: d.Args[0].Text, Var: v}
	var percents []uint32
	var values []string
	for _, e := range d.Block {
		if e.HasBlock {
			c.errorf(e.Pos, "unexpected \"{\"")
			continue
		}
		if len(e.Args) != 1 {
			c.errorf(e.Pos, "invalid number of the split_clients parameters")
			continue
		}
		sp := SplitPart{Pos: e.Pos, Value: e.Args[0].Text}
		if e.Name != "*" {
			p, ok := geo.ParsePercent(e.Name)
			if !ok {
				c.errorf(e.Pos, "invalid percent value %q", e.Name)
				continue
			}
			sp.Percent = p
		}
		percents = append(percents, sp.Percent)
		values = append(values, sp.Value)
		m.Split = append(m.Split, sp)
	}
	if _, err := geo.NewSplit(percents, values); err != nil {
		c.errorf(d.Pos, "%v", err)
		return
	}
	if m.Split == nil {
		m.Split = []SplitPart{}
	}
	c.http.h.Maps = append(c.http.h.Maps, m)
}
