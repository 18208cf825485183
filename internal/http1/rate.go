package http1

import (
	"errors"
	"time"

	"wsgate/internal/netpoll"
)

// This file is limit_rate's pacing of a response
// (ngx_http_write_filter_module): the bytes sent for the request, its head
// included, may run at most rate bytes a second ahead of the second the
// request started in, once the first after bytes are out; past that a
// write waits. After each write that carried bytes past after, the next
// waits as long as they take at the rate (nginx's delayed write event),
// which the last write of a response never does. A tunnel after a 101 is
// not paced, as nginx 1.22 does not pace upgraded connections. While a
// write waits, the client connection is watched: a client that closes
// its side ends the response at once (ngx_http_test_reading, "client
// prematurely closed connection"), so it stops counting as active and
// writing then, as in nginx, not when the wait is over.

// pacer is a request's limit_rate state; the zero value paces nothing.
type pacer struct {
	rate, after int64 // bytes per second (0: no limit); bytes sent first at full speed
	startSec    int64 // the request's start, in whole seconds (r->start_sec)
	sent        int64 // bytes of the request written so far (c->sent)
	until       time.Time
	// now and sleep are the clock (nil: the real one; tests set them).
	now   func() time.Time
	sleep func(time.Duration)
	// watch, when set, waits d unless the client closes its side first,
	// which it reports (connWriter.watchFor).
	watch func(d time.Duration) (gone bool)
}

// errClientGone ends a paced response whose client closed its side.
var errClientGone = errors.New("client prematurely closed connection")

// SetRate sets the request's limit_rate and limit_rate_after: rate bytes
// a second (0 turns the limit off) after the first after bytes, counted
// from start, the request's start; after < 0 keeps the one set before
// (a backend's X-Accel-Limit-Rate changes only the rate).
func (w *ResponseWriter) SetRate(rate, after int64, start time.Time) {
	p := &w.c.cw.pace
	if after >= 0 {
		p.after = after
	}
	p.rate, p.startSec = rate, start.Unix()
	if p.watch == nil && w.c.cw.rc != nil {
		p.watch = w.c.cw.watchFor
	}
}

// allow waits until n more bytes, or a part of them, may go out and
// returns how many; errClientGone when the client closed its side meanwhile.
func (p *pacer) allow(n int64) (int64, error) {
	if d := p.until.Sub(p.clock()); d > 0 {
		if err := p.wait(d); err != nil {
			return 0, err
		}
	}
	for {
		limit := p.rate*(p.clock().Unix()-p.startSec+1) - (p.sent - p.after)
		if limit > 0 {
			return min(n, limit), nil
		}
		if err := p.wait(time.Duration(-limit*1000/p.rate+1) * time.Millisecond); err != nil {
			return 0, err
		}
	}
}

func (p *pacer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *pacer) wait(d time.Duration) error {
	switch {
	case p.sleep != nil:
		p.sleep(d)
	case p.watch != nil:
		if p.watch(d) {
			return errClientGone
		}
	default:
		time.Sleep(d)
	}
	return nil
}

// watchFor waits d with the socket watched for the client's end of input
// (a peek, which consumes nothing). Pipelined bytes stop the watch, as
// nginx stops testing once a request's bytes are there: the rest of d is
// slept.
func (c *connWriter) watchFor(d time.Duration) (gone bool) {
	deadline := time.Now().Add(d)
	if c.conn.SetReadDeadline(deadline) != nil {
		time.Sleep(d)
		return false
	}
	st := netpoll.PeekEmpty
	c.rc.Read(func(fd uintptr) bool {
		st = netpoll.Peek(fd)
		return st != netpoll.PeekEmpty
	})
	// The next read sets its own deadline, or reads with none.
	c.conn.SetReadDeadline(time.Time{})
	switch st {
	case netpoll.PeekEnd:
		return true
	case netpoll.PeekData:
		time.Sleep(time.Until(deadline))
	}
	return false
}

// wrote counts m bytes written and sets when the next write may start.
func (p *pacer) wrote(m int64) {
	before := max(p.sent-p.after, 0)
	p.sent += m
	if d := (max(p.sent-p.after, 0) - before) * 1000 / p.rate; d > 0 {
		p.until = p.clock().Add(time.Duration(d) * time.Millisecond)
	}
}
