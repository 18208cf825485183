//go:build linux

package netpoll

import (
	"time"
)

// Waiter is where goroutines wait for a Conn's socket: a wake-up channel
// per direction, which the socket's loop fills, and a timer per
// direction for the deadline, each made once. A deadline's timer stays
// armed from one wait to the next and is moved only when a wait's
// deadline comes before it (or it has fired), as Go's poller keeps a
// deadline's timer between reads: a connection whose deadline is moved
// lazily (keepalive_timeout) costs no timer work per wait. Every
// readiness event wakes both directions (a wake-up that finds the socket
// still not ready only costs the system call that says so), so that a
// read and a write may wait at the same time from two goroutines.
//
// A connection worker keeps one and lends it to the one-shot Conns it
// dials, one at a time (DialTCP): a Waiter is a Handler of the Default
// poller and must outlive the registrations it was given; a wake-up left
// from an earlier connection is harmless (the operation is tried again
// and waits again). A Conn made by Dial or Accept has its own.
type Waiter struct {
	rch, wch chan struct{}
	rt, wt   deadlineTimer
	// c is the Conn whose own Waiter this is: its Park request, when
	// set, takes a readiness event instead of the channels.
	c *Conn
}

// init makes w's channels; before its first registration for a wait
// (a Conn's own Waiter: under the Conn's mu).
func (w *Waiter) init() {
	if w.rch == nil {
		w.rch = make(chan struct{}, 1)
		w.wch = make(chan struct{}, 1)
	}
}

// release lets w's deadline timers go, for a Waiter no goroutine waits
// in (Conn.Unregister); a later wait under a deadline makes them again.
// The channels stay: a loop's event under way may still fill them.
func (w *Waiter) release() {
	w.rt.stop()
	w.wt.stop()
}

// Ready wakes the goroutines waiting in w, or the next ones to wait.
func (w *Waiter) Ready(_ *Loop, ev Event) {
	if w.c != nil {
		if ev.Hup {
			// Before the wake-up: a read that takes it sees hup set
			// (Conn.drained).
			w.c.hup.Store(true)
		}
		if fn := w.c.parkFn.Swap(nil); fn != nil {
			(*fn)()
			return
		}
		// A Conn's own channels are made by its first wait (Conn.chans).
		w.c.wakeAll()
		return
	}
	wake(w.rch)
	wake(w.wch)
}

// wake fills ch unless it is full already.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// drain takes a wake-up left in ch, before the attempt that a wait would
// follow: a readiness that came before it is seen by the attempt itself,
// and one after it leaves a new wake-up. So a wait is never woken by an
// event (or a deadline change) older than the attempt it follows.
func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// deadlineTimer wakes one direction's channel when a deadline passes.
type deadlineTimer struct {
	t  *time.Timer
	at int64 // when t fires, Unix nanoseconds; 0: not armed
}

// stop disarms the timer and lets it go.
func (dt *deadlineTimer) stop() {
	if dt.t != nil {
		dt.t.Stop()
	}
	*dt = deadlineTimer{}
}

// park waits on the channel of one direction for a wake-up, or until
// deadline (Unix nanoseconds; 0: none), which dt wakes it at, armed
// from now, the caller's clock reading (0: read it here). It returns
// on either: the caller checks what happened (closed, deadline passed,
// ready). dt is left armed: a timer that fires before a later wait's
// deadline only wakes that wait to be armed again.
func park(ch chan struct{}, dt *deadlineTimer, deadline, now int64) {
	if deadline != 0 {
		if now == 0 {
			now = time.Now().UnixNano()
		}
		if deadline <= now {
			return
		}
		if dt.at == 0 || dt.at > deadline || dt.at <= now {
			d := time.Duration(deadline - now)
			if dt.t == nil {
				dt.t = time.AfterFunc(d, func() { wake(ch) })
			} else {
				dt.t.Reset(d)
			}
			dt.at = deadline
		}
	}
	<-ch
}
