// Package fwdaddr is ngx_http_get_forwarded_addr: the client address a
// chain of trusted proxies names in X-Forwarded-For (or another header),
// walked from the right as nginx 1.22 walks it. The realip module
// (set_real_ip_from, real_ip_recursive) and the geo module (proxy,
// proxy_recursive) both use it. It also holds nginx's address syntax
// for those headers (ngx_parse_addr, ngx_parse_addr_port). Pure: no
// sockets.
package fwdaddr

import (
	"iter"
	"net/netip"
	"strings"

	"wsgate/internal/geo"
)

// Trust says whether an address is a trusted proxy's.
type Trust interface {
	Contains(a netip.Addr) bool
}

// Trusted is a list of trusted networks (set_real_ip_from, geo's proxy).
// A pointer to it is a Trust.
type Trusted []netip.Prefix

// Contains is ngx_cidr_match: an IPv4-mapped IPv6 address meets the
// IPv4 entries; the zero address (a UNIX-domain client) none.
func (t *Trusted) Contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range *t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RC is what ngx_http_get_forwarded_addr returns.
type RC uint8

const (
	Declined  RC = iota // nothing found: the address stays
	Found               // the address was taken from the header (NGX_OK)
	FoundDone           // taken, and an untrusted one stopped the walk (NGX_DONE)
)

// Lines is ngx_http_get_forwarded_addr over nginx 1.22's header lines,
// given last line first: without recursive only the last line counts;
// with it the walk goes on into the line before while every address
// was trusted. cur is the connection's address on entry and the
// client's on return.
func Lines(cur *netip.AddrPort, lastFirst iter.Seq[string], trusted Trust, recursive bool) RC {
	rc, any := Declined, false
	for v := range lastFirst {
		rc = Value(cur, v, trusted, recursive)
		if !recursive {
			break
		}
		if rc == Declined && any {
			rc = FoundDone
			break
		}
		if rc != Found {
			break
		}
		any = true
	}
	return rc
}

// Value is ngx_http_get_forwarded_addr_internal over one value: from
// the right, each address is taken while the one before it (at first,
// cur) is trusted; without recursive only the last is.
func Value(cur *netip.AddrPort, v string, trusted Trust, recursive bool) RC {
	taken := false
	end := len(v) // the value's part not looked at yet is v[:end]
	for {
		if !trusted.Contains(cur.Addr()) {
			if taken {
				return FoundDone
			}
			return Declined
		}
		if end <= 0 {
			break
		}
		p := end - 1
		for ; p > 0; p, end = p-1, end-1 {
			if v[p] != ' ' && v[p] != ',' {
				break
			}
		}
		for ; p > 0; p-- {
			if v[p] == ' ' || v[p] == ',' {
				p++
				break
			}
		}
		ap, ok := ParseAddrPort(v[p:end])
		if !ok {
			if taken {
				return FoundDone
			}
			return Declined
		}
		*cur, taken = ap, true
		end = p - 1
		if !recursive || p == 0 {
			break
		}
	}
	if !taken {
		return Declined
	}
	return Found
}

// ParseAddrPort is ngx_parse_addr_port: an address, or an address and a
// port ("192.0.2.1:8080", "[2001:db8::1]:8080"), the port 1 to 65535;
// the port is 0 where none is given.
func ParseAddrPort(s string) (netip.AddrPort, bool) {
	if a, ok := ParseAddr(s); ok {
		return netip.AddrPortFrom(a, 0), true
	}
	var host, port string
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 || i == len(s)-1 || s[i+1] != ':' {
			return netip.AddrPort{}, false
		}
		host, port = s[1:i], s[i+2:]
	} else {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return netip.AddrPort{}, false
		}
		host, port = s[:i], s[i+1:]
	}
	n := 0
	if port == "" {
		return netip.AddrPort{}, false
	}
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return netip.AddrPort{}, false
		}
		if n = n*10 + int(c-'0'); n > 65535 {
			return netip.AddrPort{}, false
		}
	}
	if n < 1 {
		return netip.AddrPort{}, false
	}
	a, ok := ParseAddr(host)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(n)), true
}

// ParseAddr is ngx_parse_addr (geo.ParseAddr).
func ParseAddr(s string) (netip.Addr, bool) { return geo.ParseAddr(s) }
