package http1

import (
	"sync/atomic"
	"time"
)

// AppendHTTPDate appends t as an HTTP date, the IMF-fixdate of RFC 9110
// section 5.6.7 ("Mon, 02 Jan 2006 15:04:05 GMT"): the Date header's value.
func AppendHTTPDate(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "Mon, 02 Jan 2006 15:04:05 GMT")
}

// dateStamp is a Date value and the second it stands for. A stamp is
// never modified once published, so any goroutine may read its text.
type dateStamp struct {
	sec  int64
	text []byte
}

// lastDate is the Date value of the latest response, shared by all
// connections and by every response the process writes (its own pages,
// proxied responses, 101s): a per-connection cache would format the date
// again for every new connection.
var lastDate atomic.Pointer[dateStamp]

// Date returns the Date header value (AppendHTTPDate) of now. It is
// formatted once per second for the whole process, so a request costs no
// allocation; the caller must not modify the result.
func Date(now time.Time) []byte {
	sec := now.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &dateStamp{sec: sec, text: AppendHTTPDate(nil, now)}
	lastDate.Store(d)
	return d.text
}

// dateTick is how often the Date clock is read while responses are
// written (dateNow).
const dateTick = 10 * time.Millisecond

// dateClock is the time the Date lines of the server's own responses
// are written with (AddServerDate): the clock reading of its latest
// tick, as nginx writes the time its event loop last woke
// (ngx_time_update) and not a reading per response. Ticks run only
// while responses are written: a tick that finds none written since the
// one before stops them, and the next response reads the clock itself
// and starts them again. A Date is thus at most two ticks (and the
// scheduler's delay of a timer) behind the clock, however long the
// request waited before, and an idle process keeps no timer.
var dateClock struct {
	now     atomic.Int64 // Unix nanoseconds
	used    atomic.Bool  // a Date was taken since the latest tick
	running atomic.Bool  // dateTicker runs
}

// dateNow is the time for a Date line (dateClock).
func dateNow() time.Time {
	if !dateClock.used.Load() {
		dateClock.used.Store(true)
	}
	if !dateClock.running.Load() && dateClock.running.CompareAndSwap(false, true) {
		now := time.Now()
		dateClock.now.Store(now.UnixNano())
		go dateTicker()
		return now
	}
	return time.Unix(0, dateClock.now.Load())
}

// dateTicker reads the clock for dateClock every dateTick while Dates
// are taken.
func dateTicker() {
	t := time.NewTicker(dateTick)
	defer t.Stop()
	for range t.C {
		if !dateClock.used.Swap(false) {
			dateClock.running.Store(false)
			return
		}
		dateClock.now.Store(time.Now().UnixNano())
	}
}
