package vars

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"wsgate/internal/openssl"
)

// Escape is a log_format escape= mode (ngx_http_log_module).
type Escape uint8

const (
	// EscapeNone copies values as they are and writes nothing for a
	// variable that is not found: log_format escape=none, and what
	// Append does for proxy_set_header and other directives.
	EscapeNone Escape = iota
	// EscapeDefault writes "-" for a variable that is not found and
	// escapes `"`, `\`, bytes below 0x20 and from 0x7f as \xXX
	// (ngx_http_log_escape). Literal text is never escaped.
	EscapeDefault
	// EscapeJSON writes nothing for a variable that is not found and
	// escapes as ngx_escape_json: `"` and `\` with a backslash, \n \r \t
	// \b \f, other bytes below 0x20 as \u00XX.
	EscapeJSON
)

// ParseEscape maps a log_format escape= value ("default", "json", "none").
func ParseEscape(s string) (Escape, bool) {
	switch s {
	case "default", "":
		return EscapeDefault, true
	case "json":
		return EscapeJSON, true
	case "none":
		return EscapeNone, true
	}
	return 0, false
}

// Append appends the template's value for c to dst. Variables that are not
// found add nothing. The common variables (headers, $host, addresses, URIs,
// numbers) do not allocate.
func (t *Template) Append(dst []byte, c *Ctx) []byte {
	return t.AppendEscaped(dst, c, EscapeNone)
}

// AppendEscaped appends the value for an access log line in mode.
func (t *Template) AppendEscaped(dst []byte, c *Ctx, mode Escape) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		if p.kind == kLiteral {
			dst = append(dst, p.lit...)
			continue
		}
		start := len(dst)
		var found bool
		dst, found = t.c.appendValue(dst, c, p)
		if !found {
			dst = dst[:start]
			if mode == EscapeDefault {
				dst = append(dst, '-')
			}
			continue
		}
		if mode != EscapeNone {
			dst = escapeTail(dst, start, mode)
		}
	}
	return dst
}

