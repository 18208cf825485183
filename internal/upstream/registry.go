// Package upstream holds wsgate's upstream pools: the peers of every
// upstream{} block and of every implicit upstream that a proxy_pass
// host:port creates, the balancers that choose among them (nginx's smooth
// weighted round robin, least_conn, ip_hash, hash [consistent], random
// [two]), passive health (max_fails/fail_timeout), in-flight counts and the
// idle keepalive connection cache.
//
// A Registry lives as long as the process. Each configuration snapshot gets
// its own immutable Set from Registry.Build; the mutable state a Set's peers
// point at (failure counts, connections in flight, idle connections) is
// owned by the Registry and keyed by pool key, peer address and the
// address's occurrence in the pool, so a reload that keeps a server line
// keeps its health and counts. Every server line, and every address a host
// name in one resolves to, is a peer of its own, as
// ngx_http_upstream_init_round_robin makes them: two identical lines are
// two peers with their own tries, weights and failure accounting. nginx itself loses this
// state on reload; wsgate keeps it so that tunnels that survive a reload
// stay counted.
package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/dns"
)

// Resolver returns the addresses of host. Build calls it once per host name
// (never for IP literals), as nginx resolves upstream names once at start.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// Options configure a Registry. The zero value is ready to use.
type Options struct {
	// Now is the clock used for fail_timeout and keepalive_timeout
	// accounting; nil means time.Now. Tests inject a fake clock here.
	Now func() time.Time
	// Logger receives nginx's "upstream server temporarily disabled"
	// warning; nil means slog.Default().
	Logger *slog.Logger
}

// Registry owns the long-lived state of all upstream pools. It is safe for
// concurrent use.
type Registry struct {
	now func() time.Time
	log *slog.Logger

	mu    sync.Mutex
	pools map[string]*poolState // by pool key
	// stop ends the background work (re-resolution, health checks,
	// rebalancing) of the active Set; guarded by mu.
	stop context.CancelFunc
}

