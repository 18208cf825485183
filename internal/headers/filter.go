package headers

import (
	"fmt"
	"strings"
	"unsafe"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Value is a compiled configuration value that may hold variables;
// *vars.Template implements it.
type Value interface {
	Append(dst []byte, c *vars.Ctx) []byte
	IsConst() bool
}

// CompileFunc compiles a raw configuration value.
type CompileFunc func(raw string) (Value, error)

// Filter is one location's compiled header filter; nil when the location
// has none. It is immutable and safe for concurrent use.
type Filter struct {
	more     []moreCmd
	add      []addLine
	trailers []addLine
	// alwaysTrailer: some trailer applies to every status.
	alwaysTrailer bool
	// readsSent: a value reads $sent_http_NAME or $sent_trailer_NAME,
	// which then see the lines added before it, as nginx's headers_out
	// has them when the value is evaluated.
	readsSent bool
}

// sentReader is what a Value that may read the response as sent
// implements (*vars.Template).
type sentReader interface{ ReadsSent() bool }

// special says which of nginx's handlers a header name gets.
type special uint8

const (
	plain special = iota
	// add_header (ngx_http_set_headers): the response's own line is
	// replaced, not added to.
	addETag
	addLastModified
	// headers-more (ngx_http_headers_more_set_handlers): nginx's own lines.
	moreServer
	moreDate
	moreContentType
	moreLocation
	// headers-more on names nginx writes itself and no list line can
	// carry: clearing them does nothing (Transfer-Encoding, Connection,
	// Keep-Alive; setting them is a configuration error).
	moreNothing
)

// addLine is one add_header or add_trailer line.
type addLine struct {
	name   string
	value  Value // nil: the empty value, which adds nothing
	always bool
	kind   special
}

// moreCmd is one more_set_headers or more_clear_headers directive.
type moreCmd struct {
	statuses []int
	types    []string
	append   bool
	headers  []moreLine
}

// moreLine is one header argument of a headers-more command.
type moreLine struct {
	name     string
	value    Value // nil: clear
	wildcard bool
	kind     special
}

// Compile compiles a location's header filter directives; it returns nil
// (and no error) when there are none.
func Compile(h *config.HeadersConf, compile CompileFunc) (*Filter, error) {
	if len(h.Add) == 0 && len(h.Trailers) == 0 && len(h.More) == 0 {
		return nil, nil
	}
	f := &Filter{}
	value := func(pos config.Pos, what, raw string) (Value, error) {
		if raw == "" {
			return nil, nil
		}
		v, err := compile(raw)
		if err != nil {
			return nil, &config.Error{Pos: pos, Msg: fmt.Sprintf("%s: %v", what, err)}
		}
		if sr, ok := v.(sentReader); ok && sr.ReadsSent() {
			f.readsSent = true
		}
		if n := strings.Count(raw, "\r") + strings.Count(raw, "\n"); n > 0 {
			v = literalBreaks{Value: v, n: n}
		}
		return v, nil
	}
	for _, a := range h.Add {
		v, err := value(a.Pos, "add_header", a.Value)
		if err != nil {
			return nil, err
		}
		l := addLine{name: a.Name, value: v, always: a.Always}
		switch {
		case strings.EqualFold(a.Name, "ETag"):
			l.kind = addETag
		case strings.EqualFold(a.Name, "Last-Modified"):
			l.kind = addLastModified
		}
		f.add = append(f.add, l)
	}
	for _, a := range h.Trailers {
		v, err := value(a.Pos, "add_trailer", a.Value)
		if err != nil {
			return nil, err
		}
		f.trailers = append(f.trailers, addLine{name: a.Name, value: v, always: a.Always})
		f.alwaysTrailer = f.alwaysTrailer || a.Always
	}
	for _, m := range h.More {
		cmd := moreCmd{statuses: m.Statuses, types: m.Types, append: m.Append}
		for _, x := range m.Headers {
			v, err := value(m.Pos, "more_set_headers", x.Value)
			if err != nil {
				return nil, err
			}
			l := moreLine{name: x.Name, value: v, wildcard: x.Wildcard}
			if !x.Wildcard {
				switch strings.ToLower(x.Name) {
				case "server":
					l.kind = moreServer
				case "date":
					l.kind = moreDate
				case "content-type":
					l.kind = moreContentType
				case "location":
					l.kind = moreLocation
				case "transfer-encoding", "connection", "keep-alive":
					l.kind = moreNothing
				}
			}
			cmd.headers = append(cmd.headers, l)
		}
		f.more = append(f.more, cmd)
	}
	return f, nil
}

// safeStatus reports whether add_header without "always" (and expires)
// applies to status (ngx_http_headers_filter's safe_status).
func safeStatus(status int) bool {
	switch status {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// ExpectTrailers reports whether a response with status has add_trailer
// lines to send (r->expect_trailers): it is then chunked on HTTP/1.1 even
// when its length is known.
func (f *Filter) ExpectTrailers(status int) bool {
	if f == nil || len(f.trailers) == 0 {
		return false
	}
	return f.alwaysTrailer || safeStatus(status)
}

// AppendTrailers appends the trailer lines of a response with status,
// "Name: value\r\n" each, evaluated now (ngx_http_trailers_filter runs
// on the last buffer); lines whose value is empty are left out.
func (f *Filter) AppendTrailers(dst []byte, status int, c *vars.Ctx) []byte {
	if f == nil {
		return dst
	}
	safe := safeStatus(status)
	first := len(dst)
	for _, t := range f.trailers {
		if t.value == nil || !safe && !t.always {
			continue
		}
		if f.readsSent && c != nil {
			// $sent_trailer_NAME: the trailers so far.
			c.SentTrailers = unsafe.String(unsafe.SliceData(dst[first:]), len(dst)-first)
		}
		mark := len(dst)
		dst = append(dst, t.name...)
		dst = append(dst, ": "...)
		start := len(dst)
		dst = t.value.Append(dst, c)
		if len(dst) == start || !safeValue(t.value, dst[start:]) {
			dst = dst[:mark]
			continue
		}
		dst = append(dst, "\r\n"...)
	}
	if f.readsSent && c != nil {
		c.SentTrailers = "" // the log phase sets the trailers as sent
	}
	return dst
}

// literalBreaks is a Value whose configuration text itself holds n CR or
// LF bytes (a quoted "\n" or "\r"): nginx writes those as they are, so
// they are kept, however they end the line.
type literalBreaks struct {
	Value
	n int
}

// safeValue reports whether b, v's value, may be written into the head:
// it holds no NUL, and no CR or LF besides those of v's own configuration
// text. A CR or LF that a variable brings ($uri is decoded, so "%0d%0a"
// in a request's path is one) would split the head: the line is dropped.
// The value's CR and LF bytes are those of its literal text plus those of
// its variables, each part evaluated once, so a count above the text's
// means a variable brought some.
func safeValue(v Value, b []byte) bool {
	n := 0
	if lb, ok := v.(literalBreaks); ok {
		n = lb.n
	}
	for _, c := range b {
		switch c {
		case 0:
			return false
		case '\r', '\n':
			if n--; n < 0 {
				return false
			}
		}
	}
	return true
}

// Bound is a Filter with one request's variables: the wire layer's head
// filter for that request (http1.HeadFilter). A connection keeps one and
// rebinds it per request, so that binding costs nothing.
type Bound struct {
	F    *Filter
	Vars *vars.Ctx
	// head is a copy of the head as filtered, which add_trailer's
	// $sent_http_NAME reads once the body has gone; kept only when the
	// filter reads it. Rebinding keeps the buffer.
	head []byte
}

// FilterHead is Rewrite with the request's variables.
func (b *Bound) FilterHead(buf []byte, start, late, status int) []byte {
	out := b.F.Rewrite(buf, start, late, status, b.Vars)
	if b.F.readsSent {
		b.head = append(b.head[:0], out[start:]...)
		b.Vars.SentHead = unsafe.String(unsafe.SliceData(b.head), len(b.head))
	}
	return out
}

// ExpectTrailers is the Filter's.
func (b *Bound) ExpectTrailers(status int) bool { return b.F.ExpectTrailers(status) }

// AppendTrailers is the Filter's, with the request's variables.
func (b *Bound) AppendTrailers(dst []byte, status int) []byte {
	return b.F.AppendTrailers(dst, status, b.Vars)
}

// Replaces evaluates what add_header makes of the response's own ETag or
// Last-Modified (lower is "etag" or "last-modified") for a response with
// status: ok is false when no add_header line of that name applies, else
// value is the last such line's value (empty: the header is removed),
// appended to dst. nginx's range filter runs after the headers filter
// and compares If-Range with these (r->headers_out.etag and
// last_modified_time), so the static file handler asks before it decides
// on a 206.
func (f *Filter) Replaces(dst []byte, lower string, status int, c *vars.Ctx) (out, value []byte, ok bool) {
	if f == nil {
		return dst, nil, false
	}
	kind := addETag
	if lower == "last-modified" {
		kind = addLastModified
	}
	safe := safeStatus(status)
	for i := range f.add {
		a := &f.add[i]
		if a.kind != kind || !safe && !a.always {
			continue
		}
		mark := len(dst)
		if a.value != nil {
			dst = a.value.Append(dst, c)
		}
		if !safeValue(a.value, dst[mark:]) {
			dst = dst[:mark]
			continue
		}
		value, ok = dst[mark:], true
	}
	return dst, value, ok
}