// appendValue appends variable p's value and reports whether it was found.
func (cp *Compiler) appendValue(dst []byte, c *Ctx, p *part) ([]byte, bool) {
	if s, found, ok := cp.stringValue(c, p); ok {
		return append(dst, s...), found
	}
	switch p.kind {
	case kHTTPJoin:
		n := 0
		for i := range c.Headers {
			if headerIs(c.Headers[i].Name, p.lit) {
				if n > 0 {
					dst = append(dst, p.sep...)
				}
				dst = append(dst, c.Headers[i].Value...)
				n++
			}
		}
		return dst, n > 0
	case kProxyAddXFF:
		// ngx_http_proxy_add_x_forwarded_for_variable.
		for i := range c.Headers {
			if headerIs(c.Headers[i].Name, "x_forwarded_for") {
				dst = append(dst, c.Headers[i].Value...)
				dst = append(dst, ", "...)
			}
		}
		return append(dst, c.RemoteAddr...), true
	case kRequest:
		if c.RequestLine != "" {
			return append(dst, c.RequestLine...), true
		}
		dst = append(dst, c.Method...)
		dst = append(dst, ' ')
		dst = append(dst, c.RequestURI...)
		dst = append(dst, ' ')
		return append(dst, c.Proto...), true
	case kStatus:
		// ngx_http_variable_status: "%03ui".
		s := c.Status
		if s < 0 {
			s = 0
		}
		if s < 100 {
			dst = append(dst, '0')
			if s < 10 {
				dst = append(dst, '0')
			}
		}
		return strconv.AppendInt(dst, int64(s), 10), true
	case kRequestTime:
		var d time.Duration
		if !c.Start.IsZero() {
			d = c.now().Sub(c.Start)
		}
		return appendSeconds(dst, d), true
	case kRequestID:
		// ngx_http_variable_request_id: 16 random bytes as 32 hex digits.
		if c.RequestID == ([16]byte{}) {
			rand.Read(c.RequestID[:])
		}
		return hex.AppendEncode(dst, c.RequestID[:]), true
	case kBinaryRemoteAddr:
		// ngx_http_variable_binary_remote_addr: 4 bytes for IPv4, 16 for
		// IPv6 (an IPv4-mapped IPv6 address stays 16).
		a, err := netip.ParseAddr(c.RemoteAddr)
		if err != nil {
			return dst, false
		}
		return append(dst, a.AsSlice()...), true
	case kUpstreamCacheStatus:
		// ngx_http_upstream_cache_status: not found when the request
		// did not use a cache.
		if c.CacheStatus == "" {
			return dst, false
		}
		return append(dst, c.CacheStatus...), true
	case kUpstreamAddr, kUpstreamStatus, kUpstreamResponseTime, kUpstreamConnectTime, kUpstreamResponseLength,
		kUpstreamHeaderTime, kUpstreamBytesReceived, kUpstreamBytesSent:
		if len(c.Upstream) == 0 {
			return dst, false
		}
		for i := range c.Upstream {
			switch {
			case i > 0 && c.Upstream[i].Group:
				// ngx_http_upstream_*_variable: an empty state (no peer)
				// between two runs of the upstream module.
				dst = append(dst, " : "...)
			case i > 0:
				dst = append(dst, ", "...)
			}
			dst = appendUpstream(dst, &c.Upstream[i], p.kind)
		}
		return dst, true
	case kLimitRate:
		return strconv.AppendInt(dst, c.LimitRate, 10), true
	case kBodyBytesSent:
		return strconv.AppendInt(dst, c.BodyBytesSent, 10), true
	case kBytesSent:
		return strconv.AppendInt(dst, c.BytesSent, 10), true
	case kRequestLength:
		return strconv.AppendInt(dst, c.RequestLength, 10), true
	case kTimeLocal:
		return c.now().AppendFormat(dst, "02/Jan/2006:15:04:05 -0700"), true
	case kTimeISO8601:
		return c.now().AppendFormat(dst, "2006-01-02T15:04:05-07:00"), true
	case kMsec:
		ms := c.now().UnixMilli()
		dst = strconv.AppendInt(dst, ms/1000, 10)
		return appendMillis(dst, ms%1000), true
	case kConnection:
		return strconv.AppendUint(dst, c.Connection, 10), true
	case kConnectionRequests:
		return strconv.AppendInt(dst, int64(c.ConnectionRequests), 10), true
	case kConnectionsActive, kConnectionsReading, kConnectionsWriting, kConnectionsWaiting:
		// ngx_http_stub_status_variable: read when evaluated.
		st := c.Conns.Load()
		v := [...]int64{st.Active, st.Reading, st.Writing, st.Waiting}[p.kind-kConnectionsActive]
		return strconv.AppendInt(dst, v, 10), true
	case kWSDuration:
		return appendSeconds(dst, c.WSDuration), c.WS
	case kProxyProtocolPort, kProxyProtocolServerPort:
		// ngx_http_variable_proxy_protocol_port: empty for port 0.
		pp := c.ProxyProtocol
		if pp == nil {
			return dst, false
		}
		port := pp.SrcPort
		if p.kind == kProxyProtocolServerPort {
			port = pp.DstPort
		}
		if port == 0 {
			return dst, true
		}
		return strconv.AppendInt(dst, int64(port), 10), true
	case kWSBytesIn:
		return strconv.AppendInt(dst, c.WSBytesIn, 10), c.WS
	case kWSBytesOut:
		return strconv.AppendInt(dst, c.WSBytesOut, 10), c.WS
	case kWSCloseCode:
		if c.WSCloseCode == 0 {
			return dst, c.WS
		}
		return strconv.AppendInt(dst, int64(c.WSCloseCode), 10), c.WS
	case kWSSession:
		return appendWSSession(dst, c, p.n)
	}
	return cp.appendExtra(dst, c, p)
}

