package upstream

import "time"

// Round robin and least_conn, as ngx_http_upstream_round_robin.c and
// ngx_http_upstream_least_conn_module.c of nginx 1.22.1. All functions here
// run with poolState.mu held; now is in unix seconds like nginx's
// ngx_time().

// getRoundRobin is ngx_http_upstream_get_round_robin_peer: the single peer
// if there is only one (down and max_conns still apply), otherwise smooth
// weighted round robin; when nothing is usable, the backup list (tried
// bits cleared), and nil when that fails too (NGX_BUSY).
func (p *Pool) getRoundRobin(t *Tried, now int64) *member {
	l := t.list(p)
	var m *member
	if l.single {
		m = &l.members[0]
		if m.down || (m.maxConns > 0 && m.st.conns >= m.maxConns) {
			m = nil
		}
	} else {
		m = getPeer(l, t, now, p.reg.now)
	}
	if m != nil {
		return m
	}
	if !t.backup && p.backup != nil {
		t.backup = true
		t.clearBits()
		return p.getRoundRobin(t, now)
	}
	return nil
}

// getPeer is ngx_http_upstream_get_peer, the smooth weighted round robin:
// every usable peer gains its effective weight, the highest current weight
// wins (the first on ties) and pays the total back. Effective weight, cut by
// failures, grows back by one per round. Weights count in rampScale units
// so that slow_start can give a peer a fraction of its weight (the same
// sequence as nginx's when no peer ramps); clock is read only for a peer
// with slow_start.
func getPeer(l *peerList, t *Tried, now int64, clock func() time.Time) *member {
	var best *member
	var tnow time.Time
	bi, total := 0, 0
	for i := range l.members {
		m := &l.members[i]
		if t.has(i) || !m.usable(now) {
			continue
		}
		w := m.effectiveWeight * rampScale
		if m.slowStart > 0 {
			if tnow.IsZero() {
				tnow = clock()
			}
			w = m.rampedWeight(tnow)
		}
		m.currentWeight += w
		total += w
		if m.effectiveWeight < m.weight {
			m.effectiveWeight++
		}
		if best == nil || m.currentWeight > best.currentWeight {
			best, bi = m, i
		}
	}
	if best == nil {
		return nil
	}
	t.set(bi)
	best.currentWeight -= total
	best.touch(now)
	return best
}

// getLeastConn is ngx_http_upstream_get_least_conn_peer: the usable peer
// with the fewest leases in flight relative to its weight (conns/weight,
// compared by cross multiplication); several such peers are chosen among
// by smooth weighted round robin starting at the first of them.
func (p *Pool) getLeastConn(t *Tried, now int64) *member {
	l := t.list(p)
	if l.single {
		return p.getRoundRobin(t, now)
	}
	var best *member
	bi, many := 0, false
	for i := range l.members {
		m := &l.members[i]
		if t.has(i) || !m.usable(now) {
			continue
		}
		switch {
		case best == nil || m.st.conns*best.weight < best.st.conns*m.weight:
			best, bi, many = m, i, false
		case m.st.conns*best.weight == best.st.conns*m.weight:
			many = true
		}
	}
	if best == nil {
		if !t.backup && p.backup != nil {
			t.backup = true
			t.clearBits()
			return p.getLeastConn(t, now)
		}
		return nil
	}
	if many {
		first := best
		total := 0
		for i := bi; i < len(l.members); i++ {
			m := &l.members[i]
			if t.has(i) || m.st.conns*first.weight != first.st.conns*m.weight || !m.usable(now) {
				continue
			}
			m.currentWeight += m.effectiveWeight
			total += m.effectiveWeight
			if m.effectiveWeight < m.weight {
				m.effectiveWeight++
			}
			if m.currentWeight > best.currentWeight {
				best, bi = m, i
			}
		}
		best.currentWeight -= total
	}
	best.touch(now)
	t.set(bi)
	return best
}
