package proxy

import (
	"net"
	"net/netip"

	"wsgate/internal/config"
	"wsgate/internal/netpoll"
	"wsgate/internal/snapshot"
)

// This file holds how a request's upstream connections are made beyond
// the address: proxy_bind (ngx_http_upstream_set_local, with
// "transparent") and proxy_socket_keepalive.

// dialOpts are the socket settings of one request's upstream connections.
type dialOpts struct {
	local       netip.AddrPort // proxy_bind; zero: none
	transparent bool           // proxy_bind ... transparent
	keepalive   bool           // proxy_socket_keepalive on
}

// any reports whether the connections need more than net's defaults (and
// so cannot take netpoll's direct dial).
func (o *dialOpts) any() bool { return o.local.IsValid() || o.keepalive }

// dialOptions sets c.dopt for the request from its location's options:
// proxy_bind's value is evaluated, and an empty one binds nothing; one
// that is no address is logged and binds nothing, as nginx does
// ("invalid local address").
func (c *clientConn) dialOptions(po *snapshot.ProxyOptions) {
	c.dopt = dialOpts{keepalive: po.SocketKeepalive, transparent: po.Transparent}
	c.ignoreAbort = po.IgnoreClientAbort
	if po.Bind == nil {
		return
	}
	c.bindAddr = po.Bind.Append(c.bindAddr[:0], c.vc)
	if len(c.bindAddr) == 0 {
		return
	}
	a, ok := config.ParseBindAddr(string(c.bindAddr))
	if !ok {
		c.h.Log.Error("invalid local address", "address", string(c.bindAddr), "client", c.remoteAddr)
		return
	}
	c.dopt.local, _ = netip.ParseAddrPort(a)
}

// dialer returns net's dialer with c.dopt applied to a connection over
// network ("tcp" or "unix": a UNIX-domain socket is bound to nothing).
func (c *clientConn) dialer(network string) net.Dialer {
	d := net.Dialer{KeepAlive: -1}
	if network != "tcp" {
		return d
	}
	if c.dopt.keepalive {
		// SO_KEEPALIVE with the system's probe timings, as nginx sets it.
		d.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}
	}
	if c.dopt.local.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(c.dopt.local)
		if c.dopt.transparent {
			d.Control = netpoll.SetTransparent
		}
	}
	return d
}
