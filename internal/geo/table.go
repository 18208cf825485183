package geo

import (
	"fmt"
	"net/netip"
	"slices"
)

// Table is one geo{} block's networks (ngx_http_geo_module): in cidr
// mode a longest-prefix match over IPv4 and IPv6 networks (nginx's radix
// trees), in ranges mode IPv4 ranges kept per /16 as nginx keeps them.
// Build it with Add/Delete (cidr) or AddRange/DeleteRange (ranges) and
// SetDefault, in file order; after that it is read-only and safe for
// concurrent Lookups.
type Table struct {
	ranges bool

	// cidr mode: values by prefix, and the prefix lengths in use,
	// longest first, for each family.
	v4, v6         map[netip.Prefix]string
	v4Bits, v6Bits []int

	// ranges mode: low[addr>>16] are the ranges of that /16, ordered
	// and disjoint; def is the "default" value.
	low [][]span
	def string
}

// span is ngx_http_geo_range_t: the low 16 bits of a range within a /16.
type span struct {
	start, end uint16
	value      string
}

// NewTable returns an empty table; ranges selects ranges mode.
func NewTable(ranges bool) *Table {
	t := &Table{ranges: ranges}
	if ranges {
		t.low = make([][]span, 0x10000)
	} else {
		t.v4 = make(map[netip.Prefix]string)
		t.v6 = make(map[netip.Prefix]string)
	}
	return t
}

// Ranges reports whether t is in ranges mode.
func (t *Table) Ranges() bool { return t.ranges }

// Add sets the value of the network p (cidr mode). dup reports that p
// had a value, which v replaces (nginx's "duplicate network" warning,
// old being the value replaced).
func (t *Table) Add(p netip.Prefix, v string) (old string, dup bool) {
	m, bits := t.family(p)
	old, dup = m[p]
	m[p] = v
	if !dup && !slices.Contains(*bits, p.Bits()) {
		*bits = append(*bits, p.Bits())
		slices.SortFunc(*bits, func(a, b int) int { return b - a })
	}
	return old, dup
}

// SetDefault is "default V": in cidr mode the networks 0.0.0.0/0 and
// ::/0, in ranges mode the value of addresses in no range.
func (t *Table) SetDefault(v string) {
	if t.ranges {
		t.def = v
		return
	}
	t.Add(netip.PrefixFrom(netip.IPv4Unspecified(), 0), v)
	t.Add(netip.PrefixFrom(netip.IPv6Unspecified(), 0), v)
}

// Default is the ranges-mode default value.
func (t *Table) Default() string { return t.def }

// Delete removes the network p (cidr mode, "delete NET"); false when p
// had no value ("no network X to delete", nginx's warning).
func (t *Table) Delete(p netip.Prefix) bool {
	m, _ := t.family(p)
	if _, ok := m[p]; !ok {
		return false
	}
	delete(m, p)
	return true
}

func (t *Table) family(p netip.Prefix) (map[netip.Prefix]string, *[]int) {
	if p.Addr().Is4() {
		return t.v4, &t.v4Bits
	}
	return t.v6, &t.v6Bits
}

// Lookup returns the value for a (ok false: the address did not parse
// or was not found, which nginx looks up as 255.255.255.255). An
// IPv4-mapped IPv6 address is looked up among the IPv4 networks
// (ngx_http_geo_cidr_variable, ngx_http_geo_range_variable). An address
// in no network is "" (nginx's empty value), unless a default is set.
func (t *Table) Lookup(a netip.Addr, ok bool) string {
	if !ok {
		a = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if t.ranges {
		if !a.Is4() {
			a = netip.AddrFrom4([4]byte{255, 255, 255, 255})
		}
		b := a.As4()
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		lo := uint16(n)
		for _, s := range t.low[n>>16] {
			if lo >= s.start && lo <= s.end {
				return s.value
			}
		}
		return t.def
	}
	m, bits := t.v4, t.v4Bits
	if a.Is6() {
		m, bits = t.v6, t.v6Bits
	}
	for _, n := range bits {
		p, _ := a.Prefix(n)
		if v, ok := m[p]; ok {
			return v
		}
	}
	return ""
}

// AddRange is ngx_http_geo_add_range: it gives start-end the value v,
// splitting a range that holds it whole, and replacing one that is the
// same (dup then reports nginx's "duplicate range" warning). A range
// that overlaps another only in part is an error, nginx's: range "net"
// overlaps "a.b.c.d-e.f.g.h".
func (t *Table) AddRange(net string, start, end uint32, v string) (dup bool, err error) {
	for n := start; n <= end; n = (n + 0x10000) & 0xffff0000 {
		h := n >> 16
		s, e := uint32(0), uint32(0xffff)
		if n == start {
			s = n & 0xffff
		}
		if n|0xffff > end {
			e = end & 0xffff
		}
		a := t.low[h]
		added := false
		for i := len(a) - 1; i >= 0 && !added; i-- {
			rs, re := uint32(a[i].start), uint32(a[i].end)
			switch {
			case e < rs:
				continue
			case s > re:
				// after the range
				a = slices.Insert(a, i+1, span{uint16(s), uint16(e), v})
			case s == rs && e == re:
				dup = true
				a[i].value = v
			case s > rs && e < re:
				// split the range and put the new one inside
				a = slices.Insert(a, i+1, span{uint16(s), uint16(e), v}, span{uint16(e + 1), a[i].end, a[i].value})
				a[i].end = uint16(s - 1)
			case s == rs && e < re:
				// the new range first, then the rest of the old one
				a = slices.Insert(a, i, span{uint16(s), uint16(e), v})
				a[i+1].start = uint16(e + 1)
			case s > rs && e == re:
				a = slices.Insert(a, i+1, span{uint16(s), uint16(e), v})
				a[i].end = uint16(s - 1)
			default:
				return dup, fmt.Errorf("range %q overlaps \"%d.%d.%d.%d-%d.%d.%d.%d\"", net,
					h>>8, h&0xff, rs>>8, rs&0xff, h>>8, h&0xff, re>>8, re&0xff)
			}
			added = true
		}
		if !added {
			a = slices.Insert(a, 0, span{uint16(s), uint16(e), v})
		}
		t.low[h] = a
		if h == 0xffff {
			break
		}
	}
	return dup, nil
}

// DeleteRange is ngx_http_geo_delete_range: it removes, in each /16 the
// range covers, the range with exactly those bounds. missing reports a
// /16 that had none ("no address range X to delete", nginx's warning).
func (t *Table) DeleteRange(start, end uint32) (missing bool) {
	for n := start; n <= end; n = (n + 0x10000) & 0xffff0000 {
		h := n >> 16
		s, e := uint32(0), uint32(0xffff)
		if n == start {
			s = n & 0xffff
		}
		if n|0xffff > end {
			e = end & 0xffff
		}
		a := t.low[h]
		i := slices.IndexFunc(a, func(r span) bool { return uint32(r.start) == s && uint32(r.end) == e })
		if i < 0 {
			missing = true
		} else {
			t.low[h] = slices.Delete(a, i, i+1)
		}
		if h == 0xffff {
			break
		}
	}
	return missing
}
