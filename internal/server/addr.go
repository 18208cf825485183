package server

import (
	"net"
	"net/netip"
	"strconv"
)

// addrNames keeps a worker's last remote and local address texts: the
// next connection from the same client address, or to the same local
// address, reuses them instead of formatting them again.
type addrNames struct{ remote, local addrName }

// addrName is the host and port text of the last address split.
type addrName struct {
	ip         net.IP
	ap         netip.Addr // the address of the last splitAddrPort
	zone       string
	port       int
	host, text string // host; port as text
}

// split returns a's host and port as $remote_addr and $remote_port (or
// $server_addr, $server_port) show them: what net.SplitHostPort makes
// of a.String().
func (n *addrName) split(a net.Addr) (host, port string) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return splitHostPort(a)
	}
	if len(ta.IP) == 0 {
		return splitHostPort(a)
	}
	if n.host == "" || !ta.IP.Equal(n.ip) || ta.Zone != n.zone {
		n.ip, n.zone, n.ap = ta.IP, ta.Zone, netip.Addr{}
		n.host = ta.IP.String()
		if ta.Zone != "" {
			n.host += "%" + ta.Zone
		}
		n.port, n.text = -1, ""
	}
	if ta.Port != n.port {
		n.port, n.text = ta.Port, strconv.Itoa(ta.Port)
	}
	return n.host, n.text
}

// splitAddrPort is split for the address of a raw socket
// (netpoll.Conn), which needs no net.Addr: the host as net.IP's String
// writes it (an IPv4-mapped address as IPv4).
func (n *addrName) splitAddrPort(ap netip.AddrPort) (host, port string) {
	ip := ap.Addr().Unmap()
	if !ip.IsValid() {
		return "", "0" // as split of a closed socket's empty address
	}
	if n.host == "" || n.ap != ip {
		n.ip, n.zone, n.ap = nil, "", ip
		n.host = ip.String()
		n.port, n.text = -1, ""
	}
	if p := int(ap.Port()); p != n.port {
		n.port, n.text = p, strconv.Itoa(p)
	}
	return n.host, n.text
}

func splitHostPort(a net.Addr) (host, port string) {
	if ua, ok := a.(*net.UnixAddr); ok {
		// ngx_sock_ntop of an AF_UNIX address: "unix:" and the path, which
		// a client's unnamed socket has not ($remote_addr "unix:"; Go
		// names it "@", as if abstract); no port.
		if ua == nil || ua.Name == "@" {
			return "unix:", ""
		}
		return "unix:" + ua.Name, ""
	}
	if a == nil {
		return "", ""
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), ""
	}
	return host, port
}