// stringValue returns the value of the variables that are a string
// already; ok is false for the others.
func (cp *Compiler) stringValue(c *Ctx, p *part) (s string, found, ok bool) {
	switch p.kind {
	case kHost:
		// ngx_http_variable_host: the request's host, else the server's
		// first name.
		if c.Host != "" {
			return c.Host, true, true
		}
		return c.ServerName, true, true
	case kHTTP:
		for i := range c.Headers {
			if headerIs(c.Headers[i].Name, p.lit) {
				return c.Headers[i].Value, true, true
			}
		}
		return "", false, true
	case kRemoteAddr:
		return c.RemoteAddr, true, true
	case kRemotePort:
		return c.RemotePort, true, true
	case kRealIPRemoteAddr:
		// ngx_http_realip_remote_addr_variable: the connection's own
		// address, whether or not realip replaced $remote_addr.
		return c.RealIPAddr, true, true
	case kRealIPRemotePort:
		return c.RealIPPort, true, true
	case kProxyProtocolAddr:
		if c.ProxyProtocol == nil {
			return "", false, true
		}
		return c.ProxyProtocol.SrcAddr, true, true
	case kProxyProtocolServerAddr:
		if c.ProxyProtocol == nil {
			return "", false, true
		}
		return c.ProxyProtocol.DstAddr, true, true
	case kScheme:
		if c.TLS {
			return "https", true, true
		}
		return "http", true, true
	case kHTTPS:
		if c.TLS {
			return "on", true, true
		}
		return "", true, true
	case kSSLProtocol, kSSLCipher, kSSLServerName, kSSLSessionReused, kSSLALPN, kSSLEarlyData, kSSLCurve:
		return sslValue(c.TLSState, p.kind)
	case kSSLClientVerify:
		return c.ClientVerify, c.TLSState != nil, true
	case kSSLClientSDN, kSSLClientIDN, kSSLClientSerial, kSSLClientFingerprint, kSSLClientRawCert,
		kSSLClientEscapedCert, kSSLClientCert, kSSLClientVStart, kSSLClientVEnd, kSSLClientVRemain:
		return clientCertValue(c.TLSState, p.kind)
	case kRequestURI:
		return c.RequestURI, true, true
	case kURI:
		return c.URI, true, true
	case kArgs:
		return c.Args, c.HasArgs || c.Args != "", true
	case kArg:
		v, found := arg(c.Args, p.lit)
		return v, found, true
	case kIsArgs:
		if c.Args != "" {
			return "?", true, true
		}
		return "", true, true
	case kMethod:
		return c.Method, true, true
	case kServerName:
		return c.ServerName, true, true
	case kServerPort:
		return c.ServerPort, true, true
	case kServerAddr:
		return c.ServerAddr, true, true
	case kProtocol:
		return c.Proto, true, true
	case kProxyHost:
		return c.ProxyHost, c.Proxied, true
	case kProxyPort:
		return c.ProxyPort, c.Proxied, true
	case kRequest:
		if c.RequestLine != "" {
			return c.RequestLine, true, true
		}
		return "", false, false
	case kRemoteUser:
		return c.RemoteUser, c.RemoteUser != "", true
	case kLimitReqStatus:
		return c.LimitReqStatus, c.LimitReqStatus != "", true
	case kLimitConnStatus:
		return c.LimitConnStatus, c.LimitConnStatus != "", true
	case kHostname:
		return cp.hostname, true, true
	case kCookie:
		v, found := cookie(c.Headers, p.lit)
		return v, found, true
	case kCapture:
		return c.Captures.Group(p.n), true, true
	case kNamedCapture:
		v, found := c.Captures.Named(p.lit)
		return v, found, true
	case kMap:
		if p.set > 0 {
			if v, ok := c.setValue(p.set - 1); ok {
				return v, true, true
			}
		}
		return cp.maps[p.n].value(cp, c), true, true
	case kSet:
		return cp.userValue(c, p.n), true, true
	case kWSClosedBy:
		return c.WSClosedBy, c.WS, true
	case kPid:
		return cp.pid, true, true
	case kPipe:
		if c.Pipelined {
			return "p", true, true
		}
		return ".", true, true
	case kRequestBody:
		return c.RequestBody, c.HasRequestBody, true
	case kUpstreamHTTP:
		for i := range c.UpstreamHeaders {
			if headerIs(c.UpstreamHeaders[i].Name, p.lit) {
				return c.UpstreamHeaders[i].Value, true, true
			}
		}
		return "", false, true
	}
	return "", false, false
}

