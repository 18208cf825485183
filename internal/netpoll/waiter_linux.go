//go:build linux

package netpoll

import (
	"time"
)

// Waiter is where goroutines wait for a Conn's socket: a wake-up channel
// per direction, which the socket's loop fills, and a timer per
// direction for the deadline, each made once. Every readiness event
// wakes both directions (a wake-up that finds the socket still not ready
// only costs the system call that says so), so that a read and a write
// may wait at the same time from two goroutines.
//
// A connection worker keeps one and lends it to the one-shot Conns it
// dials, one at a time (DialTCP): a Waiter is a Handler of the Default
// poller and must outlive the registrations it was given; a wake-up left
// from an earlier connection is harmless (the operation is tried again
// and waits again). A Conn made by Dial or Accept has its own.
type Waiter struct {
	rch, wch chan struct{}
	rt, wt   *time.Timer
	// c is the Conn whose own Waiter this is: its Park request, when
	// set, takes a readiness event instead of the channels.
	c *Conn
}

// init makes w's channels; before its first registration.
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
	for _, t := range [...]*time.Timer{w.rt, w.wt} {
		if t != nil {
			t.Stop()
		}
	}
	w.rt, w.wt = nil, nil
}

// Ready wakes the goroutines waiting in w, or the next ones to wait.
func (w *Waiter) Ready(*Loop, Event) {
	if w.c != nil {
		if fn := w.c.parkFn.Swap(nil); fn != nil {
			(*fn)()
			return
		}
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

// park waits on the channel and timer of one direction for a wake-up, or
// until deadline (Unix nanoseconds; 0: none). It returns on either: the
// caller checks what happened (closed, deadline passed, ready).
func park(ch chan struct{}, tp **time.Timer, deadline int64) {
	if deadline == 0 {
		<-ch
		return
	}
	d := time.Until(time.Unix(0, deadline))
	if d <= 0 {
		return
	}
	t := *tp
	if t == nil {
		t = time.NewTimer(d)
		*tp = t
	} else {
		t.Reset(d)
	}
	select {
	case <-ch:
		t.Stop()
	case <-t.C:
	}
}
