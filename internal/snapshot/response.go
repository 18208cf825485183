package snapshot

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/files"
	"wsgate/internal/http1"
)

// This file turns an upstream response head into the head the client gets,
// as nginx 1.22 does in ngx_http_proxy_process_header,
// ngx_http_upstream_process_headers (with the proxy module's hide list and
// proxy_redirect) and ngx_http_header_filter.

// hiddenByDefault is ngx_http_proxy_hide_headers[] (lower-cased).
var hiddenByDefault = [...]string{
	"date", "server", "x-pad",
	"x-accel-expires", "x-accel-redirect", "x-accel-limit-rate",
	"x-accel-buffering", "x-accel-charset",
}

// ResponsePlan is one location's response head recipe, built once by
// NewResponsePlan; immutable and safe for concurrent use.
type ResponsePlan struct {
	hidden    []string // lower-case names never copied
	passDate  bool     // proxy_pass_header Date
	passSrv   bool     // proxy_pass_header Server
	redirects []redirect
	// cookies rewrites Set-Cookie lines; nil when the location does not.
	cookies *cookiePlan
	// rewrite is false for "proxy_redirect off" (nginx: no rewrite_redirect
	// handler at all), true otherwise, even with no rules.
	rewrite bool
	server  ServerInfo
	// charset is added to a Content-Type that names none (charset
	// directive, ngx_http_charset_header_filter).
	charset files.Charset
	// xaStage: a response with an X-Accel-Charset is the charset
	// stage's to label (LeaveOverriddenCharset).
	xaStage bool
	// expires sets Expires and Cache-Control (ngx_http_headers_filter);
	// expiresValue is its value with variables, nil without.
	expires      config.Expires
	expiresValue Template
	// absRedirect, portInRedirect and nameInRedirect complete a Location
	// that proxy_redirect made relative (absolute_redirect,
	// port_in_redirect, server_name_in_redirect).
	absRedirect, portInRedirect, nameInRedirect bool
	// keepaliveHeader is keepalive_timeout's second value, sent as
	// "Keep-Alive: timeout=N" after "Connection: keep-alive"; 0: none.
	keepaliveHeader time.Duration
}

// redirect is one proxy_redirect rule (ngx_http_proxy_rewrite_t).
type redirect struct {
	from     string   // constant prefix (complex handler)
	fromTmpl Template // prefix with variables; nil when constant
	re       *regexp.Regexp
	to       string // constant replacement
	toTmpl   Template
	// toParts is a regex replacement split into literals and capture
	// references.
	toParts []replPart
}

type replPart struct {
	lit   string
	group int // -1 for a literal
}

// NewResponsePlan compiles the location's proxy_hide_header,
// proxy_pass_header and proxy_redirect settings. locPath and locIsRegex
// name the location as for NewTargetRule; version is wsgate's version for
// "Server: wsgate/<version>" (server_tokens on).
func NewResponsePlan(lc *config.LocConf, locPath string, locIsRegex bool, version string, compile CompileFunc) (*ResponsePlan, error) {
	p := &ResponsePlan{
		server:  ServerInfo{Version: version, Tokens: lc.ServerTokens},
		rewrite: !lc.ProxyRedirectOff,
		expires: lc.Files.Expires,

		absRedirect:    lc.AbsoluteRedirect,
		portInRedirect: lc.PortInRedirect,
		nameInRedirect: lc.ServerNameInRedirect,

		keepaliveHeader: lc.KeepaliveHeader,
	}
	if v := lc.Files.Expires.Value; v != "" {
		t, err := compile(v)
		if err != nil {
			return nil, fmt.Errorf("expires: %w", err)
		}
		p.expiresValue = t
	}
	pass := map[string]bool{}
	for _, h := range lc.ProxyPassHeaders {
		pass[lowerString(h)] = true
	}
	p.passDate, p.passSrv = pass["date"], pass["server"]
	for _, h := range hiddenByDefault {
		if !pass[h] {
			p.hidden = append(p.hidden, h)
		}
	}
	for _, h := range lc.ProxyHideHeaders {
		p.hidden = append(p.hidden, lowerString(h))
	}

	var err error
	if p.charset, err = files.NewCharsetValue(lc.Files.Charset, lc.Files.CharsetTypes, func(raw string) (files.Template, error) { return compile(raw) }); err != nil {
		return nil, fmt.Errorf("charset: %w", err)
	}
	if p.cookies, err = newCookiePlan(&lc.ProxyCookies, compile); err != nil {
		return nil, err
	}
	if !p.rewrite {
		return p, nil
	}
	rules := lc.ProxyRedirect
	if len(rules) == 0 && lc.ProxyPass != nil && !lc.ProxyPass.HasVars {
		rules = []config.Redirect{{Default: true}}
	}
	for _, r := range rules {
		if r.Default {
			// proxy_redirect default (ngx_http_proxy_merge_loc_conf): the
			// proxy_pass text → the location name when it has a URI part,
			// else "<proxy_pass text>/" → "/".
			pp := lc.ProxyPass
			if pp == nil || pp.HasVars {
				continue
			}
			if pp.HasURI {
				loc := locPath
				if locIsRegex {
					loc = ""
				}
				p.redirects = append(p.redirects, redirect{from: pp.Raw, to: loc})
			} else {
				p.redirects = append(p.redirects, redirect{from: pp.Raw + "/", to: "/"})
			}
			continue
		}
		rd, err := compileRedirect(r, compile)
		if err != nil {
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("proxy_redirect: %v", err)}
		}
		p.redirects = append(p.redirects, rd)
	}
	return p, nil
}

