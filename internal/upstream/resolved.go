package upstream

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"wsgate/internal/config"
)

// Resolved returns a pool of the addresses that the host of a proxy_pass
// with variables resolved to, for one request
// (ngx_http_upstream_create_round_robin_peer): round robin in the order
// given (the first address first), weight 1, max_fails=1 fail_timeout=10,
// no keepalive. server is the evaluated "host:port". The pool belongs to
// no Registry and its state dies with the request, as nginx's does: a
// failed address is only skipped by the request's own retries. log gets
// the "upstream server temporarily disabled" warning nginx logs then.
func Resolved(server string, addrs []netip.AddrPort, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.Default()
	}
	scratch := &Registry{now: time.Now, log: log, pools: make(map[string]*poolState)}
	specs := make([]memberSpec, len(addrs))
	for i, a := range addrs {
		name := a.String()
		specs[i] = memberSpec{
			addr:   resolvedAddr{network: "tcp", addr: name, name: name},
			server: server, weight: 1, maxFails: implicitMaxFails, failTimeout: implicitFailTimeout,
		}
	}
	host := server
	if i := strings.LastIndexByte(server, ':'); i > 0 && !strings.HasSuffix(server, "]") {
		host = server[:i]
	}
	return scratch.newPool(strings.ToLower(server), host, config.BalanceRoundRobin, false, false, "", specs, keepaliveConf{})
}

// ResolvedUnix is Resolved for a proxy_pass with variables that evaluated
// to "http://unix:/path…": one peer, the socket, named "unix:/path".
func ResolvedUnix(path string, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.Default()
	}
	scratch := &Registry{now: time.Now, log: log, pools: make(map[string]*poolState)}
	name := "unix:" + path
	specs := []memberSpec{{
		addr:   resolvedAddr{network: "unix", addr: path, name: name},
		server: name, weight: 1, maxFails: implicitMaxFails, failTimeout: implicitFailTimeout,
	}}
	return scratch.newPool(name, "localhost", config.BalanceRoundRobin, false, false, "", specs, keepaliveConf{})
}
