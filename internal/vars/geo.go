package vars

import (
	"net/netip"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/fwdaddr"
	"wsgate/internal/geo"
)

// This file evaluates geo{} (ngx_http_geo_module) and split_clients{}
// (ngx_http_split_clients_module) variables. Both are compiled as map
// blocks are (config.Map.Geo, config.Map.Split) and share their per-request
// cache: the value is computed once per request.

// geoVar is a compiled geo{} block.
type geoVar struct {
	table     *geo.Table
	proxies   fwdaddr.Trusted
	recursive bool
}

// compileGeo builds the block's table from its lines, in file order
// (ngx_http_geo_block).
func compileGeo(g *config.Geo) *geoVar {
	t := geo.NewTable(g.Ranges)
	for _, e := range g.Entries {
		switch {
		case e.Default:
			t.SetDefault(e.Value)
		case g.Ranges && e.Delete:
			t.DeleteRange(e.Start, e.End)
		case g.Ranges:
			// Overlaps were refused when the block was read.
			_, _ = t.AddRange(e.Net, e.Start, e.End, e.Value)
		case e.Delete:
			t.Delete(e.Prefix)
		default:
			t.Add(e.Prefix, e.Value)
		}
	}
	return &geoVar{table: t, proxies: fwdaddr.Trusted(g.Proxies), recursive: g.ProxyRecursive}
}

// eval is ngx_http_geo_cidr_variable and ngx_http_geo_range_variable:
// the address is the client's ($remote_addr, after realip), or the
// source variable's value (not found or not an address: looked up as
// 255.255.255.255); then, when proxy lines are set and the request has
// X-Forwarded-For, the address a trusted proxy names there
// (ngx_http_geo_addr).
func (g *geoVar) eval(m *compiledMap, c *Ctx) string {
	var s string
	found := true
	if m.src == nil {
		s = c.RemoteAddr
	} else {
		mark := len(c.scratch)
		if len(m.src.parts) == 1 {
			s, found, _ = m.src.c.stringValue(c, &m.src.parts[0])
		} else {
			c.scratch = m.src.Append(c.scratch, c)
			s = string(c.scratch[mark:])
			c.scratch = c.scratch[:mark]
		}
	}
	a, ok := netip.Addr{}, false
	if found {
		a, ok = fwdaddr.ParseAddr(s)
	}
	if ok && g.proxies != nil && hasXFF(c.Headers) {
		cur := netip.AddrPortFrom(a, 0)
		fwdaddr.Lines(&cur, XFFLastFirst(c.Headers), &g.proxies, g.recursive)
		a = cur.Addr()
	}
	return g.table.Lookup(a, ok)
}

func hasXFF(hdrs []Header) bool {
	for i := range hdrs {
		if strings.EqualFold(hdrs[i].Name, "X-Forwarded-For") {
			return true
		}
	}
	return false
}

// XFFLastFirst yields the values of the X-Forwarded-For lines of hdrs,
// the last line first, as ngx_http_get_forwarded_addr reads them.
func XFFLastFirst(hdrs []Header) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for i := len(hdrs) - 1; i >= 0; i-- {
			if strings.EqualFold(hdrs[i].Name, "X-Forwarded-For") && !yield(hdrs[i].Value) {
				return
			}
		}
	}
}

// compileSplit compiles a split_clients{} block's parts.
func compileSplit(parts []config.SplitPart) *geo.Split {
	percents := make([]uint32, len(parts))
	values := make([]string, len(parts))
	for i, p := range parts {
		percents[i], values[i] = p.Percent, p.Value
	}
	sp, _ := geo.NewSplit(percents, values) // the total was checked when read
	return sp
}

// evalSplit is ngx_http_split_clients_variable: the source string's
// MurmurHash2 picks the part.
func (m *compiledMap) evalSplit(c *Ctx) string {
	mark := len(c.scratch)
	c.scratch = m.src.Append(c.scratch, c)
	v := m.split.Pick(c.scratch[mark:])
	c.scratch = c.scratch[:mark]
	return v
}