// LeaveCharset makes the plan leave the Content-Type's charset as the
// upstream sent it: the body filter's charset stage labels it.
func (p *ResponsePlan) LeaveCharset() { p.charset = files.Charset{} }

// LeaveOverriddenCharset makes the plan leave the Content-Type of a
// response with an X-Accel-Charset (EvalCtx.OverrideCharset) as the
// upstream sent it: the body filter's charset stage labels it with that
// charset.
func (p *ResponsePlan) LeaveOverriddenCharset() { p.xaStage = true }

func compileRedirect(r config.Redirect, compile CompileFunc) (redirect, error) {
	var rd redirect
	if r.Regex {
		pat := r.From
		if r.NoCase {
			pat = "(?i)" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return rd, err
		}
		rd.re = re
		parts, err := splitReplacement(r.To, re)
		if err != nil {
			return rd, err
		}
		rd.toParts = parts
		return rd, nil
	}
	from, err := compile(r.From)
	if err != nil {
		return rd, err
	}
	if from.IsConst() {
		rd.from = string(from.Append(nil, &EvalCtx{}))
	} else {
		rd.fromTmpl = from
	}
	to, err := compile(r.To)
	if err != nil {
		return rd, err
	}
	if to.IsConst() {
		rd.to = string(to.Append(nil, &EvalCtx{}))
	} else {
		rd.toTmpl = to
	}
	return rd, nil
}

