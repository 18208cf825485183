package tunnel

import (
	"sync"
	"time"
)

// deadlines holds the idle timers (onIdle: ReadTimeout, Pings, Progress
// reports) of many tunnels under one time.Timer, as nginx keeps every
// timer of a worker in one tree: a min-heap of tunnels by their due time,
// and the Timer set to the earliest. A tunnel then costs a slot in the
// heap and two fields of its own instead of a *time.Timer, its callback
// closure and an entry in the runtime's timer heap (about 160 bytes per
// idle tunnel). Each Parker shard has one (the tunnels of its loop), and
// tunnels that never park share looseDeadlines.
//
// A due tunnel's onIdle runs in a goroutine of its own, as time.AfterFunc
// runs its function: it may resume a parked copier to write a Ping. The
// heap is guarded by mu, which may be taken with tunnel.mu held (never the
// reverse).
type deadlines struct {
	mu    sync.Mutex
	heap  []*tunnel
	timer *time.Timer // made at the first schedule
	armed int64       // when timer fires (clock), 0: stopped
}

// looseDeadlines serves the tunnels that have no shard.
var looseDeadlines deadlines

// epoch is the origin of the deadlines' clock: nanoseconds on the
// monotonic clock since the process started.
var epoch = time.Now()

func clock() int64 { return int64(time.Since(epoch)) }

// schedule makes onIdle run for t after d (at least a nanosecond),
// replacing a schedule it had.
func (dl *deadlines) schedule(t *tunnel, d time.Duration) {
	when := clock() + int64(max(d, 1))
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if t.when != 0 {
		old := t.when
		t.when = when
		if when < old {
			dl.up(int(t.slot))
		} else {
			dl.down(int(t.slot))
		}
	} else {
		t.when = when
		t.slot = int32(len(dl.heap))
		dl.heap = append(dl.heap, t)
		dl.up(int(t.slot))
	}
	dl.arm()
}

// cancel takes t's schedule out, if it has one.
func (dl *deadlines) cancel(t *tunnel) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if t.when == 0 {
		return
	}
	dl.remove(int(t.slot))
	// The timer is left as it is: firing finds nothing due, or re-arms
	// for the new earliest.
}

// arm sets the timer for the earliest schedule when it is earlier than
// the one armed. dl.mu is held.
func (dl *deadlines) arm() {
	if len(dl.heap) == 0 {
		return
	}
	first := dl.heap[0].when
	if dl.armed != 0 && dl.armed <= first {
		return
	}
	dl.armed = first
	d := time.Duration(first - clock())
	if dl.timer == nil {
		dl.timer = time.AfterFunc(d, dl.fire)
		return
	}
	dl.timer.Reset(d)
}

// fire is the timer's function: it takes out every schedule that is due
// and starts their onIdle.
func (dl *deadlines) fire() {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	now := clock()
	dl.armed = 0
	for len(dl.heap) > 0 && dl.heap[0].when <= now {
		t := dl.heap[0]
		dl.remove(0)
		go t.onIdle()
	}
	dl.arm()
}

// remove takes the schedule at heap index i out. dl.mu is held.
func (dl *deadlines) remove(i int) {
	h := dl.heap
	t := h[i]
	last := len(h) - 1
	if i != last {
		h[i] = h[last]
		h[i].slot = int32(i)
	}
	h[last] = nil
	dl.heap = h[:last]
	t.when, t.slot = 0, 0
	if i != last {
		dl.down(i)
		dl.up(i)
	}
	if cap(dl.heap) > 64 && len(dl.heap) < cap(dl.heap)/4 {
		// Give back what a crowd of tunnels that ended took.
		dl.heap = append(make([]*tunnel, 0, cap(dl.heap)/2), dl.heap...)
	}
}

func (dl *deadlines) up(i int) {
	h := dl.heap
	for i > 0 {
		p := (i - 1) / 2
		if h[p].when <= h[i].when {
			break
		}
		h[p], h[i] = h[i], h[p]
		h[p].slot, h[i].slot = int32(p), int32(i)
		i = p
	}
}

func (dl *deadlines) down(i int) {
	h := dl.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].when < h[l].when {
			m = r
		}
		if h[i].when <= h[m].when {
			return
		}
		h[i], h[m] = h[m], h[i]
		h[i].slot, h[m].slot = int32(i), int32(m)
		i = m
	}
}
