package upstream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgate/internal/dns"
	"wsgate/internal/ws"
)

// This file is "server NAME resolve" (nginx 1.27.3, in an upstream with a
// zone): the name is looked up with the upstream's resolver as the
// configuration is published and again each time its answer's TTL (or the
// resolver's valid=) runs out, and the pool's peers follow the answers
// without a reload. Each change publishes a new generation of the pool:
// requests pick from the newest, a request's retries stay in the
// generation of its first pick, and peers that an answer keeps keep their
// state (failures, counts, idle connections, open tunnels). A peer that an
// answer drops is retired as a reload retires it: its leases and tunnels
// stay until they end, or, with ws_drain_removed, its tunnels are closed
// with 1012 (Service Restart) that long after the removal, paced over the
// upstream's ws_drain_window.
//
// A failed lookup keeps the addresses of the last answer, and the name is
// asked again a second later; a name that does not exist (NXDOMAIN) has
// no peers, as nginx empties the server then.

// Lookuper looks host names and services up: *dns.Resolver.
type Lookuper interface {
	Lookup(ctx context.Context, host string) (dns.Answer, error)
	LookupSRV(ctx context.Context, name string) (dns.SRVAnswer, error)
}

// Timing of the re-resolution: the wait after a failed lookup, and the
// least wait after an answer (one with a TTL of 0 is not cached).
const (
	resolveRetry   = time.Second
	resolveMinWait = 250 * time.Millisecond
	// defaultDrainWindow is ws_drain_window's default.
	defaultDrainWindow = 10 * time.Second
)

// dynPool is the part of a pool that follows DNS.
type dynPool struct {
	handle *Pool
	build  func(specs []memberSpec) *Pool // a new generation over the same poolState

	lookup  Lookuper
	timeout time.Duration // resolver_timeout

	drainAfter  time.Duration // ws_drain_removed; 0: never
	drainWindow time.Duration
	backups     bool // the balancing method has backup peers

	mu    sync.Mutex
	lines []dynLine // every server line, in configuration order
}

// dynLine is one server line of a pool with resolve servers: a fixed
// line's addresses, or a resolve line's latest answer.
type dynLine struct {
	tmpl    memberSpec // the line's parameters; addr unset
	resolve bool
	host    string // resolve: the name to look up
	port    uint16
	addrs   []resolvedAddr
	// service is the SRV name of a "service=" line (then port and addrs
	// are unused), and srv its latest peers.
	service string
	srv     []srvPeer
}

// UseResolver gives the pool's resolve servers their resolver and
// resolver_timeout (0: 30s). Call it before Activate; a pool without
// resolve servers ignores it.
func (p *Pool) UseResolver(l Lookuper, timeout time.Duration) {
	if p.dyn == nil {
		return
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	p.dyn.lookup, p.dyn.timeout = l, timeout
}

// Resolves reports whether the pool has "server ... resolve" lines.
func (p *Pool) Resolves() bool { return p.dyn != nil }

// specs flattens the lines into member specs. Called with d.mu held.
func (d *dynPool) specs() []memberSpec {
	var out []memberSpec
	for _, l := range d.lines {
		if l.service != "" {
			out = append(out, srvSpecs(l.tmpl, l.srv, d.backups)...)
			continue
		}
		for _, a := range l.addrs {
			s := l.tmpl
			s.addr = a
			out = append(out, s)
		}
	}
	return out
}

// publish builds and publishes a generation from the lines. Called with
// d.mu held. It returns the peer states the new generation no longer
// lists, already retired.
func (d *dynPool) publish() []*peerState {
	g := d.build(d.specs())
	g.handle = d.handle
	d.handle.gen.Store(g)
	ps := g.ps
	r := g.reg
	var gone []*peerState
	r.mu.Lock()
	ps.mu.Lock()
	for k, st := range ps.peers {
		if g.lists(k) {
			continue
		}
		ps.retire(k, st)
		gone = append(gone, st)
	}
	ps.mu.Unlock()
	r.mu.Unlock()
	return gone
}

// run keeps resolve line i's addresses up to date until ctx ends.
func (d *dynPool) run(ctx context.Context, i int) {
	if d.lines[i].service != "" {
		d.runService(ctx, i)
		return
	}
	host := d.lines[i].host
	log := d.handle.reg.log
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		lctx, cancel := context.WithTimeout(ctx, d.timeout)
		ans, err := d.lookup.Lookup(lctx, host)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := resolveRetry
		var dnsErr *dns.Error
		switch {
		case err == nil:
			d.set(i, ans.Addrs)
			wait = max(time.Until(ans.Expires)+10*time.Millisecond, resolveMinWait)
		case errors.As(err, &dnsErr) && dnsErr.Code == dns.NXDomain:
			log.Warn("upstream server name not found, its peers removed", "upstream", d.handle.name, "server", host, "error", err)
			d.set(i, nil)
		default:
			log.Warn("resolving upstream server failed, its peers kept", "upstream", d.handle.name, "server", host, "error", err)
		}
		timer.Reset(wait)
	}
}

