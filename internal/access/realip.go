package access

import (
	"fmt"
	"net/netip"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/proxyproto"
	"wsgate/internal/vars"
)

// RealIP is a level's compiled realip settings (ngx_http_realip_module):
// the trusted addresses and where they name the client. nil is the
// module off.
type RealIP struct {
	from      []netip.Prefix
	kind      realIPKind
	header    string // the header's name, for realIPHeader
	recursive bool
	unix      bool // "set_real_ip_from unix:"
}

// realIPKind is where real_ip_header looks.
type realIPKind uint8

const (
	realIPXRealIP realIPKind = iota // X-Real-IP, the first line
	realIPXFF                       // X-Forwarded-For, every line
	realIPProxy                     // the PROXY protocol header's source
	realIPHeader                    // another header, the first line
)

// CompileRealIP compiles a level's realip settings; nil when it trusts
// nobody (no set_real_ip_from), so that the phases skip it. "unix:"
// trusts the clients of "listen unix:" sockets. A host name is
// looked up with lookup, and each of its addresses is trusted; one that
// does not resolve is nginx's error, "host not found in
// set_real_ip_from".
func CompileRealIP(c config.RealIP, lookup func(host string) ([]netip.Addr, error)) (*RealIP, error) {
	if len(c.From) == 0 {
		return nil, nil
	}
	ri := &RealIP{recursive: c.Recursive}
	for _, f := range c.From {
		if f.Unix {
			ri.unix = true
			continue
		}
		if f.Host != "" {
			var addrs []netip.Addr
			err := fmt.Errorf("no lookup")
			if lookup != nil {
				addrs, err = lookup(f.Host)
			}
			if err != nil || len(addrs) == 0 {
				return nil, fmt.Errorf("host not found in set_real_ip_from %q", f.Host)
			}
			for _, a := range addrs {
				a = a.Unmap()
				ri.from = append(ri.from, netip.PrefixFrom(a, a.BitLen()))
			}
			continue
		}
		p, err := netip.ParsePrefix(f.CIDR)
		if err != nil {
			return nil, fmt.Errorf("set_real_ip_from %q: %w", f.CIDR, err)
		}
		ri.from = append(ri.from, p)
	}
	// ngx_http_realip compares the names as written: "x-forwarded-for"
	// is any header, whose first line alone counts.
	switch {
	case c.Header == "" || c.Header == "X-Real-IP":
		ri.kind = realIPXRealIP
	case c.Header == "X-Forwarded-For":
		ri.kind = realIPXFF
	case c.Header == "proxy_protocol":
		ri.kind = realIPProxy
	default:
		ri.kind, ri.header = realIPHeader, c.Header
	}
	return ri, nil
}

