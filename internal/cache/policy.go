package cache

import (
	"bytes"
	"time"

	"wsgate/internal/exchange"
)

// This file decides whether an upstream response is stored and until
// when (ngx_http_upstream_process_cache_control, _expires,
// _accel_expires, _set_cookie, _vary, and ngx_http_file_cache_valid).

// Ignore is proxy_ignore_headers: the response headers whose meaning
// for the cache is disregarded.
type Ignore uint16

const (
	IgnoreXAccelExpires Ignore = 1 << iota
	IgnoreExpires
	IgnoreCacheControl
	IgnoreSetCookie
	IgnoreVary
)

// Valid is one proxy_cache_valid line's status (0: any) and time.
type Valid struct {
	Status int
	Time   time.Duration
}

// Freshness is what Decide found.
type Freshness struct {
	// Cacheable says the response may be stored; then Valid (a unix
	// second) is when it goes stale, Updating and Error its
	// stale-while-revalidate and stale-if-error seconds, Vary its Vary.
	Cacheable       bool
	Valid           int64
	Updating, Error int64
	Vary            []byte
}

// HeaderList is a response's header lines.
type HeaderList interface {
	Len() int
	At(i int) (name, value []byte)
}

// maxVary is the longest Vary nginx caches by (NGX_HTTP_CACHE_VARY_LEN).
const maxVary = 128

// Decide reads a response's status and headers as nginx does, in the
// order they came: X-Accel-Expires ("N" seconds, "@T" a unix time, 0
// refuses) decides alone when present; otherwise Cache-Control's
// no-cache, no-store and private, and a max-age (or s-maxage) of 0
// refuse it, a positive one sets its lifetime, and Expires sets it when
// Cache-Control did not (a date not in the future refuses it);
// stale-while-revalidate and stale-if-error are read in every case;
// Set-Cookie refuses it; Vary "*"
// or a Vary longer than 128 bytes refuses it. Without a lifetime from
// the headers, proxy_cache_valid's time for the status; none refuses
// it. parseTime reads an HTTP date (-1 for an invalid one).
func Decide(status int, h HeaderList, ignore Ignore, valid []Valid, now time.Time, parseTime func([]byte) int64) Freshness {
	f := Freshness{Cacheable: true}
	sec := now.Unix()
	// X-Accel-Expires decides alone wherever it is among the headers:
	// Cache-Control's refusals and ages and Expires are then not read
	// (its extensions still are).
	accel := false
	if ignore&IgnoreXAccelExpires == 0 {
		for i := 0; i < h.Len(); i++ {
			name, v := h.At(i)
			if !equalFold(name, "x-accel-expires") {
				continue
			}
			abs := len(v) > 0 && v[0] == '@'
			if abs {
				v = v[1:]
			}
			n := exchange.Atoi(v)
			switch {
			case n < 0:
				continue
			case n == 0:
				f.Cacheable = false
			case abs:
				f.Valid = n
			default:
				f.Valid = sec + n
			}
			accel = true
		}
	}
	for i := 0; i < h.Len(); i++ {
		name, v := h.At(i)
		switch {
		case ignore&IgnoreCacheControl == 0 && equalFold(name, "cache-control"):
			if n, ok := directive(v, "stale-while-revalidate="); ok {
				f.Updating = n
			}
			if n, ok := directive(v, "stale-if-error="); ok {
				f.Error = n
			}
			if accel {
				continue
			}
			if containsFold(v, "no-cache") || containsFold(v, "no-store") || containsFold(v, "private") {
				f.Cacheable = false
				continue
			}
			n, ok := directive(v, "s-maxage=")
			if !ok {
				n, ok = directive(v, "max-age=")
			}
			if ok && n == 0 {
				f.Cacheable = false
			} else if ok {
				f.Valid = sec + n
			}
		case ignore&IgnoreExpires == 0 && !accel && equalFold(name, "expires"):
			if f.Valid != 0 {
				continue
			}
			t := parseTime(v)
			if t < 0 || t <= sec {
				f.Cacheable = false
				continue
			}
			f.Valid = t
		case ignore&IgnoreSetCookie == 0 && equalFold(name, "set-cookie"):
			f.Cacheable = false
		case ignore&IgnoreVary == 0 && equalFold(name, "vary"):
			if len(v) > maxVary || containsFold(v, "*") {
				f.Cacheable = false
			}
			f.Vary = v
		}
	}
	if !f.Cacheable {
		return f
	}
	if f.Valid == 0 {
		d, ok := ValidFor(valid, status)
		if !ok || d <= 0 {
			f.Cacheable = false
			return f
		}
		f.Valid = sec + int64(d/time.Second)
	}
	return f
}

// ValidFor is ngx_http_file_cache_valid: the time of the first line
// naming status, else of an "any" line.
func ValidFor(valid []Valid, status int) (time.Duration, bool) {
	for _, v := range valid {
		if v.Status == status {
			return v.Time, true
		}
	}
	for _, v := range valid {
		if v.Status == 0 {
			return v.Time, true
		}
	}
	return 0, false
}

// directive finds name (e.g. "max-age=") in a Cache-Control value and
// reads its decimal argument; ok is false when absent or not a number.
func directive(v []byte, name string) (int64, bool) {
	i := indexFold(v, name)
	if i < 0 {
		return 0, false
	}
	rest := v[i+len(name):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	if j == 0 || (j < len(rest) && rest[j] != ',' && rest[j] != ' ' && rest[j] != ';' && rest[j] != '\t') {
		return 0, false
	}
	return exchange.Atoi(rest[:j]), true
}

func equalFold(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }

func containsFold(v []byte, s string) bool { return indexFold(v, s) >= 0 }

func indexFold(v []byte, s string) int {
	for i := 0; i+len(s) <= len(v); i++ {
		if bytes.EqualFold(v[i:i+len(s)], []byte(s)) {
			return i
		}
	}
	return -1
}