func (c *Ctx) now() time.Time {
	if c.End.IsZero() {
		return time.Now()
	}
	return c.End
}

// headerIs reports whether header name matches a $http_ variable suffix:
// lower-cased with "-" read as "_" (ngx_http_variable_unknown_header).
func headerIs(name, v string) bool {
	if len(name) != len(v) {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'A' && ch <= 'Z' {
			ch |= 0x20
		} else if ch == '-' {
			ch = '_'
		}
		if ch != v[i] {
			return false
		}
	}
	return true
}

// Arg is ngx_http_arg for handlers that read one argument themselves (the
// callback of autoindex_format jsonp): see arg.
func Arg(args, name string) (string, bool) { return arg(args, name) }

// arg is ngx_http_arg: the raw value of the first "name=" (name compared
// case-insensitively) at the start of args or after "&".
func arg(args, name string) (string, bool) {
	for i := 0; i+len(name) < len(args); i++ {
		if (i == 0 || args[i-1] == '&') && args[i+len(name)] == '=' && equalFold(args[i:i+len(name)], name) {
			v := args[i+len(name)+1:]
			for j := 0; j < len(v); j++ {
				if v[j] == '&' {
					return v[:j], true
				}
			}
			return v, true
		}
	}
	return "", false
}

// cookie is ngx_http_parse_multi_header_lines over the Cookie headers
// (1.22): the first "name=value" pair, name compared case-insensitively,
// spaces around "=" skipped, the value running to ";".
func cookie(hs []Header, name string) (string, bool) {
	for i := range hs {
		if !headerIs(hs[i].Name, "cookie") {
			continue
		}
		v := hs[i].Value
		if len(name) > len(v) {
			continue
		}
		s := 0
		for s < len(v) {
			if s+len(name) <= len(v) && equalFold(v[s:s+len(name)], name) {
				k := s + len(name)
				for k < len(v) && v[k] == ' ' {
					k++
				}
				if k < len(v) && v[k] == '=' {
					k++
					for k < len(v) && v[k] == ' ' {
						k++
					}
					e := k
					for e < len(v) && v[e] != ';' {
						e++
					}
					return v[k:e], true
				}
				s = k
			}
			// skip to after the next ";" or "," and following spaces
			for s < len(v) {
				ch := v[s]
				s++
				if ch == ';' || ch == ',' {
					break
				}
			}
			for s < len(v) && v[s] == ' ' {
				s++
			}
		}
	}
	return "", false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x |= 0x20
		}
		if y >= 'A' && y <= 'Z' {
			y |= 0x20
		}
		if x != y {
			return false
		}
	}
	return true
}

// appendUpstream formats one try as ngx_http_upstream_*_variable: the
// times as seconds with milliseconds, "-" for a time that was not taken
// (negative: no connection, no head, a response not finished yet), the
// status "-" when none was read.
func appendUpstream(dst []byte, u *UpstreamTry, k kind) []byte {
	switch k {
	case kUpstreamAddr:
		return append(dst, u.Addr...)
	case kUpstreamStatus:
		if u.Status == 0 {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, int64(u.Status), 10)
	case kUpstreamResponseLength:
		return strconv.AppendInt(dst, u.ResponseLength, 10)
	case kUpstreamBytesReceived:
		return strconv.AppendInt(dst, u.BytesReceived, 10)
	case kUpstreamBytesSent:
		return strconv.AppendInt(dst, u.BytesSent, 10)
	}
	d := u.ConnectTime
	switch k {
	case kUpstreamResponseTime:
		d = u.ResponseTime
	case kUpstreamHeaderTime:
		d = u.HeaderTime
	}
	if d < 0 {
		return append(dst, '-')
	}
	return appendSeconds(dst, d)
}

