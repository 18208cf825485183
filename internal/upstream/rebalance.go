package upstream

import (
	"context"
	"math"
	"time"

	"wsgate/internal/ws"
)

// This file is ws_rebalance: long-lived tunnels stay on the peer they were
// opened to, so a peer that is added (a new address in DNS, a server back
// from its health check) gets only new tunnels while the old peers keep
// theirs. When the busiest usable primary peer of a pool holds more open
// tunnels than the mean of the usable primary peers by more than the
// threshold, wsgate asks the tunnels of the busiest peer, one at a time,
// to close with 1012 (Service Restart, RFC 6455 §7.4.1) at a frame
// boundary, so that their clients reconnect and the balancer places them
// on the least loaded peers (least_conn does that best), until no peer
// holds more than the mean rounded up. The closes are spaced by 1/rate,
// never more than rate per second over the whole pool. Off by default.

// rebalanceIdle is how often a balanced pool's spread is looked at.
const rebalanceIdle = 200 * time.Millisecond

// rebalancer is a pool's ws_rebalance.
type rebalancer struct {
	threshold int     // percent above the mean
	rate      float64 // closes per second
	// active is set from the moment the threshold was crossed until the
	// spread is back within the rounded-up mean; used by run's goroutine
	// only.
	active bool
}

// run rebalances p until ctx ends.
func (rb *rebalancer) run(ctx context.Context, p *Pool) {
	spacing := time.Duration(float64(time.Second) / rb.rate)
	timer := time.NewTimer(rebalanceIdle)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		wait := max(spacing, rebalanceIdle)
		if fn := rb.next(p); fn != nil {
			fn(ws.CloseServiceRestart, "rebalancing upstream peers")
			wait = spacing
		}
		timer.Reset(wait)
	}
}

// next returns the close function of one tunnel of the busiest peer when
// the pool is out of balance, taken out of the peer's tunnels so that it
// is asked once; nil when nothing is to be closed.
func (rb *rebalancer) next(p *Pool) func(uint16, string) {
	g := p.cur()
	now := g.reg.now().Unix()
	g.ps.mu.Lock()
	defer g.ps.mu.Unlock()
	var busiest *peerState
	n, total := 0, 0
	seen := map[*peerState]bool{}
	for i := range g.primary.members {
		m := &g.primary.members[i]
		if seen[m.st] || !m.usable(now) {
			continue
		}
		seen[m.st] = true
		c := len(m.st.tunnels)
		n++
		total += c
		if busiest == nil || c > len(busiest.tunnels) {
			busiest = m.st
		}
	}
	if n < 2 {
		rb.active = false
		return nil
	}
	mean := float64(total) / float64(n)
	most := len(busiest.tunnels)
	ceil := int(math.Ceil(mean))
	if !rb.active && float64(most) > mean*(1+float64(rb.threshold)/100) && most > ceil {
		rb.active = true
		p.reg.log.Info("rebalancing upstream tunnels", "upstream", p.name, "peers", n, "tunnels", total, "busiest", most)
	}
	if !rb.active {
		return nil
	}
	if most <= ceil {
		rb.active = false
		return nil
	}
	for l, fn := range busiest.tunnels {
		delete(busiest.tunnels, l)
		return fn
	}
	return nil
}
