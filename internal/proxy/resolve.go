package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
)

// resolvePass finds the peers of an evaluated proxy_pass host that names
// no upstream{} block (ngx_http_upstream_init_request): an IP literal is
// the one peer; a name needs the location's resolver, which looks it up
// within resolver_timeout (0: no limit, as nginx). The error's text is
// nginx's error log line: "no resolver defined to resolve H", "H could
// not be resolved (3: Host not found)"; nginx answers either with 502.
func resolvePass(host string, port int, loc *snapshot.Loc, timeout time.Duration, h *Handler) (*upstream.Pool, error) {
	server := net.JoinHostPort(host, strconv.Itoa(port))
	if ip, err := netip.ParseAddr(host); err == nil {
		return upstream.Resolved(server, []netip.AddrPort{netip.AddrPortFrom(ip.Unmap(), uint16(port))}, h.Log), nil
	}
	if loc.Resolver == nil {
		return nil, fmt.Errorf("no resolver defined to resolve %s", host)
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	a, err := loc.Resolver.Lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	aps := make([]netip.AddrPort, len(a.Addrs))
	for i, ip := range a.Addrs {
		aps[i] = netip.AddrPortFrom(ip, uint16(port))
	}
	return upstream.Resolved(server, aps, h.Log), nil
}
