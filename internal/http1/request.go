package http1

import (
	"bufio"
	"bytes"
	"math"
	"strings"

	"wsgate/internal/exchange"
)

// Header is one header line as received or to be sent: name with its
// original case and value without surrounding spaces. In a parsed Request or
// Response both slices alias that value's scratch buffer (see the package
// documentation for their lifetime).
type Header = exchange.Header

// HeadConfig holds the server-level settings that shape request head
// parsing (ngx_http_core_srv_conf_t). Start from DefaultHeadConfig: the
// zero value of the booleans is nginx's "off".
type HeadConfig struct {
	// HeaderBufferSize is client_header_buffer_size (default 1k): the first
	// buffer the request line is read into.
	HeaderBufferSize int
	// LargeBufferSize and LargeBufferCount are large_client_header_buffers
	// (default 4 8k): a request line longer than one large buffer is 414, a
	// header line longer than one large buffer or a head that does not fit
	// all of them is 400 "Request Header Or Cookie Too Large".
	LargeBufferSize  int
	LargeBufferCount int
	// UnderscoresInHeaders (default off) accepts '_' in header names;
	// otherwise such names are invalid.
	UnderscoresInHeaders bool
	// IgnoreInvalidHeaders (default on) drops lines with invalid names
	// instead of passing them on.
	IgnoreInvalidHeaders bool
	// MergeSlashes (default on) merges "//" in Request.NormalizedPath.
	MergeSlashes bool
}

// DefaultHeadConfig returns nginx's defaults.
func DefaultHeadConfig() HeadConfig {
	return HeadConfig{
		HeaderBufferSize:     1024,
		LargeBufferSize:      8192,
		LargeBufferCount:     4,
		IgnoreInvalidHeaders: true,
		MergeSlashes:         true,
	}
}

// Sizes returns large_client_header_buffers' sizes (and
// client_header_buffer_size), with nginx's defaults for zero values.
func (c *HeadConfig) Sizes() (small, large, num int) {
	small, large, num = c.HeaderBufferSize, c.LargeBufferSize, c.LargeBufferCount
	if small <= 0 {
		small = 1024
	}
	if large <= 0 {
		large = 8192
	}
	if num <= 0 {
		num = 4
	}
	return small, large, num
}

// Request is a parsed request head. It embeds the protocol-neutral
// exchange.Request the request handlers see (method, targets, version,
// headers, host, body framing, Body, Pipelined), whose byte slices alias
// the Request's scratch buffer; the fields below are HTTP/1.x's own.
// Byte-slice fields stay valid until the Request is passed to
// ParseRequestHead again.
//
// ParseRequestHead does not set Body or Pipelined; Serve does.
type Request struct {
	exchange.Request
	// RawTarget is the request-target exactly as sent.
	RawTarget []byte
	// ConnectionClose is true when a Connection header contains "close".
	ConnectionClose bool
	// KeepAlive is what the client asked for (nginx r->keepalive before
	// location checks): HTTP/1.1 unless "close", HTTP/1.0 only with
	// "keep-alive".
	KeepAlive bool
	// Expect100 is true for HTTP/1.1 with "Expect: 100-continue" (exact,
	// case-insensitive, as ngx_http_test_expect).
	Expect100 bool

	buf        []byte
	spans      []span // header name/value spans into buf, two per header
	rl         rlOffsets
	hostSeen   span // the Host header's validated value, kept for a head error
	hasUpgrade bool
	held       heldHead
}

// heldHead is what the reader's buffer held of a head when its parse
// began (see heldBytes), copied into buf at once: lines are taken from
// buf (next to end), and what they used of the reader is discarded after
// the parse, in one call.
type heldHead struct {
	on              bool
	base, next, end int
}

type span struct{ s, e int32 }

func (r *Request) reset() {
	buf, spans, hs, body := r.buf[:0], r.spans[:0], r.Headers[:0], r.Body
	// Until a request line parses, the version is 1.0 (ngx_http_alloc_request).
	*r = Request{}
	r.Headers, r.Body, r.ContentLength, r.ProtoMajor = hs, body, -1, 1
	r.buf, r.spans = buf, spans
	none := span{-1, -1}
	r.rl = rlOffsets{none, none, none, none, none, none, none}
	r.hostSeen = none
}

