package upstream

import (
	"cmp"
	"slices"
)

// retire takes peer k out of the pool's long-lived state once no Set
// lists it (a reload, or DNS for a resolve server): it keeps serving its
// leases, its idle connections are closed when none is in flight, and
// until then it is draining. Called with ps.mu held (and the Registry's
// mu, which guards ps.peers).
func (ps *poolState) retire(k string, st *peerState) {
	st.retired = true
	delete(ps.peers, k)
	if st.conns == 0 {
		ps.idle.closePeer(st)
		return
	}
	if ps.draining == nil {
		ps.draining = make(map[*peerState]bool)
	}
	ps.draining[st] = true
}

// Draining returns the peers the pool no longer lists that still serve
// requests or tunnels, by address: Peer.Name, Conns, Tunnels and Fails
// are set, with Draining.
func (p *Pool) Draining() []PeerStats {
	ps := p.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []PeerStats
	for st := range ps.draining {
		if st.conns == 0 {
			delete(ps.draining, st)
			continue
		}
		out = append(out, PeerStats{
			Peer: Peer{Name: st.name}, Fails: st.fails, Conns: st.conns,
			Tunnels: len(st.tunnels), Draining: true,
		})
	}
	slices.SortFunc(out, func(a, b PeerStats) int { return cmp.Compare(a.Peer.Name, b.Peer.Name) })
	return out
}
