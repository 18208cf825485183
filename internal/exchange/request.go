package exchange

import (
	"bytes"
	"io"
	"strconv"
	"time"
)

// Header is one request or response header line: the name with its
// original case and the value without surrounding spaces.
type Header struct {
	Name, Value []byte
}

// Body reads a request body as its protocol frames it (Content-Length,
// chunked, or a stream's DATA frames). Read returns io.EOF at its end and
// a protocol's status error (413, 400) for a body that breaks its rules.
type Body interface {
	io.Reader
	// Begin does what the first Read does before it reads, also for an
	// empty body: the size check, and the protocol's invitation to send
	// (HTTP/1.1's "100 Continue" to "Expect: 100-continue"), as nginx
	// tests Expect whenever it reads or discards a body. A handler that
	// takes the body calls Begin first; later calls, and Reads, do not
	// repeat it.
	Begin() error
	// Empty reports whether the body has no bytes by its framing.
	Empty() bool
	// BytesRead is how many body bytes Read has returned so far.
	BytesRead() int64
}

// Request is the head of one request and its body, as the request
// handlers see it whatever protocol carried it. Its byte slices alias the
// protocol's buffers: they are valid until the handler returns, and a
// handler that keeps one longer copies it.
//
// The names follow nginx's: URI is $request_uri, NormalizedPath is $uri,
// Query is $args, Host is headers_in.server.
type Request struct {
	Method []byte
	// URI is nginx's $request_uri (r->unparsed_uri): the request-target
	// of the origin form, the part from the path on of the absolute form.
	URI []byte
	// Path is URI before the first '?', raw (not decoded).
	Path []byte
	// Query is URI after the first '?' ($args); HasQuery tells "?" from none.
	Query    []byte
	HasQuery bool
	// NormalizedPath is nginx's $uri: Path decoded, dot segments
	// resolved, slashes merged when merge_slashes is on.
	NormalizedPath []byte
	// ProtoMajor and ProtoMinor are the protocol's version: 1.1, 1.0, 0.9
	// (HTTP/0.9), 2.0, 3.0.
	ProtoMajor, ProtoMinor int
	// Headers are the header lines in arrival order, original case.
	Headers []Header
	// Host is nginx's headers_in.server: the host of an absolute target
	// (or :authority), else of the Host header; lower-cased, port and
	// trailing dot removed. Empty when neither was sent.
	Host []byte
	// ContentLength is the body's declared length, -1 when none was.
	ContentLength int64
	// Chunked is true for a body without a declared length that its
	// protocol frames itself ("Transfer-Encoding: chunked" in HTTP/1.1).
	Chunked bool
	// Upgrade is the first Upgrade header's value, nil when none.
	Upgrade []byte
	// Start is when the request's first byte was read, from the clock
	// reading its protocol's connection made for it (nginx's
	// r->start_sec and start_msec come from its cached time); zero when
	// the protocol made none, and the pipeline reads the clock.
	Start time.Time
	// HeadLength is the number of bytes the head took on the wire
	// ($request_length before the body).
	HeadLength int
	// Body reads the request body.
	Body Body
	// Pipelined is nginx's r->pipeline ($pipe): bytes of this request
	// were already buffered when the previous one was finished.
	Pipelined bool
	// Internal is nginx's r->internal: an internal redirect set
	// NormalizedPath and Query, which no longer derive from URI (the
	// client's, still $request_uri). The request pipeline sets it;
	// a protocol leaves it false.
	Internal bool
	// ArgsChanged is set by the pipeline when the rewrite module's set
	// changed $args: Query no longer derives from URI, which a handler
	// then does not send as received (V:ngx_http_variable_set_args
	// clears r->valid_unparsed_uri without making the request internal).
	ArgsChanged bool
	// NoLocationCut is nginx's !r->valid_location, set by the pipeline
	// after "rewrite ... break": a proxy_pass URI part no longer takes
	// the place of the location's name in NormalizedPath.
	NoLocationCut bool
	// Held, when set, is what the request holds until it ends (nginx's
	// request pool cleanups: limit_conn's counts). A handler that
	// detaches the request (a tunnel) calls Held.Detach before what it
	// detached can end, and the function Detach returns once it has
	// ended; the pipeline gives back what is still held when the request
	// ends.
	Held Holder
}

// Holder is what a request holds until it ends (Request.Held).
type Holder interface {
	// Detach hands what is held over to the caller: the function it
	// returns gives it back; the Holder holds nothing after.
	Detach() (release func())
	// Release gives back what is held before the request ends (its
	// client is gone); the Holder holds nothing after. The goroutine
	// that calls it must be the only one using the Holder meanwhile.
	Release()
}

// IsHEAD reports whether the method is HEAD.
func (r *Request) IsHEAD() bool { return string(r.Method) == "HEAD" }

// Header returns the value of the first header named name
// (case-insensitive), or nil.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// HasToken reports whether any header named name has token among its
// comma-separated elements (case-insensitive), e.g. HasToken("Connection",
// "upgrade").
func (r *Request) HasToken(name, token string) bool {
	for i := range r.Headers {
		if EqualFold(r.Headers[i].Name, name) && TokenIn(r.Headers[i].Value, token) {
			return true
		}
	}
	return false
}

// Proto is $server_protocol: "HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0".
func (r *Request) Proto() string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "HTTP/1.1"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "HTTP/1.0"
	case r.ProtoMajor == 0:
		return "HTTP/0.9"
	case r.ProtoMajor == 2 && r.ProtoMinor == 0:
		return "HTTP/2.0"
	case r.ProtoMajor == 3 && r.ProtoMinor == 0:
		return "HTTP/3.0"
	}
	return "HTTP/" + strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
}

// TokenIn reports whether the comma-separated list v (RFC 9110 5.6.1)
// holds tok, compared as EqualFold does. Elements are trimmed of spaces and
// tabs; an empty v holds nothing.
func TokenIn(v []byte, tok string) bool {
	for len(v) > 0 {
		el := v
		i := bytes.IndexByte(v, ',')
		if i >= 0 {
			el, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if EqualFold(TrimOWS(el), tok) {
			return true
		}
	}
	return false
}

// TrimOWS removes the optional whitespace (spaces and tabs, RFC 9110 5.6.3)
// around b.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// Atoi is ngx_atoi over a header value: a decimal number of digits only,
// at most 18 of them; -1 for anything else.
func Atoi(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// EqualFold reports whether b and s are equal with ASCII letters compared
// case-insensitively; other bytes must match exactly.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c|0x20 != d|0x20 {
			return false
		}
		if c|0x20 < 'a' || c|0x20 > 'z' {
			if c != d {
				return false
			}
		}
	}
	return true
}
