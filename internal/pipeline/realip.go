package pipeline

import (
	"net/netip"
	"strconv"
	"strings"

	"wsgate/internal/snapshot"
)

// This file is the realip module's handler (ngx_http_realip_handler),
// which nginx runs in two phases: post-read, with the server's settings,
// before the server rewrite phase; and preaccess, with the location's,
// after the rewrite phase and before the access phase. Whichever first
// changes the address does so for the rest of the request, internal
// redirects included; $realip_remote_addr and $realip_remote_port keep
// the connection's.

// realIP runs the realip settings of loc (a server's or a location's)
// for the request: where the connection's client is trusted and the
// request names another, $remote_addr and $remote_port become that one,
// and so do allow/deny, ip_hash, hash, $proxy_add_x_forwarded_for and the
// access log, which read them.
func (pc *Conn) realIP(loc *snapshot.Loc) {
	ri := loc.RealIP
	if ri == nil || pc.realIPDone {
		return
	}
	addr, err := netip.ParseAddr(pc.vc.RealIPAddr)
	if err != nil && !strings.HasPrefix(pc.vc.RealIPAddr, "unix:") {
		// A client on a UNIX-domain socket goes on with the zero
		// address, which only "set_real_ip_from unix:" trusts.
		return
	}
	ap, ok := ri.Resolve(addr, pc.hdrs, pc.c.ProxyProtocol)
	if !ok {
		return
	}
	pc.realIPDone = true
	pc.vc.RemoteAddr = ap.Addr().String()
	pc.vc.RemotePort = ""
	if ap.Port() != 0 {
		pc.vc.RemotePort = strconv.Itoa(int(ap.Port()))
	}
}
