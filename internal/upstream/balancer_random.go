package upstream

import "math/rand/v2"

// random and random two, as ngx_http_upstream_random_module.c of nginx
// 1.22.1 ("random two least_conn" is the only two-method nginx has). All
// functions run with poolState.mu held.

// peekRandom is ngx_http_upstream_peek_random_peer: a peer drawn with
// probability proportional to its weight.
func peekRandom(l *peerList) int {
	x := rand.IntN(l.totalWeight)
	i, j := 0, len(l.members)
	for j-i > 1 {
		k := (i + j) / 2
		if x < l.ranges[k] {
			j = k
		} else {
			i = k
		}
	}
	return i
}

// getRandom is ngx_http_upstream_get_random_peer and, with two,
// ngx_http_upstream_get_random2_peer: draw until a usable untried peer
// comes up (with two: two distinct ones, keeping the one with fewer leases
// relative to weight, the first on ties); more than 20 draws fall back to
// round robin.
func (p *Pool) getRandom(t *Tried, now int64) *member {
	l := t.list(p)
	if t.htries > maxHashTries || l.single {
		return p.getRoundRobin(t, now)
	}
	prev := -1
	for {
		i := peekRandom(l)
		m := &l.members[i]
		if i != prev && !t.has(i) && m.usable(now) {
			if !p.two {
				m.touch(now)
				t.set(i)
				return m
			}
			if prev >= 0 {
				pm := &l.members[prev]
				if m.st.conns*pm.weight > pm.st.conns*m.weight {
					m, i = pm, prev
				}
				m.touch(now)
				t.set(i)
				return m
			}
			prev = i
		}
		t.htries++
		if t.htries > maxHashTries {
			return p.getRoundRobin(t, now)
		}
	}
}
