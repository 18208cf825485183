package http1

import "time"

// This file is limit_rate's pacing of a response
// (ngx_http_write_filter_module): the bytes sent for the request, its head
// included, may run at most rate bytes a second ahead of the second the
// request started in, once the first after bytes are out; past that a
// write waits. After each write that carried bytes past after, the next
// waits as long as they take at the rate (nginx's delayed write event),
// which the last write of a response never does. A tunnel after a 101 is
// not paced, as nginx 1.22 does not pace upgraded connections.

// pacer is a request's limit_rate state; the zero value paces nothing.
type pacer struct {
	rate, after int64 // bytes per second (0: no limit); bytes sent first at full speed
	startSec    int64 // the request's start, in whole seconds (r->start_sec)
	sent        int64 // bytes of the request written so far (c->sent)
	until       time.Time
	// now and sleep are the clock (nil: the real one; tests set them).
	now   func() time.Time
	sleep func(time.Duration)
}

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
}

// allow waits until n more bytes, or a part of them, may go out and
// returns how many.
func (p *pacer) allow(n int64) int64 {
	if d := p.until.Sub(p.clock()); d > 0 {
		p.wait(d)
	}
	for {
		limit := p.rate*(p.clock().Unix()-p.startSec+1) - (p.sent - p.after)
		if limit > 0 {
			return min(n, limit)
		}
		p.wait(time.Duration(-limit*1000/p.rate+1) * time.Millisecond)
	}
}

func (p *pacer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *pacer) wait(d time.Duration) {
	if p.sleep != nil {
		p.sleep(d)
		return
	}
	time.Sleep(d)
}

// wrote counts m bytes written and sets when the next write may start.
func (p *pacer) wrote(m int64) {
	before := max(p.sent-p.after, 0)
	p.sent += m
	if d := (max(p.sent-p.after, 0) - before) * 1000 / p.rate; d > 0 {
		p.until = p.clock().Add(time.Duration(d) * time.Millisecond)
	}
}
