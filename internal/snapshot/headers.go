package snapshot

import (
	"fmt"
	"strconv"

	"wsgate/internal/config"
)

// This file builds the request head wsgate sends upstream, as nginx 1.22's
// ngx_http_proxy_init_headers (once per location) and
// ngx_http_proxy_create_request (per request) do.

// HeaderList is a head's header lines in arrival order, names in their
// original case. Implement it on a pointer type so that passing it does not
// allocate.
type HeaderList interface {
	Len() int
	// At returns line i's name and value; the slices are only read.
	At(i int) (name, value []byte)
}

// defaultHeaders is ngx_http_proxy_headers[]: added after the location's
// own proxy_set_header lines unless one of them names the same header
// (case-insensitively). Each name is also removed from the client's headers.
var defaultHeaders = [...]struct{ name, value string }{
	{"Host", "$proxy_host"},
	{"Connection", "close"},
	{"Content-Length", "$proxy_internal_body_length"},
	{"Transfer-Encoding", "$proxy_internal_chunked"},
	{"TE", ""},
	{"Keep-Alive", ""},
	{"Expect", ""},
	{"Upgrade", ""},
}

type lineKind uint8

const (
	// lineConst: text is the whole rendered "Name: value\r\n" (possibly
	// several consecutive constant lines).
	lineConst lineKind = iota
	// lineTemplate: "name: <tmpl>\r\n", omitted when tmpl evaluates empty.
	lineTemplate
	// lineProxyHost: "Host: $proxy_host\r\n" of a proxy_pass with variables.
	lineProxyHost
	// lineBodyLength: "Content-Length: N\r\n" when the body length is known
	// ($proxy_internal_body_length).
	lineBodyLength
	// lineChunked: "Transfer-Encoding: chunked\r\n" when the body is relayed
	// chunked ($proxy_internal_chunked).
	lineChunked
	// lineClientUpgrade: "Upgrade: <client's Upgrade>\r\n" (upgrade variant).
	lineClientUpgrade
)

type headerLine struct {
	kind lineKind
	text string // lineConst: rendered lines; lineTemplate: the name as written
	tmpl Template
}

// HeaderPlan is one location's upstream request head recipe, built once by
// NewHeaderPlan and immutable afterwards (safe for concurrent use).
type HeaderPlan struct {
	plain   variant
	upgrade variant // zero (lines == nil) when ws_upgrade is off
	// hidden are the lower-cased names removed from the client's headers:
	// every proxy_set_header name and every default (proxy_headers_hash).
	hidden []string
	// passClient is proxy_pass_request_headers.
	passClient bool
}

type variant struct {
	http11 bool
	lines  []headerLine
}

// NewHeaderPlan compiles the location's proxy_set_header list and nginx's
// defaults. compile turns values with variables into Templates.
//
// The upgrade variant (used when the handler forwards a client's WebSocket
// handshake and lc.WS.Upgrade is on) differs from nginx only where the
// configuration did not say otherwise: it speaks HTTP/1.1, and the defaults
// `Connection: close` and `Upgrade ""` become `Connection: upgrade` and
// `Upgrade: <the client's value>` at the same place in the order. Lines the
// location sets itself are kept as configured, so the seed's configuration
// produces exactly nginx's bytes.
func NewHeaderPlan(lc *config.LocConf, compile CompileFunc) (*HeaderPlan, error) {
	p := &HeaderPlan{passClient: lc.ProxyPassRequestHeaders}
	staticHost := ""
	if lc.ProxyPass != nil && !lc.ProxyPass.HasVars {
		staticHost = ProxyHost(lc.ProxyPass)
	}

	set := map[string]bool{}
	var own []headerLine
	for _, h := range lc.ProxySetHeaders {
		low := lowerString(h.Name)
		if !set[low] {
			set[low] = true
			p.hidden = append(p.hidden, low)
		}
		if h.Value == "" {
			// A literal "" is not compiled at all: the line is never sent,
			// but the name stays in the hash (ngx_http_proxy_init_headers).
			continue
		}
		t, err := compile(h.Value)
		if err != nil {
			return nil, &config.Error{Pos: h.Pos, Msg: fmt.Sprintf("proxy_set_header %s: %v", h.Name, err)}
		}
		if t.IsConst() {
			v := string(t.Append(nil, &EvalCtx{}))
			if v == "" {
				continue
			}
			own = append(own, headerLine{kind: lineConst, text: h.Name + ": " + v + "\r\n"})
			continue
		}
		own = append(own, headerLine{kind: lineTemplate, text: h.Name, tmpl: t})
	}

	build := func(upgrade bool) []headerLine {
		lines := append([]headerLine(nil), own...)
		for _, d := range defaultHeaders {
			low := lowerString(d.name)
			if set[low] {
				continue
			}
			switch low {
			case "host":
				if lc.ProxyPass != nil && lc.ProxyPass.HasVars {
					lines = append(lines, headerLine{kind: lineProxyHost})
				} else if staticHost != "" {
					lines = append(lines, headerLine{kind: lineConst, text: "Host: " + staticHost + "\r\n"})
				}
			case "connection":
				if upgrade {
					lines = append(lines, headerLine{kind: lineConst, text: "Connection: upgrade\r\n"})
				} else {
					lines = append(lines, headerLine{kind: lineConst, text: "Connection: close\r\n"})
				}
			case "content-length":
				lines = append(lines, headerLine{kind: lineBodyLength})
			case "transfer-encoding":
				lines = append(lines, headerLine{kind: lineChunked})
			case "upgrade":
				if upgrade {
					lines = append(lines, headerLine{kind: lineClientUpgrade})
				}
			}
		}
		return mergeConst(lines)
	}

	p.plain = variant{http11: lc.ProxyHTTPVersion == "1.1", lines: build(false)}
	if lc.WS.Upgrade {
		p.upgrade = variant{http11: true, lines: build(true)}
	}
	for _, d := range defaultHeaders {
		if low := lowerString(d.name); !set[low] {
			p.hidden = append(p.hidden, low)
		}
	}
	return p, nil
}

