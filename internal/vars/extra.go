package vars

import (
	"path/filepath"
	"strconv"
	"time"
)

// This file holds the variables of nginx 1.22's http core, upstream,
// proxy and ssl modules that are neither request fields nor the common
// ones in eval.go: what a log_format or a header line may name, so that no
// configuration fails on a variable (TestNginxVariablesKnown lists them).

// NginxVersion is $nginx_version: the nginx release whose behaviour
// wsgate reproduces.
const NginxVersion = "1.22.1"

// appendExtra appends the value of the variables of this file and
// reports whether it was found.
func (cp *Compiler) appendExtra(dst []byte, c *Ctx, p *part) ([]byte, bool) {
	switch p.kind {
	case kSentHTTP:
		return sentHeader(dst, c.SentHead, p.lit)
	case kSentTrailer:
		v, ok := lineValue(c.SentTrailers, p.lit)
		return append(dst, v...), ok
	case kRequestCompletion:
		// ngx_http_variable_request_completion: "OK" or empty, found.
		if c.Completed {
			return append(dst, "OK"...), true
		}
		return dst, true
	case kConnectionTime:
		// ngx_http_variable_connection_time: "%T.%03M" since accept.
		var d time.Duration
		if !c.ConnStart.IsZero() {
			d = c.now().Sub(c.ConnStart)
		}
		return appendSeconds(dst, d), true
	case kNginxVersion:
		return append(dst, NginxVersion...), true
	case kTCPInfoRTT, kTCPInfoRTTVar, kTCPInfoSndCwnd, kTCPInfoRcvSpace:
		if c.TCPInfo == nil {
			return dst, false
		}
		ti, ok := c.TCPInfo()
		if !ok {
			return dst, false
		}
		v := [...]uint32{ti.RTT, ti.RTTVar, ti.SndCwnd, ti.RcvSpace}[p.kind-kTCPInfoRTT]
		return strconv.AppendUint(dst, uint64(v), 10), true
	case kHTTP2:
		// ngx_http_v2_variable: "h2" over TLS, "h2c" in the clear, empty
		// (found) for other protocols.
		if c.Proto == "HTTP/2.0" {
			if c.TLS {
				return append(dst, "h2"...), true
			}
			return append(dst, "h2c"...), true
		}
		return dst, true
	case kHTTP3:
		// ngx_http_v3_variable: "h3" over HTTP/3, empty (found) for
		// other protocols.
		if c.Proto == "HTTP/3.0" {
			return append(dst, "h3"...), true
		}
		return dst, true
	case kDocumentRoot, kRealpathRoot, kRequestFilename:
		if c.Paths == nil {
			return dst, false
		}
		if p.kind == kRequestFilename {
			return c.Paths.AppendFilename(dst, c)
		}
		start := len(dst)
		dst = c.Paths.AppendDocumentRoot(dst, c)
		if p.kind == kRealpathRoot {
			// ngx_http_variable_realpath_root: realpath(3) of the root,
			// not found when it fails.
			real, err := filepath.EvalSymlinks(string(dst[start:]))
			if err != nil {
				return dst[:start], false
			}
			if abs, err := filepath.Abs(real); err == nil {
				real = abs
			}
			dst = append(dst[:start], real...)
		}
		return dst, true
	case kUpstreamCookie:
		// ngx_http_upstream_cookie_variable: the value of the first
		// Set-Cookie line's cookie of that name.
		for i := range c.UpstreamHeaders {
			if headerIs(c.UpstreamHeaders[i].Name, "set_cookie") {
				if v, ok := setCookieValue(c.UpstreamHeaders[i].Value, p.lit); ok {
					return append(dst, v...), true
				}
			}
		}
		return dst, false
	case kUpstreamTrailer:
		// nginx's proxy module keeps no upstream trailers (grpc's
		// does): not found unless a handler fills UpstreamTrailers.
		for i := range c.UpstreamTrailers {
			if headerIs(c.UpstreamTrailers[i].Name, p.lit) {
				return append(dst, c.UpstreamTrailers[i].Value...), true
			}
		}
		return dst, false
	case kProxyInternalBodyLength:
		if !c.Proxied || !c.ProxyBodyKnown {
			return dst, false
		}
		return strconv.AppendInt(dst, c.ProxyBodyLength, 10), true
	case kProxyInternalChunked:
		if !c.Proxied || !c.ProxyChunked {
			return dst, false
		}
		return append(dst, "chunked"...), true
	case kSSLCiphers, kSSLCurves, kSSLSessionID, kSSLClientSDNLegacy, kSSLClientIDNLegacy:
		s, found, _ := sslExtra(c.TLSState, c.TLSHello, p.kind)
		return append(dst, s...), found
	}
	return dst, false
}

// setCookieValue is ngx_http_parse_set_cookie_lines for one line: when
// the line starts with name (case-insensitive), spaces, "=" and spaces,
// the value up to ";".
func setCookieValue(line, name string) (string, bool) {
	if len(name) >= len(line) || !equalFold(line[:len(name)], name) {
		return "", false
	}
	i := len(name)
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if i == len(line) || line[i] != '=' {
		return "", false
	}
	i++
	for i < len(line) && line[i] == ' ' {
		i++
	}
	e := i
	for e < len(line) && line[e] != ';' {
		e++
	}
	return line[i:e], true
}
