package geo

import (
	"net/netip"
	"strings"
)

// ParseIPv4 is ngx_inet_addr: dotted decimal, exactly four parts, each at
// most 255; leading zeros are decimal and an empty part is 0 ("1..2.3"
// is 1.0.2.3), as nginx reads them. 255.255.255.255 is INADDR_NONE to
// nginx, so ok is false for it.
func ParseIPv4(s string) (addr uint32, ok bool) {
	var octet uint32
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if octet = octet*10 + uint32(c-'0'); octet > 255 {
				return 0, false
			}
		case c == '.':
			addr = addr<<8 | octet
			octet = 0
			dots++
		default:
			return 0, false
		}
	}
	if dots != 3 {
		return 0, false
	}
	addr = addr<<8 | octet
	return addr, addr != 0xffffffff
}

// ParseAddr is ngx_parse_addr: an IPv4 address as ParseIPv4 reads it, or
// an IPv6 one without a zone. An IPv4-mapped IPv6 address stays IPv6;
// Table.Lookup looks it up among the IPv4 networks.
func ParseAddr(s string) (netip.Addr, bool) {
	if a, ok := ParseIPv4(s); ok {
		return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), true
	}
	if strings.IndexByte(s, ':') < 0 || strings.IndexByte(s, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// ParseCIDR is ngx_ptocidr: "addr" (a whole address) or "addr/bits".
// lowBits is true when the address had bits set below the mask, which
// are dropped ("low address bits of X are meaningless", nginx's warning).
// geo reads "255.255.255.255" as that one address (ngx_http_geo_cidr_value).
func ParseCIDR(s string) (p netip.Prefix, lowBits bool, ok bool) {
	if s == "255.255.255.255" {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), 32), false, true
	}
	addr, bits, hasBits := strings.Cut(s, "/")
	var a netip.Addr
	if v4, ok4 := ParseIPv4(addr); ok4 {
		a = netip.AddrFrom4([4]byte{byte(v4 >> 24), byte(v4 >> 16), byte(v4 >> 8), byte(v4)})
	} else if a6, ok6 := ParseAddr(addr); ok6 {
		a = a6
	} else {
		return netip.Prefix{}, false, false
	}
	if !hasBits {
		return netip.PrefixFrom(a, a.BitLen()), false, true
	}
	n := 0
	if bits == "" {
		return netip.Prefix{}, false, false
	}
	for i := 0; i < len(bits); i++ {
		c := bits[i]
		if c < '0' || c > '9' {
			return netip.Prefix{}, false, false
		}
		if n = n*10 + int(c-'0'); n > 128 {
			return netip.Prefix{}, false, false
		}
	}
	if n > a.BitLen() {
		return netip.Prefix{}, false, false
	}
	p = netip.PrefixFrom(a, n)
	m := p.Masked()
	return m, m.Addr() != a, true
}

// ParseRange reads a ranges-mode network, "a.b.c.d-e.f.g.h"
// (ngx_http_geo_range: both ends by ngx_inet_addr, start <= end).
func ParseRange(s string) (start, end uint32, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	if start, ok = ParseIPv4(a); !ok {
		return 0, 0, false
	}
	if end, ok = ParseIPv4(b); !ok {
		return 0, 0, false
	}
	return start, end, start <= end
}