// appendSeconds writes d as nginx's "%T.%03M": whole seconds, a dot and
// three digits of milliseconds; negative durations print as 0.000.
func appendSeconds(dst []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	return appendMillis(dst, ms%1000)
}

func appendMillis(dst []byte, ms int64) []byte {
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// escapeTail escapes dst[start:] in place for mode, growing dst as needed.
func escapeTail(dst []byte, start int, mode Escape) []byte {
	extra := 0
	for _, b := range dst[start:] {
		extra += escapeLen(b, mode)
	}
	if extra == 0 {
		return dst
	}
	n := len(dst)
	dst = append(dst, make([]byte, extra)...)
	const hex = "0123456789ABCDEF"
	w := len(dst)
	for r := n - 1; r >= start; r-- {
		b := dst[r]
		switch escapeLen(b, mode) {
		case 0:
			w--
			dst[w] = b
		case 3: // \xXX
			w -= 4
			dst[w], dst[w+1], dst[w+2], dst[w+3] = '\\', 'x', hex[b>>4], hex[b&0xf]
		case 1:
			w -= 2
			dst[w] = '\\'
			switch b {
			case '\n':
				b = 'n'
			case '\r':
				b = 'r'
			case '\t':
				b = 't'
			case '\b':
				b = 'b'
			case '\f':
				b = 'f'
			}
			dst[w+1] = b
		case 5: // \u00XX
			w -= 6
			dst[w], dst[w+1], dst[w+2], dst[w+3], dst[w+4], dst[w+5] = '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf]
		}
	}
	return dst
}

// escapeLen is how many bytes escaping b adds in mode.
func escapeLen(b byte, mode Escape) int {
	if mode == EscapeDefault {
		if b < 0x20 || b >= 0x7f || b == '"' || b == '\\' {
			return 3
		}
		return 0
	}
	switch {
	case b == '"' || b == '\\':
		return 1
	case b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
		return 1
	case b < 0x20:
		return 5
	}
	return 0
}

// sslValue is ngx_http_ssl_module's variables, with OpenSSL's names for
// protocols and suites. On a plain connection none is found.
func sslValue(cs *tls.ConnectionState, k kind) (s string, found, ok bool) {
	if cs == nil {
		return "", false, true
	}
	switch k {
	case kSSLProtocol:
		return openssl.ProtocolName(cs.Version), true, true
	case kSSLCipher:
		if n := openssl.CipherName(cs.CipherSuite); n != "" {
			return n, true, true
		}
		return tls.CipherSuiteName(cs.CipherSuite), true, true
	case kSSLServerName:
		// ngx_ssl_get_server_name: empty without SNI, found.
		return cs.ServerName, true, true
	case kSSLSessionReused:
		if cs.DidResume {
			return "r", true, true
		}
		return ".", true, true
	case kSSLALPN:
		return cs.NegotiatedProtocol, true, true
	case kSSLEarlyData:
		// Go's crypto/tls accepts no early data.
		return "", true, true
	case kSSLCurve:
		// ngx_ssl_get_curve: OpenSSL's name, else "0x" and the number.
		if cs.CurveID == 0 {
			return "", true, true
		}
		if n := openssl.CurveName(uint16(cs.CurveID)); n != "" {
			return n, true, true
		}
		return "0x" + strconv.FormatUint(uint64(cs.CurveID), 16), true, true
	}
	return "", false, true
}