// trusted is ngx_cidr_match against set_real_ip_from: an IPv4-mapped
// IPv6 address meets the IPv4 entries; the zero address is a client on a
// UNIX-domain socket.
func (ri *RealIP) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		// A client on a UNIX-domain socket: ngx_cidr_match matches it
		// with "unix:" alone.
		return ri.unix
	}
	a = a.Unmap()
	for _, p := range ri.from {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve is ngx_http_realip_handler: when addr, the connection's
// client, is trusted, the client the request names in its header (hdrs,
// in arrival order) or pp (the PROXY protocol header, nil without one)
// names. The port is 0 where the header gives none ($remote_port is
// then empty); for proxy_protocol it is the header's source port. ok is
// false where the request keeps its address: addr not trusted, no such
// header, or an address that does not parse.
func (ri *RealIP) Resolve(addr netip.Addr, hdrs []vars.Header, pp *proxyproto.Header) (client netip.AddrPort, ok bool) {
	if !ri.trusted(addr) {
		return netip.AddrPort{}, false
	}
	cur := netip.AddrPortFrom(addr, 0)
	var rc forwardedRC
	switch ri.kind {
	case realIPXFF:
		rc = ri.forwardedHeaders(&cur, hdrs)
	case realIPProxy:
		if pp == nil {
			return netip.AddrPort{}, false
		}
		if rc = ri.forwarded(&cur, pp.SrcAddr); rc != declined {
			cur = netip.AddrPortFrom(cur.Addr(), uint16(pp.SrcPort))
		}
	default:
		name := "X-Real-IP"
		if ri.kind == realIPHeader {
			name = ri.header
		}
		i := firstHeader(hdrs, name)
		if i < 0 {
			return netip.AddrPort{}, false
		}
		rc = ri.forwarded(&cur, hdrs[i].Value)
	}
	if rc == declined {
		return netip.AddrPort{}, false
	}
	return cur, true
}

// forwardedRC is what ngx_http_get_forwarded_addr returns.
type forwardedRC uint8

const (
	declined  forwardedRC = iota // nothing found: the address stays
	found                        // the address was taken from the header (NGX_OK)
	foundDone                    // taken, and an untrusted one stopped the walk (NGX_DONE)
)

// forwardedHeaders is ngx_http_get_forwarded_addr over nginx 1.22's
// X-Forwarded-For lines: the last line first; without
// real_ip_recursive only the last line counts, with it the walk goes on
// into the line before while every address was trusted.
func (ri *RealIP) forwardedHeaders(cur *netip.AddrPort, hdrs []vars.Header) forwardedRC {
	rc, any := declined, false
	for i := len(hdrs) - 1; i >= 0; i-- {
		if !strings.EqualFold(hdrs[i].Name, "X-Forwarded-For") {
			continue
		}
		rc = ri.forwarded(cur, hdrs[i].Value)
		if !ri.recursive {
			break
		}
		if rc == declined && any {
			rc = foundDone
			break
		}
		if rc != found {
			break
		}
		any = true
	}
	return rc
}

// forwarded is ngx_http_get_forwarded_addr_internal over one value: from
// the right, each address is taken while the one before it (at first,
// the connection's) is trusted; without real_ip_recursive only the last
// is.
func (ri *RealIP) forwarded(cur *netip.AddrPort, v string) forwardedRC {
	taken := false
	end := len(v) // the value's part not looked at yet is v[:end]
	for {
		if !ri.trusted(cur.Addr()) {
			if taken {
				return foundDone
			}
			return declined
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
		ap, ok := parseAddrPort(v[p:end])
		if !ok {
			if taken {
				return foundDone
			}
			return declined
		}
		*cur, taken = ap, true
		end = p - 1
		if !ri.recursive || p == 0 {
			break
		}
	}
	if !taken {
		return declined
	}
	return found
}

// firstHeader is the index of the first line named name, -1 for none.
func firstHeader(hdrs []vars.Header, name string) int {
	for i := range hdrs {
		if strings.EqualFold(hdrs[i].Name, name) {
			return i
		}
	}
	return -1
}

// parseAddrPort is ngx_parse_addr_port: an address, or an address and a
// port ("192.0.2.1:8080", "[2001:db8::1]:8080"), the port 1 to 65535;
// the port is 0 where none is given.
func parseAddrPort(s string) (netip.AddrPort, bool) {
	if a, ok := parseAddr(s); ok {
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
	a, ok := parseAddr(host)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(n)), true
}

// parseAddr is ngx_parse_addr: an IPv4 address in dotted decimal
// (ngx_inet_addr: four parts up to 255 each, leading zeros allowed) or
// an IPv6 address without a zone.
func parseAddr(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, ':') < 0 {
		var b [4]byte
		part, n, dots := 0, 0, 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				if part = part*10 + int(c-'0'); part > 255 {
					return netip.Addr{}, false
				}
				n++
			case c == '.' && n > 0 && dots < 3:
				b[dots] = byte(part)
				dots, part, n = dots+1, 0, 0
			default:
				return netip.Addr{}, false
			}
		}
		if dots != 3 || n == 0 {
			return netip.Addr{}, false
		}
		b[3] = byte(part)
		return netip.AddrFrom4(b), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}