// splitReplacement splits a regex proxy_redirect replacement into literals
// and capture references: $1..$9 (one digit, as nginx's script compiler
// reads them), ${N}, and $name / ${name} for named groups. Other variables
// are not supported in a regex replacement.
func splitReplacement(s string, re *regexp.Regexp) ([]replPart, error) {
	var parts []replPart
	lit := []byte{}
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, replPart{lit: string(lit), group: -1})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			lit = append(lit, s[i])
			continue
		}
		name := ""
		j := i + 1
		switch {
		case s[j] >= '0' && s[j] <= '9':
			name, i = s[j:j+1], j
		case s[j] == '{':
			k := j + 1
			for k < len(s) && s[k] != '}' {
				k++
			}
			if k == len(s) {
				return nil, fmt.Errorf("missing closing bracket in %q", s)
			}
			name, i = s[j+1:k], k
		default:
			k := j
			for k < len(s) && (isWordByte(s[k])) {
				k++
			}
			if k == j {
				lit = append(lit, '$')
				continue
			}
			name, i = s[j:k], k-1
		}
		g, err := strconv.Atoi(name)
		if err != nil {
			g = re.SubexpIndex(name)
			if g < 0 {
				return nil, fmt.Errorf("variable $%s in a regex replacement %q: only captures are supported", name, s)
			}
		}
		flush()
		parts = append(parts, replPart{group: g})
	}
	flush()
	return parts, nil
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// appendRewrite appends value with its part from prefix on rewritten by the
// first matching rule (ngx_http_proxy_rewrite_redirect); ok is false, and
// nothing is appended, when no rule matches.
func (p *ResponsePlan) appendRewrite(dst, value []byte, prefix int, c *EvalCtx) ([]byte, bool) {
	start := len(dst)
	rest := value[prefix:]
	for i := range p.redirects {
		rd := &p.redirects[i]
		if rd.re != nil {
			// ngx_http_proxy_rewrite_regex_handler: the regex is searched in
			// the rest of the value, and the whole rest is replaced.
			m := rd.re.FindSubmatchIndex(rest)
			if m == nil {
				continue
			}
			dst = append(dst, value[:prefix]...)
			for _, part := range rd.toParts {
				if part.group < 0 {
					dst = append(dst, part.lit...)
				} else if 2*part.group+1 < len(m) && m[2*part.group] >= 0 {
					dst = append(dst, rest[m[2*part.group]:m[2*part.group+1]]...)
				}
			}
			return dst, true
		}
		// ngx_http_proxy_rewrite_complex_handler: a case-sensitive prefix.
		var from []byte
		if rd.fromTmpl != nil {
			dst = rd.fromTmpl.Append(dst, c)
			from = dst[start:]
		}
		matched := false
		if rd.fromTmpl != nil {
			matched = len(from) <= len(rest) && string(rest[:len(from)]) == string(from)
		} else {
			matched = len(rd.from) <= len(rest) && string(rest[:len(rd.from)]) == rd.from
		}
		n := len(rd.from)
		if rd.fromTmpl != nil {
			n = len(from)
		}
		dst = dst[:start]
		if !matched {
			continue
		}
		dst = append(dst, value[:prefix]...)
		if rd.toTmpl != nil {
			dst = rd.toTmpl.Append(dst, c)
		} else {
			dst = append(dst, rd.to...)
		}
		return append(dst, rest[n:]...), true
	}
	return dst, false
}

// UpstreamResponse is the upstream's response head as read.
type UpstreamResponse struct {
	// Status is the status code.
	Status int
	// StatusLine is the status line from the code to the end of the line
	// ("200 OK", "404"), which nginx sends on unchanged.
	StatusLine []byte
	Headers    HeaderList
}

// ConnMode is what the client connection does after this response.
type ConnMode uint8

const (
	ConnClose     ConnMode = iota // "Connection: close"
	ConnKeepAlive                 // "Connection: keep-alive"
)

// ClientResponse is what the handler decided about the client side of a
// response; all slices are borrowed for the call.
type ClientResponse struct {
	// Date is the Date header value (http1.Date), without CRLF.
	Date []byte
	// ContentLength is sent as "Content-Length: N" when >= 0 (the
	// upstream's length, not for chunked upstream bodies).
	ContentLength int64
	// Chunked adds "Transfer-Encoding: chunked" (HTTP/1.1 client, unknown
	// length, a status that has a body).
	Chunked bool
	// Conn is the keep-alive decision; a 101 always says
	// "Connection: upgrade".
	Conn ConnMode
	// Host, Port and TLS make relative redirects absolute
	// (absolute_redirect, port_in_redirect on): Host is the request's
	// host ($host without the server_name fallback), or the local address
	// when the request had none; Port is the local port, left out when it
	// is the scheme's default.
	Host []byte
	Port int
	TLS  bool
	// ServerName is $server_name, the host of a completed Location under
	// server_name_in_redirect on.
	ServerName string
	// Scratch is room AppendResponse may use (the expires values); it
	// leaves the grown buffer there for the caller to keep.
	Scratch []byte
	// Vars evaluates proxy_redirect values with variables.
	Vars *EvalCtx
}

