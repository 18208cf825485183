package files

import (
	"strconv"
	"sync/atomic"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// clock, when set, is the clock the expires directive reads instead of
// time.Now (tests set it; connections still being served may read it
// while a test ends, hence the atomic).
var clock atomic.Pointer[func() time.Time]

func now() time.Time {
	if f := clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// ExpiresStatus reports whether nginx's headers filter applies expires
// (and add_header without "always") to a response with status: 200, 201,
// 204, 206, 301, 302, 303, 304, 307, 308.
func ExpiresStatus(status int) bool {
	switch status {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// ExpiresValues are the Expires and Cache-Control values of the expires
// directive e (ngx_http_set_expires), appended to dst: the Expires date
// is dst[:mid] after the starting length, the Cache-Control value the
// rest. epoch and max are fixed texts; a time counts from the current
// second, from lastModified (modified, when the response has one: ok) or
// to the next such time of day (@). A negative time, or a maximum age
// below zero, is "no-cache"; zero is "max-age=0" with Expires now. It is
// not called for ExpiresOff.
func ExpiresValues(dst []byte, e config.Expires, lastModified time.Time, ok bool) (out []byte, mid int) {
	switch e.Mode {
	case config.ExpiresEpoch:
		dst = append(dst, "Thu, 01 Jan 1970 00:00:01 GMT"...)
		return append(dst, "no-cache"...), len(dst)
	case config.ExpiresMax:
		dst = append(dst, "Thu, 31 Dec 2037 23:55:55 GMT"...)
		return append(dst, "max-age=315360000"...), len(dst)
	}
	t := now().Truncate(time.Second)
	sec := int64(e.Time / time.Second)
	if sec == 0 && e.Mode != config.ExpiresDaily {
		dst = appendHTTPTime(dst, t)
		return append(dst, "max-age=0"...), len(dst)
	}
	var exp, maxAge int64
	switch {
	case e.Mode == config.ExpiresDaily:
		exp = nextTime(t, sec)
		maxAge = exp - t.Unix()
	case e.Mode == config.ExpiresAccess || !ok:
		maxAge = sec
		exp = t.Unix() + sec
	default:
		exp = lastModified.Unix() + sec
		maxAge = exp - t.Unix()
	}
	dst = appendHTTPTime(dst, time.Unix(exp, 0))
	mid = len(dst)
	if sec < 0 || maxAge < 0 {
		return append(dst, "no-cache"...), mid
	}
	dst = append(dst, "max-age="...)
	return strconv.AppendInt(dst, maxAge, 10), mid
}

// AppendExpiresLines appends "Expires: ...\r\nCache-Control: ...\r\n" for
// e, nothing when it is off.
func AppendExpiresLines(dst []byte, e config.Expires, lastModified time.Time, ok bool) []byte {
	if e.Mode == config.ExpiresOff {
		return dst
	}
	var buf [96]byte
	v, mid := ExpiresValues(buf[:0], e, lastModified, ok)
	dst = append(dst, "Expires: "...)
	dst = append(dst, v[:mid]...)
	dst = append(dst, "\r\nCache-Control: "...)
	dst = append(dst, v[mid:]...)
	return append(dst, "\r\n"...)
}

// ResolveExpires is the expires directive e for one request: e itself,
// or, when its value holds variables (value, compiled from e.Value), the
// evaluated value read as ngx_http_set_expires reads it; off (no header)
// when that is "off" or invalid.
func ResolveExpires(e config.Expires, value Template, vc *vars.Ctx) config.Expires {
	if e.Value == "" || value == nil {
		return e
	}
	var buf [64]byte
	r, ok := config.EvalExpires(e, string(value.Append(buf[:0], vc)))
	if !ok {
		return config.Expires{}
	}
	return r
}

// expiresLines is AppendExpiresLines with the location's expires.
func (s *state) expiresLines(dst []byte, mtime time.Time, hasMtime bool) []byte {
	return AppendExpiresLines(dst, ResolveExpires(s.h.expires, s.h.expiresValue, s.vc), mtime, hasMtime)
}

// nextTime is ngx_next_time: the next moment, in local time, whose time of
// day is sec seconds after midnight (today's if still ahead, else
// tomorrow's).
func nextTime(t time.Time, sec int64) int64 {
	lt := t.Local()
	y, m, d := lt.Date()
	next := time.Date(y, m, d, 0, 0, 0, 0, time.Local).Add(time.Duration(sec) * time.Second)
	if !next.After(lt) {
		next = time.Date(y, m, d+1, 0, 0, 0, 0, time.Local).Add(time.Duration(sec) * time.Second)
	}
	return next.Unix()
}
