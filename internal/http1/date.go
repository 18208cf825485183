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
