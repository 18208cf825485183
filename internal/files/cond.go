package files

import (
	"bytes"
	"time"
)

// notModified is ngx_http_not_modified_header_filter for a 200: 412 when
// If-Unmodified-Since or If-Match fails, 304 when If-Modified-Since or
// If-None-Match says the client's copy is current, else 200.
func (s *state) notModified(fi *fileInfo) int {
	hs := s.r.Headers
	if hs == nil {
		return 200
	}
	lm := fi.mtime.Unix()
	if v := hs.Header("If-Unmodified-Since"); v != nil {
		// An unparsable date is -1, which no file's time is at or below.
		if t := parseHTTPTime(v); t < lm {
			return 412
		}
	}
	if v := hs.Header("If-Match"); v != nil && !etagMatch(v, fi.etag, false) {
		return 412
	}
	ims, inm := hs.Header("If-Modified-Since"), hs.Header("If-None-Match")
	if ims == nil && inm == nil {
		return 200
	}
	if ims != nil && s.modifiedSince(ims, lm) {
		return 200
	}
	if inm != nil && !etagMatch(inm, fi.etag, true) {
		return 200
	}
	return 304
}

// modifiedSince is ngx_http_test_if_modified: with "if_modified_since
// before" a date at or after the file's time means unmodified; with
// "exact" only the same second does; "off" always sends the file.
func (s *state) modifiedSince(v []byte, lm int64) bool {
	if s.h.ims == imsOff {
		return true
	}
	t := parseHTTPTime(v)
	if t == lm {
		return false
	}
	return s.h.ims == imsExact || t < lm
}

// etagMatch is ngx_http_test_if_match: "*" matches anything; otherwise
// one entry of the comma-separated list must equal etag (with weak, for
// If-None-Match, "W/" is ignored on both sides).
func etagMatch(list, etag []byte, weak bool) bool {
	if len(list) == 1 && list[0] == '*' {
		return true
	}
	if etag == nil {
		return false
	}
	if weak && len(etag) > 2 && etag[0] == 'W' && etag[1] == '/' {
		etag = etag[2:]
	}
	for p := list; len(p) > 0; {
		if weak && len(p) > 2 && p[0] == 'W' && p[1] == '/' {
			p = p[2:]
		}
		if len(etag) > len(p) {
			return false
		}
		if bytes.HasPrefix(p, etag) {
			q := p[len(etag):]
			for len(q) > 0 && (q[0] == ' ' || q[0] == '\t') {
				q = q[1:]
			}
			if len(q) == 0 || q[0] == ',' {
				return true
			}
		}
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			return false
		}
		p = p[i:]
		for len(p) > 0 && (p[0] == ' ' || p[0] == '\t' || p[0] == ',') {
			p = p[1:]
		}
	}
	return false
}

// httpTimeLayouts are the three date forms of RFC 9110 section 5.6.7,
// which ngx_parse_http_time reads.
var httpTimeLayouts = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// ParseHTTPTime returns the Unix time of an HTTP date (the three forms of
// RFC 9110 section 5.6.7), -1 when it is not one (ngx_parse_http_time's
// NGX_ERROR).
func ParseHTTPTime(v []byte) int64 { return parseHTTPTime(v) }

func parseHTTPTime(v []byte) int64 {
	if len(v) == 0 {
		return -1
	}
	if t, ok := parseIMFFixdate(v); ok {
		return t
	}
	s := string(v)
	for _, l := range httpTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix()
		}
	}
	return -1
}

// appendHTTPTime appends t as an IMF-fixdate (ngx_http_time), without
// time.Format's layout interpretation.
func appendHTTPTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	dst = append(dst, weekdays[t.Weekday()]...)
	dst = append(dst, ',', ' ', byte('0'+d/10), byte('0'+d%10), ' ')
	dst = append(dst, months[mo-1]...)
	dst = append(dst, ' ', byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), ' ',
		byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10), ':', byte('0'+ss/10), byte('0'+ss%10))
	return append(dst, " GMT"...)
}

var weekdays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// parseIMFFixdate reads "Sun, 06 Nov 1994 08:49:37 GMT" without
// allocating. As ngx_parse_http_time, it checks neither the weekday nor
// what follows the seconds.
func parseIMFFixdate(v []byte) (int64, bool) {
	if len(v) < 25 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
		v[19] != ':' || v[22] != ':' {
		return 0, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	day, ok1 := num(v[5:7])
	year, ok2 := num(v[12:16])
	hh, ok3 := num(v[17:19])
	mm, ok4 := num(v[20:22])
	ss, ok5 := num(v[23:25])
	mon := -1
	for i, m := range months {
		if string(v[8:11]) == m {
			mon = i
		}
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	t := time.Date(year, time.Month(mon+1), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return 0, false // 31 Feb and the like: let time.Parse refuse it
	}
	return t.Unix(), true
}

// NotModified is ngx_http_not_modified_header_filter for a 200 that is
// not a file's (a cached proxied response): 412, 304 or 200 as for a
// file, from the request's header (header returns nil for none), the
// response's ETag (nil for none) and Last-Modified (unix seconds, -1 for
// none), under if_modified_since mode ("off", "exact", "before").
func NotModified(header func(name string) []byte, etag []byte, lm int64, mode string) int {
	if v := header("If-Unmodified-Since"); v != nil && lm != -1 {
		if t := parseHTTPTime(v); t < lm {
			return 412
		}
	}
	if v := header("If-Match"); v != nil && !etagMatch(v, etag, false) {
		return 412
	}
	ims, inm := header("If-Modified-Since"), header("If-None-Match")
	if ims == nil && inm == nil {
		return 200
	}
	if ims != nil {
		t := parseHTTPTime(ims)
		if mode == "off" || lm == -1 || t != lm && (mode != "before" || t < lm) {
			return 200
		}
	}
	if inm != nil && !etagMatch(inm, etag, true) {
		return 200
	}
	return 304
}