// set records line i's addresses and, when they changed, publishes a new
// generation and schedules the drain of the peers it removed.
func (d *dynPool) set(i int, ips []netip.Addr) {
	addrs := toResolved(ips, d.lines[i].port)
	d.mu.Lock()
	if slices.Equal(addrs, d.lines[i].addrs) {
		d.mu.Unlock()
		return
	}
	d.lines[i].addrs = addrs
	d.handle.ps.remember(d.lines[i].host, ips)
	gone := d.publish()
	d.mu.Unlock()
	d.changed(d.lines[i].tmpl.server, len(addrs), gone)
}

// changed logs a published change of a line's peers and schedules the
// drain of the peers it removed.
func (d *dynPool) changed(server string, peers int, gone []*peerState) {
	p := d.handle
	p.reg.log.Info("upstream peers changed", "upstream", p.name, "server", server, "peers", peers, "removed", len(gone))
	if d.drainAfter > 0 && len(gone) > 0 {
		time.AfterFunc(d.drainAfter, func() { d.drain(gone) })
	}
}

// drain closes the tunnels still open on the removed peers gone with
// 1012, paced over the drain window, unless the address is back in the
// pool (then its tunnels are welcome again).
func (d *dynPool) drain(gone []*peerState) {
	p := d.handle
	cur := p.cur()
	ps := p.ps
	var closers []func(uint16, string)
	ps.mu.Lock()
	for _, st := range gone {
		if cur.listsName(st.name) {
			continue
		}
		for l, fn := range st.tunnels {
			closers = append(closers, fn)
			delete(st.tunnels, l)
		}
	}
	ps.mu.Unlock()
	if len(closers) == 0 {
		return
	}
	p.reg.log.Info("closing the tunnels of removed upstream peers", "upstream", p.name, "tunnels", len(closers), "window", d.drainWindow)
	paceCalls(closers, d.drainWindow, ws.CloseServiceRestart, "upstream peer removed")
}

// paceCalls calls every closer with code and reason, spread evenly over
// window: the first at once, the last one step before the window ends.
func paceCalls(closers []func(uint16, string), window time.Duration, code uint16, reason string) {
	if window <= 0 || len(closers) == 1 {
		for _, fn := range closers {
			fn(code, reason)
		}
		return
	}
	step := window / time.Duration(len(closers))
	start := time.Now()
	for i, fn := range closers {
		if w := time.Until(start.Add(time.Duration(i) * step)); w > 0 {
			time.Sleep(w)
		}
		fn(code, reason)
	}
}

// listsName reports whether the pool has a peer with address name.
func (p *Pool) listsName(name string) bool {
	for _, l := range []*peerList{&p.primary, p.backup} {
		if l == nil {
			continue
		}
		for i := range l.members {
			if l.members[i].info.Name == name {
				return true
			}
		}
	}
	return false
}

// toResolved turns an answer into peer addresses at port, sorted (IPv4
// first) so that an answer served from the cache in another order is the
// same set.
func toResolved(ips []netip.Addr, port uint16) []resolvedAddr {
	ips = slices.Clone(ips)
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int {
		if a.Is4() != b.Is4() {
			if a.Is4() {
				return -1
			}
			return 1
		}
		return a.Compare(b)
	})
	ips = slices.Compact(ips)
	out := make([]resolvedAddr, len(ips))
	for i, ip := range ips {
		a := netip.AddrPortFrom(ip, port).String()
		out[i] = resolvedAddr{network: "tcp", addr: a, name: a}
	}
	return out
}

// remember keeps the latest answer for a resolve line's host in the
// pool's long-lived state, so that a reload starts the line's new pool
// with its addresses (at the port the line has then) instead of with no
// peers, as nginx 1.27.3 carries them over.
func (ps *poolState) remember(host string, ips []netip.Addr) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.resolved == nil {
		ps.resolved = make(map[string][]netip.Addr)
	}
	ps.resolved[strings.ToLower(host)] = slices.Clone(ips)
}

// recalled returns the addresses remember kept for host, at port.
func (r *Registry) recalled(key, host string, port uint16) []resolvedAddr {
	r.mu.Lock()
	ps := r.pools[key]
	r.mu.Unlock()
	if ps == nil {
		return nil
	}
	ps.mu.Lock()
	ips := ps.resolved[strings.ToLower(host)]
	ps.mu.Unlock()
	if ips == nil {
		return nil
	}
	return toResolved(ips, port)
}

// splitResolve splits a resolve server's "host[:port]" (port 80 by
// default).
func splitResolve(addr string) (string, uint16, bool) {
	host, port := addr, "80"
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, false
	}
	return host, uint16(n), true
}
