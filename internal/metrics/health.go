package metrics

import "wsgate/internal/upstream"

// Health is one upstream peer's state, as the metrics and the status page
// show it.
type Health struct {
	Upstream, Peer string
	Backup         bool
	// Up is set when the peer may be chosen: not marked down, not failed
	// max_fails times within fail_timeout, not held out by its active
	// health check. Down is the "down" parameter.
	Up, Down bool
	// Unhealthy is set while ws_health_check holds the peer out; Check is
	// the check's record (Check.Checked is false without a check).
	Unhealthy bool
	Check     upstream.HealthStats
	// Draining is set for a peer the configuration or DNS removed that
	// still serves requests or tunnels (upstream.Pool.Draining).
	Draining bool
	Fails    int
	Active   int // requests and tunnels on the peer: least_conn's load
	Idle     int // idle keepalive connections
	Tunnels  int // open tunnels on the peer
	Weight   int // the weight the balancer uses now (slow_start)
}

// PeerHealth returns the state of every peer of set, by upstream group in
// set's order and peer in configuration order, then the group's draining
// peers by address; two server lines with one address (or two groups of
// one name) are one entry, their figures added.
func PeerHealth(set *upstream.Set) []Health {
	if set == nil {
		return nil
	}
	var out []Health
	at := map[[3]string]int{}
	add := func(p *upstream.Pool, st upstream.PeerStats) {
		unhealthy := st.Health.Checked && st.Health.Unhealthy
		up := !st.Down && !st.Disabled && !unhealthy && !st.Draining
		kind := ""
		if st.Draining {
			kind = "draining"
		}
		k := [3]string{p.Name(), st.Peer.Name, kind}
		if i, ok := at[k]; ok {
			h := &out[i]
			h.Up, h.Down = h.Up || up, h.Down && st.Down
			h.Unhealthy = h.Unhealthy && unhealthy
			h.Fails += st.Fails
			h.Active += st.Conns
			h.Idle += st.Idle
			h.Tunnels += st.Tunnels
			h.Weight += st.Weight
			return
		}
		at[k] = len(out)
		out = append(out, Health{
			Upstream: p.Name(), Peer: st.Peer.Name, Backup: st.Peer.Backup,
			Up: up, Down: st.Down, Unhealthy: unhealthy, Check: st.Health, Draining: st.Draining,
			Fails: st.Fails, Active: st.Conns, Idle: st.Idle, Tunnels: st.Tunnels, Weight: st.Weight,
		})
	}
	for _, key := range set.Pools() {
		p := set.Pool(key)
		for _, st := range p.Stats() {
			add(p, st)
		}
		for _, st := range p.Draining() {
			add(p, st)
		}
	}
	return out
}