func lookup(hs []Header, name string) []byte {
	for i := range hs {
		if EqualFold(hs[i].Name, name) {
			return hs[i].Value
		}
	}
	return nil
}

func hasToken(hs []Header, name, token string) bool {
	for i := range hs {
		if EqualFold(hs[i].Name, name) && TokenIn(hs[i].Value, token) {
			return true
		}
	}
	return false
}

// TokenIn reports whether the comma-separated list v (RFC 9110 5.6.1)
// holds tok, compared as EqualFold does (exchange.TokenIn).
func TokenIn(v []byte, tok string) bool { return exchange.TokenIn(v, tok) }

// TrimOWS removes the optional whitespace (spaces and tabs, RFC 9110 5.6.3)
// around b (exchange.TrimOWS).
func TrimOWS(b []byte) []byte { return exchange.TrimOWS(b) }

// EqualFold reports whether b and s are equal with ASCII letters compared
// case-insensitively; other bytes must match exactly (exchange.EqualFold).
func EqualFold(b []byte, s string) bool { return exchange.EqualFold(b, s) }

// containsFold reports whether s contains the lower-case ASCII word sub,
// case-insensitively (nginx's ngx_strcasestrn).
func containsFold(s []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// headLimiter reproduces how nginx packs a head into its buffers
// (ngx_http_alloc_large_header_buffer): lines fill the current buffer; a
// line that does not end in it is moved whole to the next large buffer,
// which fails when the part already read is a whole large buffer or when
// all large buffers are taken. A line ending exactly at a buffer's end
// takes a fresh buffer for the next line.
type headLimiter struct {
	cap, off, nlarge, large, num int
}

func (l *headLimiter) place(n int, commit bool) bool {
	cap, off, nl := l.cap, l.off, l.nlarge
	if off == cap {
		if nl == l.num {
			return false
		}
		nl, cap, off = nl+1, l.large, 0
	}
	for off+n > cap {
		if cap-off >= l.large || nl == l.num {
			return false
		}
		nl, cap, off = nl+1, l.large, 0
	}
	if commit {
		l.cap, l.off, l.nlarge = cap, off+n, nl
	}
	return true
}

// ParseRequestHead reads one request head from br into req (reusing req's
// memory) with nginx 1.22's rules and limits. It returns io.EOF when the
// peer closed before sending a byte, io.ErrUnexpectedEOF when it closed
// inside the head, br's error (e.g. a timeout) as is, and a *StatusError
// with nginx's status for a head nginx rejects: 400, 414, 494 (400 "Request
// Header Or Cookie Too Large"), 405 (CONNECT, TRACE), 501 (unknown
// Transfer-Encoding), 505 (HTTP/2 and above). After an error, Headers
// holds the lines accepted before it, which nginx has already processed
// (a User-Agent among them decides the error page's padding).
func ParseRequestHead(br *bufio.Reader, cfg *HeadConfig, req *Request) error {
	err := parseRequestHead(br, cfg, req)
	if hh := &req.held; hh.on {
		br.Discard(hh.next - hh.base)
		req.held = heldHead{}
	}
	if err != nil {
		// What was read before the error, for the error's answer: the
		// request line's fields and a Host validated so far.
		if req.rl.host.s < 0 && req.hostSeen.s >= 0 {
			hs := len(req.buf)
			req.buf = appendLower(req.buf, req.buf[req.hostSeen.s:req.hostSeen.e])
			req.rl.host = span{int32(hs), int32(len(req.buf))}
		}
		req.materialize()
	}
	return err
}

func parseRequestHead(br *bufio.Reader, cfg *HeadConfig, req *Request) error {
	req.reset()
	small, large, num := cfg.Sizes()
	lim := headLimiter{cap: small, large: large, num: num}

	// nginx rejects a request line at the first byte that cannot belong
	// to a method (ngx_http_parse_request_line, sw_start and sw_method),
	// without waiting for the end of the line: check what has arrived.
	if err := checkMethodPrefix(br); err != nil {
		return err
	}
	if b := heldBytes(br, small); b != nil {
		base := len(req.buf)
		req.buf = append(req.buf, b...)
		req.held = heldHead{on: true, base: base, next: base, end: base + len(b)}
	}

	// Request line; empty lines before it are skipped as nginx's sw_start
	// skips CR and LF.
	var line []byte
	var ls int
	started := false
	for {
		start := len(req.buf)
		l, at, err := req.nextLine(br, &lim, 414, "client sent too long URI", started, lineRequest)
		if err != nil {
			return err
		}
		started = true
		line, ls = l, at
		if !onlyCRLF(line) {
			if !req.held.on {
				req.buf = req.buf[:start+len(line)]
			}
			break
		}
		if !req.held.on {
			req.buf = req.buf[:start]
		}
	}
	headLen := len(line)
	// sw_start skips CR and LF bytes before the method, also a CR
	// without its LF ("\rGET / HTTP/1.1").
	for line[0] == '\r' || line[0] == '\n' {
		line = line[1:]
	}
	lineStart := ls + headLen - len(line)
	rl, err := parseRequestLine(line)
	if err != nil {
		if err == errInvalid09 {
			req.ProtoMajor, req.ProtoMinor = 0, 9
		}
		return err
	}
	if err := req.setRequestLine(&rl, lineStart, cfg); err != nil {
		return err
	}

	if rl.major == 0 {
		// HTTP/0.9: no headers (ngx_http_process_request_line).
		req.HeadLength = headLen
		req.materialize()
		return nil
	}

	var seen uint16
	var connType int
	hostFromLine := req.rl.host.s >= 0
	hostSpan := span{-1, -1}
	for {
		l, ls, err := req.nextLine(br, &lim, StatusRequestHeaderTooLarge, "client sent too long header line", true, lineHeader)
		if err != nil {
			return err
		}
		headLen += len(l)
		h, err := parseHeaderLine(l, cfg.UnderscoresInHeaders, false)
		if err != nil {
			return err
		}
		if h.done {
			break
		}
		if h.invalid && cfg.IgnoreInvalidHeaders {
			// "client sent invalid header line": dropped.
			if !req.held.on {
				req.buf = req.buf[:ls]
			}
			continue
		}
		name := req.buf[ls+h.ns : ls+h.ne]
		value := req.buf[ls+h.vs : ls+h.ve]
		req.spans = append(req.spans, span{int32(ls + h.ns), int32(ls + h.ne)}, span{int32(ls + h.vs), int32(ls + h.ve)})

		// ngx_http_headers_in handlers.
		kind, bit := knownHeader(name)
		if bit != 0 {
			if seen&bit != 0 {
				return statusErr(400, "client sent duplicate header line")
			}
			seen |= bit
		}
		switch kind {
		case hdrHost:
			if hostSpan.s >= 0 {
				return statusErr(400, "client sent duplicate host header")
			}
			hostSpan = span{int32(ls + h.vs), int32(ls + h.ve)}
			hl, ok := ValidateHost(value)
			if !ok {
				return statusErr(400, "client sent invalid host header")
			}
			if !hostFromLine {
				hostSpan.e = hostSpan.s + int32(hl)
				req.hostSeen = hostSpan
			}
		case hdrConnection:
			if containsFold(value, "close") {
				connType = connClose
			} else if containsFold(value, "keep-alive") {
				connType = connKeepAlive
			}
		case hdrUpgrade:
			req.hasUpgrade = true
		case hdrContentLength:
			n, ok := parseContentLength(value)
			if !ok {
				// Checked after the head (ngx_http_process_request_header);
				// remember it as invalid.
				req.ContentLength = -2
			} else {
				req.ContentLength = n
			}
		case hdrTransferEncoding:
			req.Chunked = true // refined below
		case hdrExpect:
			req.Expect100 = EqualFold(value, "100-continue")
		}
	}
	req.HeadLength = headLen

	// ngx_http_process_request_header.
	if hostSpan.s < 0 && req.ProtoMajor*1000+req.ProtoMinor > 1000 {
		return statusErr(400, "client sent HTTP/1.1 request without \"Host\" header")
	}
	if req.ContentLength == -2 {
		return statusErr(400, "client sent invalid \"Content-Length\" header")
	}
	if req.Chunked {
		te := lookup(req.headersView(), "Transfer-Encoding")
		if req.ProtoMinor < 1 {
			return statusErr(400, "client sent HTTP/1.0 request with \"Transfer-Encoding\" header")
		}
		if !EqualFold(te, "chunked") {
			return statusErr(501, "client sent unknown \"Transfer-Encoding\"")
		}
		if req.ContentLength >= 0 {
			return statusErr(400, "client sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time")
		}
	}
	switch string(req.buf[req.rl.method.s:req.rl.method.e]) {
	case "CONNECT":
		return statusErr(405, "client sent CONNECT method")
	case "TRACE":
		return statusErr(405, "client sent TRACE method")
	}
	if req.ProtoMinor < 1 {
		req.Expect100 = false
	}
	req.ConnectionClose = connType == connClose
	switch connType {
	case connClose:
		req.KeepAlive = false
	case connKeepAlive:
		req.KeepAlive = true
	default:
		req.KeepAlive = req.ProtoMinor >= 1
	}
	if !hostFromLine && hostSpan.s >= 0 {
		// Lower-case into the scratch buffer so Host does not alias the
		// header value.
		hs := len(req.buf)
		req.buf = appendLower(req.buf, req.buf[hostSpan.s:hostSpan.e])
		req.rl.host = span{int32(hs), int32(len(req.buf))}
	}
	req.materialize()
	return nil
}

// holdHeads, tests: false parses every head line by line.
var holdHeads = true

// nextLine is readLine's next head line and its offset in buf: from the
// held head when there is one (see heldBytes), else read from br.
func (req *Request) nextLine(br *bufio.Reader, lim *headLimiter, status int, msg string, started bool, kind int) ([]byte, int, error) {
	if hh := &req.held; hh.on {
		if i := bytes.IndexByte(req.buf[hh.next:hh.end], '\n'); i >= 0 {
			// readLine's line from the buffer, without its copy.
			at := hh.next
			hh.next += i + 1
			if !lim.place(i+1, true) {
				return nil, at, statusErr(status, msg)
			}
			return req.buf[at:hh.next], at, nil
		}
		// The held bytes ended before the head: read on from br after
		// what was used.
		br.Discard(hh.next - hh.base)
		req.buf = req.buf[:hh.next]
		req.held = heldHead{}
	}
	l, err := readLine(br, req, lim, status, msg, started, kind)
	return l, len(req.buf) - len(l), err
}

// heldBytes is what of br's buffer parseRequestHead copies at once to
// take its head lines from (nil: none): the buffered bytes, at most
// client_header_buffer_size (small) of them, when they end a line. Most
// often they are the whole head; when they hold more (a pipelined
// request, a body), the parse stops at the head's empty line and uses
// no more; when they hold less, it reads on line by line.
func heldBytes(br *bufio.Reader, small int) []byte {
	n := min(br.Buffered(), small)
	if n == 0 || !holdHeads {
		return nil
	}
	if b, _ := br.Peek(n); b[n-1] == '\n' {
		return b
	}
	return nil
}

const (
	connNone = iota
	connClose
	connKeepAlive
)

// headersView builds Headers from spans without committing; used before
// materialize when a lookup is needed.
func (r *Request) headersView() []Header {
	r.materializeHeaders()
	return r.Headers
}

func (r *Request) materializeHeaders() {
	r.Headers = r.Headers[:0]
	n := len(r.spans) &^ 1
	for i := 0; i+1 < n; i += 2 {
		ns, vs := r.spans[i], r.spans[i+1]
		r.Headers = append(r.Headers, Header{
			Name:  r.buf[ns.s:ns.e:ns.e],
			Value: r.buf[vs.s:vs.e:vs.e],
		})
	}
}

// materialize points every field into the final scratch buffer (appends
// may have moved it).
func (r *Request) materialize() {
	r.materializeHeaders()
	r.rl.apply(r)
}

// Request-line fields are kept as offsets too (see setRequestLine).
type rlOffsets struct {
	method, target, uri, path, query, norm, host span
}

func (o *rlOffsets) apply(r *Request) {
	get := func(s span) []byte {
		if s.s < 0 {
			return nil
		}
		return r.buf[s.s:s.e:s.e]
	}
	r.Method = get(o.method)
	r.RawTarget = get(o.target)
	r.URI = get(o.uri)
	r.Path = get(o.path)
	r.Query = get(o.query)
	r.NormalizedPath = get(o.norm)
	r.Host = get(o.host)
	if r.hasUpgrade {
		for _, h := range r.Headers {
			if EqualFold(h.Name, "Upgrade") {
				r.Upgrade = h.Value
				break
			}
		}
	}
}

func onlyCRLF(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// Header names the head parser acts on (ngx_http_headers_in).
const (
	hdrOther = iota
	hdrHost
	hdrConnection
	hdrUpgrade
	hdrContentLength
	hdrTransferEncoding
	hdrExpect
)

// knownHeaders are the names of ngx_http_headers_in that the parser
// acts on or that nginx allows once (ngx_http_process_unique_header_line).
var knownHeaders = [...]struct {
	name   string
	kind   int
	unique bool
}{
	{"Host", hdrHost, false},
	{"Connection", hdrConnection, false},
	{"Upgrade", hdrUpgrade, false},
	{"Content-Length", hdrContentLength, true},
	{"Content-Range", hdrOther, true},
	{"Transfer-Encoding", hdrTransferEncoding, true},
	{"Expect", hdrExpect, true},
	{"Authorization", hdrOther, true},
	{"If-Modified-Since", hdrOther, true},
	{"If-Unmodified-Since", hdrOther, true},
	{"If-Match", hdrOther, true},
	{"If-None-Match", hdrOther, true},
	{"If-Range", hdrOther, true},
}

// knownByLen lists the indexes in knownHeaders by the name's length, so
// that a name is compared with those of its length only.
var knownByLen = func() (t [20][]uint8) {
	for i, h := range knownHeaders {
		t[len(h.name)] = append(t[len(h.name)], uint8(i))
	}
	return t
}()

// knownHeader returns which of knownHeaders name is (hdrOther for none)
// and, for a header nginx allows once, its bit (0 for others).
func knownHeader(name []byte) (kind int, bit uint16) {
	if len(name) >= len(knownByLen) {
		return hdrOther, 0
	}
	for _, i := range knownByLen[len(name)] {
		if h := &knownHeaders[i]; EqualFold(name, h.name) {
			if h.unique {
				bit = 1 << i
			}
			return h.kind, bit
		}
	}
	return hdrOther, 0
}

// parseContentLength is ngx_atoof: one or more decimal digits, no sign or
// spaces, at most NGX_MAX_OFF_T_VALUE (2^63-1): a larger value is invalid
// (400), one up to it is checked against client_max_body_size (413).
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const cutoff, cutlim = math.MaxInt64 / 10, math.MaxInt64 % 10
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n >= cutoff && (n > cutoff || d > cutlim) {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ValidateHost is ngx_http_validate_host for a Host header or the host of an
// absolute request-target: it returns the length of the host part (port and
// one trailing dot removed; an IPv6 literal keeps its brackets) or false when
// nginx answers 400: ".." anywhere, "/", a byte <= 0x20 or 0x7f, or nothing
// left. Bytes >= 0x80 are accepted. Letters are not lower-cased here.
func ValidateHost(h []byte) (n int, ok bool) {
	const (
		usual = iota
		literal
		rest
	)
	state := usual
	dotPos, hostLen := -2, len(h)
	for i, ch := range h {
		if hostPlain[ch] {
			continue
		}
		switch ch {
		case '.':
			if dotPos == i-1 {
				return 0, false
			}
			dotPos = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		default:
			// '/', a byte <= 0x20, 0x7f.
			return 0, false
		}
	}
	if dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return 0, false
	}
	return hostLen, true
}

// hostPlain marks the bytes ValidateHost passes over without a look:
// all but '.', ':', '[', ']', '/', those <= 0x20 and 0x7f.
var hostPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c > 0x20 && c != 0x7f && !strings.ContainsRune(".:[]/", rune(c))
	}
	return t
}()

// appendLower appends src to dst with A-Z lower-cased, as ngx_strlow does;
// other bytes are kept. src may alias dst's backing array.
func appendLower(dst, src []byte) []byte {
	n := len(dst)
	dst = append(dst, src...)
	for i := n; i < len(dst); i++ {
		if c := dst[i]; c-'A' < 26 {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}