// mergeConst joins consecutive constant lines into one append.
func mergeConst(lines []headerLine) []headerLine {
	out := lines[:0]
	for _, l := range lines {
		if l.kind == lineConst && len(out) > 0 && out[len(out)-1].kind == lineConst {
			out[len(out)-1].text += l.text
			continue
		}
		out = append(out, l)
	}
	return out
}

// UpstreamRequest is what one upstream request head is built from. All
// slices are borrowed for the duration of AppendRequest.
type UpstreamRequest struct {
	// Method is the client's method, sent verbatim.
	Method []byte
	// Target is the upstream request-target (TargetRule.Append).
	Target []byte
	// Headers are the client's header lines.
	Headers HeaderList
	// BodyLength is the request body's length when known (the client's
	// Content-Length, or the size of a spooled chunked body); -1 when there
	// is none. nginx sends "Content-Length: N" for any N >= 0.
	BodyLength int64
	// Chunked: the body is relayed as it arrives with chunked framing.
	// Honoured only when the head goes out as HTTP/1.1 (HTTP11); with
	// HTTP/1.0 the caller must spool the body and set BodyLength instead,
	// as nginx buffers it (ngx_http_proxy_handler).
	Chunked bool
	// ProxyHost is $proxy_host of an evaluated proxy_pass with variables
	// (PassURL.ProxyHost); ignored for a static proxy_pass.
	ProxyHost []byte
	// Upgrade selects the upgrade variant: a client WebSocket handshake to
	// a location with ws_upgrade on. Ignored when the plan has no variant.
	Upgrade bool
	// Vars evaluates proxy_set_header values with variables.
	Vars *EvalCtx
}

// HTTP11 reports whether the head for this request goes out as HTTP/1.1
// (proxy_http_version 1.1, or the upgrade variant).
func (p *HeaderPlan) HTTP11(upgrade bool) bool {
	return p.variant(upgrade).http11
}

// HasUpgradeVariant reports whether ws_upgrade was on for the location.
func (p *HeaderPlan) HasUpgradeVariant() bool { return p.upgrade.lines != nil }

func (p *HeaderPlan) variant(upgrade bool) *variant {
	if upgrade && p.upgrade.lines != nil {
		return &p.upgrade
	}
	return &p.plain
}

// AppendRequest appends the whole upstream request head for r to dst, in
// nginx's order: request line; the location's proxy_set_header lines in
// config order (a line whose value evaluates empty is left out); the
// defaults the location did not override; then, with
// proxy_pass_request_headers on, the client's lines in arrival order with
// their original case, except those named in the plan (compared
// case-insensitively); then the empty line. It does not allocate when dst
// has room.
func (p *HeaderPlan) AppendRequest(dst []byte, r *UpstreamRequest) []byte {
	v := p.variant(r.Upgrade)
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = append(dst, r.Target...)
	if v.http11 {
		dst = append(dst, " HTTP/1.1\r\n"...)
	} else {
		dst = append(dst, " HTTP/1.0\r\n"...)
	}
	for i := range v.lines {
		l := &v.lines[i]
		switch l.kind {
		case lineConst:
			dst = append(dst, l.text...)
		case lineTemplate:
			start := len(dst)
			dst = append(dst, l.text...)
			dst = append(dst, ": "...)
			mark := len(dst)
			dst = l.tmpl.Append(dst, r.Vars)
			if len(dst) == mark {
				dst = dst[:start]
				continue
			}
			dst = append(dst, "\r\n"...)
		case lineProxyHost:
			if len(r.ProxyHost) > 0 {
				dst = append(dst, "Host: "...)
				dst = append(dst, r.ProxyHost...)
				dst = append(dst, "\r\n"...)
			}
		case lineBodyLength:
			if r.BodyLength >= 0 && !(r.Chunked && v.http11) {
				dst = append(dst, "Content-Length: "...)
				dst = strconv.AppendInt(dst, r.BodyLength, 10)
				dst = append(dst, "\r\n"...)
			}
		case lineChunked:
			if r.Chunked && v.http11 {
				dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
			}
		case lineClientUpgrade:
			if val := firstHeader(r.Headers, "upgrade"); len(val) > 0 {
				dst = append(dst, "Upgrade: "...)
				dst = append(dst, val...)
				dst = append(dst, "\r\n"...)
			}
		}
	}
	if p.passClient && r.Headers != nil {
		for i, n := 0, r.Headers.Len(); i < n; i++ {
			name, value := r.Headers.At(i)
			if p.isHidden(name) {
				continue
			}
			dst = append(dst, name...)
			dst = append(dst, ": "...)
			dst = append(dst, value...)
			dst = append(dst, "\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

func (p *HeaderPlan) isHidden(name []byte) bool {
	for _, h := range p.hidden {
		if equalFoldLower(name, h) {
			return true
		}
	}
	return false
}

// firstHeader returns the value of the first line named lowName
// (lower-case), or nil.
func firstHeader(h HeaderList, lowName string) []byte {
	if h == nil {
		return nil
	}
	for i, n := 0, h.Len(); i < n; i++ {
		name, value := h.At(i)
		if equalFoldLower(name, lowName) {
			return value
		}
	}
	return nil
}

// equalFoldLower reports whether b equals the lower-case ASCII string s,
// ignoring the case of b.
func equalFoldLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}
