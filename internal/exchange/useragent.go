package exchange

import "strings"

// The browser tests of ngx_http_process_user_agent, which nginx makes
// once per request on its User-Agent and which keepalive_disable and
// gzip_disable read. Like nginx's ngx_strstrn, they match case.

// MSIE6 reports nginx's msie6 flag: "MSIE 4.", "MSIE 5." or "MSIE 6."
// without "SV1" after it, with at least one more byte behind the
// version's dot, and no "Opera" anywhere.
func MSIE6(ua string) bool {
	i := strings.Index(ua, "MSIE ")
	if i < 0 || i+7 >= len(ua) || strings.Contains(ua, "Opera") {
		return false
	}
	m := ua[i:]
	if m[6] != '.' {
		return false
	}
	switch m[5] {
	case '4', '5':
		return true
	case '6':
		return !strings.Contains(m[8:], "SV1")
	}
	return false
}

// Safari reports nginx's safari flag: "Safari/" and "Mac OS X", in a
// User-Agent that is not MSIE's (nginx's msie flag: "MSIE " with more
// than seven bytes from it to the end) nor Opera's, and names neither
// "Gecko/" nor "Chrome/" (which nginx tests first).
func Safari(ua string) bool {
	if i := strings.Index(ua, "MSIE "); i >= 0 && i+7 < len(ua) {
		return false
	}
	if strings.Contains(ua, "Opera") || strings.Contains(ua, "Gecko/") || strings.Contains(ua, "Chrome/") {
		return false
	}
	return strings.Contains(ua, "Safari/") && strings.Contains(ua, "Mac OS X")
}
