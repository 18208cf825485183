package metrics

import "wsgate/internal/upstream"

// Health is one upstream peer's state, as the metrics and the status page
// show it.
type Health struct {
	Upstream, Peer string
	Backup         bool
	// Up is set when the peer may be chosen: not marked down, not failed
	// max_fails times within fail_timeout. Down is the "down" parameter.
	Up, Down bool
	Fails    int
	Active   int // requests and tunnels on the peer: least_conn's load
	Idle     int // idle keepalive connections
}

// PeerHealth returns the state of every peer of set, by upstream group in
// set's order and peer in configuration order; two server lines with one
// address (or two groups of one name) are one entry, their figures added.
func PeerHealth(set *upstream.Set) []Health {
	if set == nil {
		return nil
	}
	var out []Health
	at := map[[2]string]int{}
	for _, key := range set.Pools() {
		p := set.Pool(key)
		for _, st := range p.Stats() {
			up := !st.Down && !st.Disabled
			k := [2]string{p.Name(), st.Peer.Name}
			if i, ok := at[k]; ok {
				h := &out[i]
				h.Up, h.Down = h.Up || up, h.Down && st.Down
				h.Fails += st.Fails
				h.Active += st.Conns
				h.Idle += st.Idle
				continue
			}
			at[k] = len(out)
			out = append(out, Health{
				Upstream: p.Name(), Peer: st.Peer.Name, Backup: st.Peer.Backup,
				Up: up, Down: st.Down, Fails: st.Fails, Active: st.Conns, Idle: st.Idle,
			})
		}
	}
	return out
}
