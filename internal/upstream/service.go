package upstream

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"slices"
	"time"

	"wsgate/internal/dns"
)

// This file is "server NAME resolve service=SERVICE" (NGINX Plus's
// parameter, in nginx since 1.27.3): the peers of the line are the
// addresses of the targets of the SRV records of the service's name
// (dns.ServiceName), at the ports the records give, followed as the
// answers change as a resolve line's addresses are. As
// ngx_http_upstream_zone_resolve_handler builds them:
//
//   - the records of the lowest priority are primary peers, the others
//     backup peers (left out when the balancing method has no backups);
//     on a "backup" line, the lowest priority's records are backup peers
//     and the others are left out;
//   - a peer's weight is the line's weight= when it is not 1, else the
//     record's weight; its server name is the record's target;
//   - two equal records are two peers;
//   - a target that fails is left out while another has addresses; when
//     none has, a failure that is not NXDOMAIN keeps the last peers.

// srvPeer is one address an SRV answer gave.
type srvPeer struct {
	addr     netip.AddrPort
	target   string
	priority uint16
	weight   uint16
}

// srvPeers flattens an SRV answer into its peers, sorted as nginx sorts
// them (ngx_http_upstream_zone_cmp_resolved): by priority, weight
// (heaviest first), target, then address (IPv4 first), so that the same
// records in another order are the same peers.
func srvPeers(a dns.SRVAnswer) []srvPeer {
	var out []srvPeer
	for _, t := range a.Targets {
		for _, ip := range t.Addrs {
			out = append(out, srvPeer{addr: netip.AddrPortFrom(ip.Unmap(), t.Port), target: t.Target, priority: t.Priority, weight: t.Weight})
		}
	}
	slices.SortStableFunc(out, func(a, b srvPeer) int {
		if c := cmp.Compare(a.priority, b.priority); c != 0 {
			return c
		}
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(a.target, b.target); c != 0 {
			return c
		}
		if a.addr.Addr().Is4() != b.addr.Addr().Is4() {
			if a.addr.Addr().Is4() {
				return -1
			}
			return 1
		}
		return a.addr.Compare(b.addr)
	})
	return out
}

// srvSpecs are the member specs of a service line's peers with the line's
// parameters tmpl. backups says whether the balancing method has backup
// peers.
func srvSpecs(tmpl memberSpec, peers []srvPeer, backups bool) []memberSpec {
	if len(peers) == 0 {
		return nil
	}
	minPrio := peers[0].priority
	for _, p := range peers {
		minPrio = min(minPrio, p.priority)
	}
	out := make([]memberSpec, 0, len(peers))
	for _, p := range peers {
		lower := p.priority != minPrio
		if lower && (tmpl.backup || !backups) {
			continue
		}
		s := tmpl
		a := p.addr.String()
		s.addr = resolvedAddr{network: "tcp", addr: a, name: a}
		s.server = p.target
		s.backup = tmpl.backup || lower
		if tmpl.weight == 1 {
			s.weight = int(p.weight)
		}
		out = append(out, s)
	}
	return out
}

// runService keeps service line i's peers up to date until ctx ends.
func (d *dynPool) runService(ctx context.Context, i int) {
	l := &d.lines[i]
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
		ans, err := d.lookup.LookupSRV(lctx, l.service)
		cancel()
		if ctx.Err() != nil {
			return
		}
		for _, t := range ans.Targets {
			if t.Err != nil {
				log.Warn("an SRV target of an upstream server could not be resolved, left out", "upstream", d.handle.name, "server", l.tmpl.server, "service", l.service, "error", t.Err)
			}
		}
		wait := resolveRetry
		var dnsErr *dns.Error
		switch {
		case err == nil:
			d.setService(i, srvPeers(ans))
			wait = max(time.Until(ans.Expires)+10*time.Millisecond, resolveMinWait)
		case errors.As(err, &dnsErr) && dnsErr.Code == dns.NXDomain:
			log.Warn("upstream service not found, its peers removed", "upstream", d.handle.name, "server", l.tmpl.server, "service", l.service, "error", err)
			d.setService(i, nil)
		default:
			log.Warn("resolving upstream service failed, its peers kept", "upstream", d.handle.name, "server", l.tmpl.server, "service", l.service, "error", err)
		}
		timer.Reset(wait)
	}
}

// setService records service line i's peers and, when they changed,
// publishes a new generation and schedules the drain of the peers it
// removed.
func (d *dynPool) setService(i int, peers []srvPeer) {
	d.mu.Lock()
	l := &d.lines[i]
	if slices.Equal(peers, l.srv) {
		d.mu.Unlock()
		return
	}
	l.srv = peers
	d.handle.ps.rememberService(l.service, peers)
	gone := d.publish()
	d.mu.Unlock()
	d.changed(l.tmpl.server, len(peers), gone)
}

// rememberService keeps the latest peers of a service line's name in the
// pool's long-lived state, so that a reload starts the line with them
// (see remember).
func (ps *poolState) rememberService(name string, peers []srvPeer) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.services == nil {
		ps.services = make(map[string][]srvPeer)
	}
	ps.services[name] = slices.Clone(peers)
}

// recalledService returns the peers rememberService kept for name.
func (r *Registry) recalledService(key, name string) []srvPeer {
	r.mu.Lock()
	ps := r.pools[key]
	r.mu.Unlock()
	if ps == nil {
		return nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.services[name])
}