// NewRegistry returns an empty Registry.
func NewRegistry(opts Options) *Registry {
	r := &Registry{now: opts.Now, log: opts.Logger, pools: make(map[string]*poolState)}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// poolState is the part of a pool that outlives a configuration: the lock
// every Set's view of the pool shares, the peers by peer key, and the idle
// connection cache.
type poolState struct {
	key string
	now func() time.Time // the Registry's clock
	mu  sync.Mutex
	// peers by peer key (see peerKey); guarded by Registry.mu for
	// insertion and removal, read under mu by retirement.
	peers map[string]*peerState
	idle  idleCache // guarded by mu
	// resolved are the latest addresses of the resolve servers' names,
	// by lower-case name; guarded by mu.
	resolved map[string][]netip.Addr
	// services are the latest peers of the service lines' SRV names;
	// guarded by mu.
	services map[string][]srvPeer
	// draining are the retired peers that still had leases (requests or
	// tunnels) when they were retired, until the last one ends; guarded
	// by mu.
	draining map[*peerState]bool
}

// peerKey is the key of the n-th (from 0) peer with address name in one
// pool, counted in configuration order over primary and backup lines: a
// reload that keeps the lines of an address keeps their states, the first
// line's with the first, and so on.
func peerKey(name string, n int) string {
	return name + "#" + strconv.Itoa(n)
}

// peerState is the health and load of one peer (one address of one server
// line), shared by every Set that lists it. All fields are guarded by the
// owning poolState.mu.
type peerState struct {
	key      string // peerKey
	name     string // Peer.Name: the address; idle connections match on it
	fails    int
	checked  int64 // unix seconds, as nginx's peer->checked
	accessed int64 // unix seconds, as nginx's peer->accessed
	conns    int   // leases in flight: requests and open tunnels
	// retired is set when the active Set no longer lists this peer; its
	// idle connections are closed once conns drops to zero.
	retired bool
	// tunnels are the leases held by open tunnels, with the way to close
	// each (Lease.Tunnel).
	tunnels map[*Lease]func(code uint16, reason string)
	// unhealthy is set while ws_health_check holds the peer out; health
	// is the check's record.
	unhealthy bool
	health    healthState
	// since is when the peer was added or came back from an active check
	// (slow_start ramps from there).
	since time.Time
}

// Set is the upstream view of one configuration snapshot: a Pool per
// upstream{} block and per implicit upstream. It never changes once built.
type Set struct {
	pools map[string]*Pool
}

// Pool returns the pool with the given key (see UpstreamKey and
// ImplicitKey), or nil. Host names in keys are lower-cased; a UNIX-domain
// socket's path is not, as file names are case-sensitive.
func (s *Set) Pool(key string) *Pool {
	if s == nil {
		return nil
	}
	if p := s.pools[key]; p != nil || strings.HasPrefix(key, "unix:") {
		return p
	}
	return s.pools[strings.ToLower(key)]
}

// Pools returns the keys of all pools, sorted.
func (s *Set) Pools() []string {
	keys := make([]string, 0, len(s.pools))
	for k := range s.pools {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UpstreamKey is the pool key of upstream{} block name: nginx matches
// proxy_pass hosts against upstream names case-insensitively.
func UpstreamKey(name string) string { return strings.ToLower(name) }

// ImplicitKey is the pool key of the implicit upstream a proxy_pass without
// variables and without a matching upstream{} block creates: "host:port",
// host lower-cased, port defaulted from the scheme (80 for http, 443 for
// https); "unix:/path" for a UNIX-domain socket, the path as written.
func ImplicitKey(pp *config.ProxyPass) string {
	if pp.Unix != "" {
		return "unix:" + pp.Unix
	}
	port := pp.Port
	if port == "" {
		port = "80"
		if pp.Scheme == "https" {
			port = "443"
		}
	}
	host := strings.TrimSuffix(strings.TrimPrefix(pp.Host, "["), "]")
	return strings.ToLower(net.JoinHostPort(host, port))
}

// Implicit upstream parameters (ngx_http_upstream_init_round_robin, "an
// upstream implicitly defined by proxy_pass"): weight=1 max_fails=1
// fail_timeout=10.
const (
	implicitMaxFails    = 1
	implicitFailTimeout = 10 * time.Second
)

// Build resolves and compiles the upstreams of one configuration into a
// Set. Pools and peers that already exist in r (same pool key; same
// address and the same occurrence of it among the pool's server lines)
// reuse the existing state. ups are the upstream{} blocks; implicit are the
// proxy_pass values that name no upstream{} block (entries with variables
// or a named Upstream are skipped; duplicates share one pool). resolve may
// be nil (then net.DefaultResolver). All errors are returned together.
//
// Build does not retire anything: call Activate with the Set once it is
// published.
func (r *Registry) Build(ctx context.Context, ups []*config.Upstream, implicit []*config.ProxyPass, resolve Resolver) (*Set, error) {
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	set := &Set{pools: make(map[string]*Pool)}
	var errs config.ErrorList
	for _, u := range ups {
		key := UpstreamKey(u.Name)
		if _, dup := set.pools[key]; dup {
			errs.Add(u.Pos, "duplicate upstream %q", u.Name)
			continue
		}
		p, err := r.buildUpstream(ctx, key, u, resolve)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		set.pools[key] = p
	}
	for _, pp := range implicit {
		if pp == nil || pp.HasVars || pp.Upstream != "" {
			continue
		}
		key := ImplicitKey(pp)
		if _, ok := set.pools[key]; ok {
			continue
		}
		p, err := r.buildImplicit(ctx, key, pp, resolve)
		if err != nil {
			errs.Add(pp.Pos, "%v in upstream %q", err, pp.Host)
			continue
		}
		set.pools[key] = p
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set, nil
}

// Activate records s as the published Set: peers (and whole pools) that s
// no longer lists are retired. A retired peer keeps serving the leases it
// has and any picks from older Sets still in use; its idle connections are
// closed as soon as none of its leases is in flight.
func (r *Registry) Activate(s *Set) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, ps := range r.pools {
		p := s.pools[key]
		if p != nil {
			p = p.cur()
		}
		ps.mu.Lock()
		for k, st := range ps.peers {
			if p != nil && p.lists(k) {
				continue
			}
			ps.retire(k, st)
		}
		ps.mu.Unlock()
		if p == nil {
			delete(r.pools, key)
		}
	}
	r.startBackground(s)
}

// startBackground stops the background work of the previously active Set
// and starts s's: the re-resolution of resolve servers, the active health
// checks and the rebalancing. Called with r.mu held.
func (r *Registry) startBackground(s *Set) {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := false
	for _, p := range s.pools {
		if d := p.dyn; d != nil && d.lookup != nil {
			for i, l := range d.lines {
				if l.resolve {
					go d.run(ctx, i)
					started = true
				}
			}
		}
		if p.hc != nil {
			go p.hc.run(ctx, p)
			started = true
		}
		if p.rb != nil {
			go p.rb.run(ctx, p)
			started = true
		}
	}
	if started {
		r.stop = cancel
	} else {
		cancel()
	}
}

// Close closes every idle connection the Registry holds. Leases in flight
// stay valid.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	for _, ps := range r.pools {
		ps.mu.Lock()
		ps.idle.closeAll()
		ps.mu.Unlock()
	}
}

// state returns the long-lived state of pool key and of its peers, one per
// entry of names (peer addresses in configuration order; an address listed
// again is another peer), creating what does not exist yet.
func (r *Registry) state(key string, names []string) (*poolState, []*peerState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := r.pools[key]
	if ps == nil {
		ps = &poolState{key: key, now: r.now, peers: make(map[string]*peerState)}
		r.pools[key] = ps
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sts := make([]*peerState, len(names))
	seen := make(map[string]int, len(names))
	for i, n := range names {
		k := peerKey(n, seen[n])
		seen[n]++
		st := ps.peers[k]
		if st == nil {
			st = &peerState{key: k, name: n, since: r.now()}
			ps.peers[k] = st
		}
		sts[i] = st
	}
	return ps, sts
}

// resolvedAddr is one address a server line expands to.
type resolvedAddr struct {
	network string // "tcp" or "unix"
	addr    string // dialable: "127.0.0.1:8080", "[::1]:8080", "/run/app.sock"
	name    string // nginx's peer name: addr, or "unix:/run/app.sock"
}

// resolveServer expands a server address as written ("host:port", "host"
// with port 80 implied, "[v6]:port", "unix:/path") into one address per IP,
// IPv4 first as ngx_inet_resolve_host orders them.
func resolveServer(ctx context.Context, addr, defPort string, resolve Resolver) ([]resolvedAddr, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("no path in %q", addr)
		}
		return []resolvedAddr{{network: "unix", addr: path, name: addr}}, nil
	}
	host, port := addr, defPort
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("invalid port in %q", addr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		a := netip.AddrPortFrom(ip.Unmap(), mustPort(port)).String()
		return []resolvedAddr{{network: "tcp", addr: a, name: a}}, nil
	}
	ips, err := resolve(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("host not found: %q", host)
	}
	var v4, v6 []resolvedAddr
	seen := make(map[netip.Addr]bool, len(ips))
	for _, ip := range ips {
		ip = ip.Unmap()
		if seen[ip] {
			continue
		}
		seen[ip] = true
		a := netip.AddrPortFrom(ip, mustPort(port)).String()
		ra := resolvedAddr{network: "tcp", addr: a, name: a}
		if ip.Is4() {
			v4 = append(v4, ra)
		} else {
			v6 = append(v6, ra)
		}
	}
	return append(v4, v6...), nil
}

