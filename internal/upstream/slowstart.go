package upstream

import "time"

// slow_start (an NGINX Plus server parameter): a peer that is added (a
// new server line, or a new address of a resolve name) or that an active
// health check puts back gets a share of its weight that grows linearly
// from nearly nothing to all of it over the slow_start time, so that the
// reconnects of thousands of clients do not all land on the first peer
// that comes up. Round robin only: least_conn and the hashing methods
// refuse it in the configuration.

// rampScale is the unit of the round robin's weights: a weight of 1 is
// rampScale, so a ramp has rampScale steps per unit of weight.
const rampScale = 100

// rampedWeight is m's effective weight in rampScale units at now: all of
// it outside a slow start, a share that grows with the time since the
// peer came up during one, at least 1. Called with poolState.mu held.
func (m *member) rampedWeight(now time.Time) int {
	w := m.effectiveWeight * rampScale
	if m.slowStart <= 0 {
		return w
	}
	el := now.Sub(m.st.since)
	if el >= m.slowStart || el < 0 {
		return w
	}
	r := int(int64(w) * int64(el) / int64(m.slowStart))
	return max(r, 1)
}
