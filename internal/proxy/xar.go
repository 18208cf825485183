package proxy

import (
	"bytes"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// This file is X-Accel-Redirect (ngx_http_upstream_process_headers): an
// upstream answer that names a URI or a named location in it is dropped,
// and the request goes on there as an internal redirect, with a few of
// the upstream's header lines kept for the final answer.

// accelRedirect returns the X-Accel-Redirect value of resp that the
// location acts on: nil when there is none or proxy_ignore_headers
// names it.
func accelRedirect(resp *http1.Response, lc *config.LocConf) []byte {
	if lc.Proxy.IgnoreHeaders&config.IgnoreXAccelRedirect != 0 || resp.Status == 101 {
		return nil
	}
	for _, h := range resp.Headers {
		if len(h.Name) == 16 && bytes.EqualFold(h.Name, xAccelRedirect) && len(h.Value) > 0 {
			return h.Value
		}
	}
	return nil
}

var xAccelRedirect = []byte("X-Accel-Redirect")

// accelKept are the upstream header lines an X-Accel-Redirect keeps for
// the answer of the location it leads to (the "redirect" entries of
// ngx_http_upstream_headers_in). Content-Type is one in nginx too, where
// it replaces the type that location would send; wsgate does not keep it.
var accelKept = [...]string{"set-cookie", "content-disposition", "cache-control", "expires", "accept-ranges"}

// accelResult is the internal redirect to value: a named location
// ("@name"), or a URI with its arguments after '?', percent-decoded and
// refused (404) when it leaves the root ("..", as
// ngx_http_parse_unsafe_uri finds it). A URI redirect makes any method
// but HEAD a GET. The kept header lines go to w.
func (c *clientConn) accelResult(w exchange.ResponseWriter, req *exchange.Request, resp *http1.Response, value []byte) exchange.Result {
	for _, h := range resp.Headers {
		for _, k := range accelKept {
			if len(h.Name) == len(k) && bytes.EqualFold(h.Name, []byte(k)) {
				w.AddErrorHeader(h.Name, h.Value)
			}
		}
	}
	if value[0] == '@' {
		return exchange.Result{Named: string(value)}
	}
	uri, args, ok := parseUnsafeURI(value)
	if !ok {
		c.h.Log.Error("unsafe URI was detected", "uri", string(value), "client", c.remoteAddr)
		return exchange.Result{Error: 404}
	}
	if !req.IsHEAD() {
		req.Method = getMethod
		c.vc.Method = "GET"
	}
	return exchange.Result{RedirectURI: uri, RedirectArgs: args}
}

var getMethod = []byte("GET")

// parseUnsafeURI is ngx_http_parse_unsafe_uri: the URI up to '?' and the
// arguments after it; ok is false for a ".." segment, also one made of
// percent-escapes, and for a NUL. A URI with escapes is decoded and
// checked again.
func parseUnsafeURI(v []byte) (uri, args string, ok bool) {
	if len(v) >= 2 && v[0] == '.' && v[1] == '.' && (len(v) == 2 || v[2] == '/') {
		return "", "", false
	}
	end, quoted := len(v), false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '%':
			quoted = true
		case c == '?':
			end, args = i, string(v[i+1:])
		case c == 0:
			return "", "", false
		case c == '/' && len(v)-i > 2 && v[i+1] == '.' && v[i+2] == '.' && (len(v)-i == 3 || v[i+3] == '/'):
			return "", "", false
		}
		if end < len(v) {
			break
		}
	}
	d, changed := unescapeURI(v[:end])
	if !quoted || !changed {
		if hasDotDot(v[:end]) {
			// "..?x": nginx checks the leading ".." only when a '/' or
			// nothing follows it; wsgate refuses it too.
			return "", "", false
		}
		return string(v[:end]), args, true
	}
	u, _, ok := parseUnsafeURI(d)
	return u, args, ok
}

// hasDotDot reports whether p has a ".." segment.
func hasDotDot(p []byte) bool {
	for _, seg := range bytes.Split(p, []byte("/")) {
		if string(seg) == ".." {
			return true
		}
	}
	return false
}

// unescapeURI decodes %XX escapes; a '%' not followed by two hex digits
// stays as it is. changed is false when there was nothing to decode.
func unescapeURI(v []byte) (out []byte, changed bool) {
	out = make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			out = append(out, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
			changed = true
			continue
		}
		out = append(out, v[i])
	}
	return out, changed
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