// AppendResponse appends the client's response head, in
// ngx_http_header_filter's order: "HTTP/1.1 " + the upstream's status line;
// wsgate's Server and Date (unless passed with proxy_pass_header, then the
// upstream's own, in place, or none); Content-Type; Content-Length; a
// Location rewritten by proxy_redirect into a path, made absolute;
// Transfer-Encoding; Connection; then the upstream's other lines in their
// order and case, minus the hidden ones and the ones wsgate frames itself
// (Connection, Keep-Alive, Transfer-Encoding, Content-Length), with
// Location and Refresh through proxy_redirect and Set-Cookie through the
// proxy_cookie_* rules. It does not allocate when dst has room and no
// cookie is rewritten.
func (p *ResponsePlan) AppendResponse(dst []byte, up *UpstreamResponse, c *ClientResponse) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	if len(up.StatusLine) > 0 {
		dst = append(dst, up.StatusLine...)
	} else {
		dst = http1.AppendStatusLine(dst, up.Status)
	}
	dst = append(dst, "\r\n"...)
	if !p.passSrv {
		dst = append(dst, "Server: "...)
		dst = p.server.appendName(dst)
		dst = append(dst, "\r\n"...)
	}
	if !p.passDate {
		dst = append(dst, "Date: "...)
		dst = append(dst, c.Date...)
		dst = append(dst, "\r\n"...)
	}

	// Content-Type: the last one the upstream sent, moved here
	// (ngx_http_upstream_copy_content_type).
	var ctype []byte
	n := 0
	if up.Headers != nil {
		n = up.Headers.Len()
	}
	for i := 0; i < n; i++ {
		name, value := up.Headers.At(i)
		if equalFoldLower(name, "content-type") && !p.isHidden(name) {
			ctype = value
		}
	}
	if len(ctype) > 0 {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, ctype...)
		if p.charset.On() && !(p.xaStage && c.Vars != nil && c.Vars.OverrideCharset != "") {
			if cs := p.charset.Resolve(c.Vars).For(up.Status, string(ctype)); cs != "" {
				dst = append(dst, "; charset="...)
				dst = append(dst, cs...)
			}
		}
		dst = append(dst, "\r\n"...)
	}
	if c.ContentLength >= 0 {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, c.ContentLength, 10)
		dst = append(dst, "\r\n"...)
	}

	// r->headers_out.location is the last Location that proxy_redirect
	// rewrote (or, with proxy_redirect off, the last one not starting with
	// '/'); the header filter moves it here only if it now starts with '/'.
	moved := -1
	if p.rewrite && p.absRedirect {
		for i := n - 1; i >= 0; i-- {
			name, value := up.Headers.At(i)
			if !equalFoldLower(name, "location") || p.isHidden(name) || len(value) == 0 {
				continue
			}
			mark := len(dst)
			var ok bool
			dst, ok = p.appendRewrite(dst, value, 0, c.Vars)
			if !ok {
				continue
			}
			if len(dst) > mark && dst[mark] == '/' {
				moved = i
				rewritten := len(dst) - mark
				// Shift the rewritten path behind the absolute prefix.
				dst = p.appendAbsolutePrefix(dst, c)
				prefixLen := len(dst) - mark - rewritten
				dst = rotate(dst[mark:], rewritten, prefixLen, dst)
				dst = append(dst, "\r\n"...)
			} else {
				dst = dst[:mark]
			}
			break
		}
	}

	if c.Chunked {
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case up.Status == 101:
		dst = append(dst, "Connection: upgrade\r\n"...)
	case c.Conn == ConnKeepAlive:
		dst = append(dst, "Connection: keep-alive\r\n"...)
		dst = http1.AppendKeepAliveHeader(dst, p.keepaliveHeader)
	default:
		dst = append(dst, "Connection: close\r\n"...)
	}

	// expires (ngx_http_set_expires) on the statuses it covers: the last
	// Expires line the upstream sent takes the value in place, as does
	// its first Cache-Control, whose others are dropped; missing ones
	// follow the upstream's lines.
	var expVal []byte
	expMid, lastExp, firstCC := 0, -1, -1
	expires := p.expires
	if expires.Value != "" && files.ExpiresStatus(up.Status) {
		expires = files.ResolveExpires(expires, p.expiresValue, c.Vars)
	}
	if expires.Mode != config.ExpiresOff && files.ExpiresStatus(up.Status) {
		var lm []byte
		for i := 0; i < n; i++ {
			name, value := up.Headers.At(i)
			if p.isHidden(name) {
				continue
			}
			switch {
			case equalFoldLower(name, "expires"):
				lastExp = i
			case equalFoldLower(name, "cache-control") && firstCC < 0:
				firstCC = i
			case equalFoldLower(name, "last-modified"):
				lm = value
			}
		}
		t := files.ParseHTTPTime(lm)
		expVal, expMid = files.ExpiresValues(c.Scratch[:0], expires, time.Unix(t, 0), t >= 0)
		c.Scratch = expVal
	}

	for i := 0; i < n; i++ {
		name, value := up.Headers.At(i)
		if i == moved || p.isHidden(name) || framedByUs(name) {
			continue
		}
		if expVal != nil {
			switch {
			case i == lastExp:
				value = expVal[:expMid]
			case i == firstCC:
				value = expVal[expMid:]
			case equalFoldLower(name, "cache-control"):
				continue
			}
		}
		prefix := -1
		switch {
		case !p.rewrite || len(value) == 0:
		case equalFoldLower(name, "location"):
			prefix = 0
		case equalFoldLower(name, "refresh"):
			// ngx_http_upstream_rewrite_refresh: from after "url=".
			if j := indexFold(value, "url="); j >= 0 {
				prefix = j + 4
			}
		}
		dst = append(dst, name...)
		dst = append(dst, ": "...)
		if p.cookies != nil && len(name) == 10 && equalFoldLower(name, "set-cookie") {
			dst = p.cookies.appendCookie(dst, value, c.Vars)
		} else if prefix >= 0 {
			var ok bool
			if dst, ok = p.appendRewrite(dst, value, prefix, c.Vars); !ok {
				dst = append(dst, value...)
			}
		} else {
			dst = append(dst, value...)
		}
		dst = append(dst, "\r\n"...)
	}
	if expVal != nil && lastExp < 0 {
		dst = append(dst, "Expires: "...)
		dst = append(dst, expVal[:expMid]...)
		dst = append(dst, "\r\n"...)
	}
	if expVal != nil && firstCC < 0 {
		dst = append(dst, "Cache-Control: "...)
		dst = append(dst, expVal[expMid:]...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// appendAbsolutePrefix appends "Location: http[s]://host[:port]".
func (p *ResponsePlan) appendAbsolutePrefix(dst []byte, c *ClientResponse) []byte {
	dst = append(dst, "Location: http"...)
	if c.TLS {
		dst = append(dst, 's')
	}
	dst = append(dst, "://"...)
	if p.nameInRedirect {
		dst = append(dst, c.ServerName...)
	} else {
		dst = append(dst, c.Host...)
	}
	if p.portInRedirect && c.Port != 0 && c.Port != defaultPort(c.TLS) {
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(c.Port), 10)
	}
	return dst
}

// rotate turns tail = A B (len(A) = a, len(B) = b) into B A in place and
// returns all, whose last a+b bytes are tail.
func rotate(tail []byte, a, b int, all []byte) []byte {
	reverse(tail[:a])
	reverse(tail[a : a+b])
	reverse(tail[:a+b])
	return all
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

// framedByUs reports the upstream lines nginx never copies because it
// produces their equivalent itself (ngx_http_upstream_ignore_header_line
// and the Content-Type move).
func framedByUs(name []byte) bool {
	switch len(name) {
	case 10:
		return equalFoldLower(name, "connection") || equalFoldLower(name, "keep-alive")
	case 12:
		return equalFoldLower(name, "content-type")
	case 14:
		return equalFoldLower(name, "content-length")
	case 17:
		return equalFoldLower(name, "transfer-encoding")
	}
	return false
}

func (p *ResponsePlan) isHidden(name []byte) bool {
	for _, h := range p.hidden {
		if equalFoldLower(name, h) {
			return true
		}
	}
	return false
}

// indexFold finds the lower-case ASCII s in b ignoring case.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFoldLower(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}
