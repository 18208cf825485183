package tunnel

import (
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/ws"
)

// This file is the tunnel's timers: its one timer for ReadTimeout, the
// Pings and the Progress reports (onIdle, scheduled in its deadlines), and
// the park timer.

// onIdle is the tunnel's one timer: the ReadTimeout check, which re-arms
// itself while bytes move or a write is blocked and closes the tunnel once
// nothing moved for ReadTimeout, and the Pings' rounds and answer
// deadlines (pingTick). The timer runs again at the earliest of the two.
func (t *tunnel) onIdle() {
	var due [2]*copier
	pr, report := t.tick(&due)
	if report {
		t.ping.report(pr)
	}
	if due[0] != nil || due[1] != nil {
		t.sendPings(&due)
	}
}

// tick is onIdle's work with t.mu held; a Progress report it finds due is
// returned for onIdle to make after.
func (t *tunnel) tick(due *[2]*copier) (pr Progress, report bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idleOff || t.finished {
		return pr, false
	}
	var wait time.Duration // 0: nothing to wait for
	if t.ping != nil {
		now := t.since()
		dead, w := t.pingTick(now, due)
		if dead {
			return pr, false
		}
		wait = w
		if t.ping.report != nil {
			var rw time.Duration
			pr, report, rw = t.reportTick(now)
			if wait == 0 || rw < wait {
				wait = rw
			}
		}
	}
	if rt := t.opts.ReadTimeout; rt > 0 {
		w, expired := t.readTimeoutLeft()
		if expired {
			// nginx: "upstream timed out ... while proxying upgraded
			// connection", both sockets closed; frame-aware: Close 1001.
			t.requestClose(CauseTimeout, ws.CloseGoingAway, "idle timeout")
			return pr, report
		}
		if wait == 0 || w < wait {
			wait = w
		}
	}
	if wait > 0 {
		t.deadlines().schedule(t, wait)
	}
	return pr, report
}

// readTimeoutLeft returns how long until ReadTimeout may expire, or
// expired once nothing moved for ReadTimeout. t.mu is held.
func (t *tunnel) readTimeoutLeft() (time.Duration, bool) {
	rt := t.opts.ReadTimeout
	if t.writing.Load() > 0 {
		return rt, false
	}
	if since := t.idleFor(); since < rt {
		return rt - since, false
	}
	if t.inputWaiting() {
		// Bytes (or a FIN) arrived in time but no copier has read them
		// yet (a parked direction being resumed, a busy scheduler).
		// nginx handles the read event before the expired timer in the
		// same loop iteration; so does this.
		t.touch()
		return rt, false
	}
	return 0, true
}

// inputWaiting reports whether a running direction's socket has bytes (or
// a FIN) that its copier has not read yet. Called with t.mu held.
func (t *tunnel) inputWaiting() bool {
	for i := range t.copiers {
		cp := &t.copiers[i]
		if cp.srcRC() == nil || cp.ended {
			// An ended direction's socket stays readable at EOF.
			continue
		}
		if netpoll.Readable(cp.srcRC()) {
			return true
		}
	}
	return false
}

// onParkCheck is the park timer: once nothing has moved for ParkAfter, it
// asks both copiers to park. A resumed copier re-arms it.
func (t *tunnel) onParkCheck() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.parkArmed = false
	if t.closing || t.finished || t.live < 2 {
		return
	}
	after := t.parkAfter()
	if since := t.idleFor(); since < after {
		t.park.Reset(after - since)
		t.parkArmed = true
		return
	}
	for i := range t.copiers {
		t.copiers[i].request(reqPark, 0, "")
	}
}

// armPark re-arms the park timer after a copier resumed.
func (t *tunnel) armPark() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.park == nil || t.parkArmed || t.closing || t.finished {
		return
	}
	t.park.Reset(t.parkAfter())
	t.parkArmed = true
}
