package access

import (
	"fmt"
	"net/netip"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/fwdaddr"
	"wsgate/internal/proxyproto"
	"wsgate/internal/vars"
)

// RealIP is a level's compiled realip settings (ngx_http_realip_module):
// the trusted addresses and where they name the client. nil is the
// module off.
type RealIP struct {
	from      fwdaddr.Trusted
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
	return ri.from.Contains(a)
}

// Contains is trusted, for fwdaddr's walk (fwdaddr.Trust).
func (ri *RealIP) Contains(a netip.Addr) bool { return ri.trusted(a) }

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
	var rc fwdaddr.RC
	switch ri.kind {
	case realIPXFF:
		rc = ri.forwardedHeaders(&cur, hdrs)
	case realIPProxy:
		if pp == nil {
			return netip.AddrPort{}, false
		}
		if rc = ri.forwarded(&cur, pp.SrcAddr); rc != fwdaddr.Declined {
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
	if rc == fwdaddr.Declined {
		return netip.AddrPort{}, false
	}
	return cur, true
}

// forwardedHeaders is ngx_http_get_forwarded_addr over the request's
// X-Forwarded-For lines, the last first (fwdaddr.Lines).
func (ri *RealIP) forwardedHeaders(cur *netip.AddrPort, hdrs []vars.Header) fwdaddr.RC {
	return fwdaddr.Lines(cur, vars.XFFLastFirst(hdrs), ri, ri.recursive)
}

// forwarded is ngx_http_get_forwarded_addr_internal over one value.
func (ri *RealIP) forwarded(cur *netip.AddrPort, v string) fwdaddr.RC {
	return fwdaddr.Value(cur, v, ri, ri.recursive)
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