func mustPort(s string) uint16 {
	n, _ := strconv.Atoi(s)
	return uint16(n)
}

func (r *Registry) buildUpstream(ctx context.Context, key string, u *config.Upstream, resolve Resolver) (*Pool, config.ErrorList) {
	var specs []memberSpec
	var lines []dynLine
	dynamic := false
	var errs config.ErrorList
	for _, s := range u.Servers {
		w := s.Weight
		if w < 1 {
			w = 1
		}
		tmpl := memberSpec{
			server: s.Addr, weight: w, maxFails: s.MaxFails, failTimeout: s.FailTimeout,
			maxConns: s.MaxConns, down: s.Down, backup: s.Backup, slowStart: s.SlowStart,
		}
		if s.Resolve && s.Service != "" {
			// The SRV records give the addresses and ports, looked up
			// at run time only.
			dynamic = true
			name := dns.ServiceName(s.Service, strings.ToLower(s.Addr))
			lines = append(lines, dynLine{tmpl: tmpl, resolve: true, host: s.Addr, service: name, srv: r.recalledService(key, name)})
			continue
		}
		if s.Resolve {
			if host, port, ok := splitResolve(s.Addr); ok {
				if _, err := netip.ParseAddr(host); err != nil {
					// Looked up at run time only (nginx 1.27.3); a reload
					// starts from the last answer.
					dynamic = true
					lines = append(lines, dynLine{tmpl: tmpl, resolve: true, host: host, port: port, addrs: r.recalled(key, host, port)})
					continue
				}
			}
		}
		addrs, err := resolveServer(ctx, s.Addr, "80", resolve)
		if err != nil {
			errs.Add(s.Pos, "%v in upstream %q", err, u.Name)
			continue
		}
		lines = append(lines, dynLine{tmpl: tmpl, addrs: addrs})
		for _, a := range addrs {
			sp := tmpl
			sp.addr = a
			specs = append(specs, sp)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !dynamic && countPrimary(specs) == 0 {
		errs.Add(u.Pos, "no servers in upstream %q", u.Name)
		return nil, errs
	}
	ka := keepaliveConf{
		max:         u.Keepalive,
		timeout:     u.KeepaliveTimeout,
		maxRequests: u.KeepaliveRequests,
		maxLifetime: u.KeepaliveTime,
	}
	if ka.maxLifetime <= 0 {
		ka.maxLifetime = defaultKeepaliveTime
	}
	if ka.timeout <= 0 {
		ka.timeout = defaultKeepaliveTimeout
	}
	if ka.maxRequests <= 0 {
		ka.maxRequests = defaultKeepaliveRequests
	}
	build := func(specs []memberSpec) *Pool {
		return r.newPool(key, u.Name, u.Balance, u.RandomTwo, u.HashConsistent, u.HashKey, specs, ka)
	}
	var p *Pool
	if dynamic {
		d := &dynPool{build: build, lines: lines, drainAfter: u.DrainRemoved, drainWindow: u.DrainWindow,
			backups: u.Balance == config.BalanceRoundRobin || u.Balance == config.BalanceLeastConn}
		if d.drainWindow < 0 {
			d.drainWindow = defaultDrainWindow
		}
		p = build(d.specs())
		p.dyn, p.handle, d.handle = d, p, p
		p.gen.Store(p)
	} else {
		p = build(specs)
	}
	if u.HealthCheck != nil {
		p.hc = newHealthCheck(u.HealthCheck, u.Name)
		p.hc.init(p)
	}
	if u.Rebalance != nil {
		p.rb = &rebalancer{threshold: u.Rebalance.Threshold, rate: u.Rebalance.Rate}
	}
	return p, nil
}

func (r *Registry) buildImplicit(ctx context.Context, key string, pp *config.ProxyPass, resolve Resolver) (*Pool, error) {
	defPort := "80"
	if pp.Scheme == "https" {
		defPort = "443"
	}
	host := pp.Host
	if pp.Unix != "" {
		host = "unix:" + pp.Unix
	} else if pp.Port != "" {
		host = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(pp.Host, "["), "]"), pp.Port)
	}
	addrs, err := resolveServer(ctx, host, defPort, resolve)
	if err != nil {
		// nginx: "host not found in upstream "h"" (emerg at start).
		return nil, err
	}
	specs := make([]memberSpec, len(addrs))
	for i, a := range addrs {
		specs[i] = memberSpec{addr: a, server: host, weight: 1, maxFails: implicitMaxFails, failTimeout: implicitFailTimeout}
	}
	return r.newPool(key, pp.Host, config.BalanceRoundRobin, false, false, "", specs, keepaliveConf{}), nil
}

func countPrimary(specs []memberSpec) int {
	n := 0
	for _, s := range specs {
		if !s.backup {
			n++
		}
	}
	return n
}
