package headers

import (
	"bytes"
	"unsafe"

	"wsgate/internal/vars"
)

// span is a byte range of the buffer Rewrite works in (offsets, not
// slices: evaluated values are appended to the same buffer, which may
// move).
type span struct{ off, n int }

// line is one header line of the head being filtered.
type line struct {
	name, value span
	lit         string // the name, when it came from the configuration
	// own: one of nginx's own lines, written before the list
	// (everything up to and including Connection).
	own bool
	// late: added by nginx's filters after the headers filter (the range
	// filter's Accept-Ranges, Content-Range); new lines go before it.
	late bool
	off  bool // removed
}

// is reports whether the line's name is lower (a lower-case name).
func (l *line) is(buf []byte, lower string) bool {
	if l.lit != "" {
		return equalFold(l.lit, lower)
	}
	return equalFold(buf[l.name.off:l.name.off+l.name.n], lower)
}

// matches reports whether the line's name is want, case-insensitively,
// or starts with it when wildcard.
func (l *line) matches(buf []byte, want string, wildcard bool) bool {
	if l.lit != "" {
		return nameMatches(l.lit, want, wildcard)
	}
	return nameMatches(buf[l.name.off:l.name.off+l.name.n], want, wildcard)
}

// Rewrite applies the filter to a response head with status: buf[start:]
// holds the whole head, status line to the empty line, as the wire layer
// composed it; lines from offset late on (-1: none) are ones nginx's
// later filters add, which the filter's own lines precede. It returns
// buf with the filtered head in its place. c
// evaluates values with variables ($status is set to status); it may be
// nil when the filter's values are constant. Rewrite does not allocate
// when buf has room for a second copy of the head and the head has at
// most 32 lines.
func (f *Filter) Rewrite(buf []byte, start, late, status int, c *vars.Ctx) []byte {
	if f == nil || len(f.more) == 0 && !f.addsFor(status) {
		return buf
	}
	if c != nil {
		// $sent_http_NAME in a value reads the head as it stands
		// (r->headers_out while the filter runs); the filter appends
		// past it and never writes inside it.
		c.Status = status
		c.SentHead = unsafe.String(unsafe.SliceData(buf[start:]), len(buf)-start)
	}
	var stack [32]line
	lines := stack[:0]
	eol := bytes.Index(buf[start:], crlf)
	if eol < 0 {
		return buf
	}
	statusEnd := start + eol + 2
	own := true
	for p := statusEnd; p < len(buf); {
		e := bytes.Index(buf[p:], crlf)
		if e <= 0 {
			break
		}
		colon := bytes.IndexByte(buf[p:p+e], ':')
		if colon < 0 {
			colon = e
		}
		v := p + colon + 1
		for v < p+e && (buf[v] == ' ' || buf[v] == '\t') {
			v++
		}
		if v > p+e {
			v = p + e
		}
		l := line{name: span{p, colon}, value: span{v, p + e - v}, own: own, late: late >= 0 && p >= late}
		lines = append(lines, l)
		if own && equalFold(buf[p:p+colon], "connection") {
			own = false
		}
		p += e + 2
	}

	for i := range f.more {
		buf, lines = f.more[i].apply(buf, lines, status, c)
	}
	buf, lines = f.applyAdd(buf, lines, status, c, start, statusEnd)

	out := len(buf)
	buf = append(buf, buf[start:statusEnd]...)
	for i := range lines {
		l := &lines[i]
		if l.off {
			continue
		}
		if l.lit != "" {
			buf = append(buf, l.lit...)
		} else {
			buf = append(buf, buf[l.name.off:l.name.off+l.name.n]...)
		}
		buf = append(buf, ": "...)
		buf = append(buf, buf[l.value.off:l.value.off+l.value.n]...)
		buf = append(buf, crlf...)
	}
	buf = append(buf, crlf...)
	if c != nil {
		c.SentHead = "" // the log phase sets the head as written
	}
	n := copy(buf[start:], buf[out:])
	return buf[:start+n]
}

var crlf = []byte("\r\n")

// addsFor reports whether add_header has lines for status.
func (f *Filter) addsFor(status int) bool {
	if len(f.add) == 0 {
		return false
	}
	if safeStatus(status) {
		return true
	}
	for _, a := range f.add {
		if a.always {
			return true
		}
	}
	return false
}

// eval appends v's value to buf; ok is false for a value whose variables
// would split the head (CR, LF or NUL: safeValue), which then is not used
// at all.
func eval(buf []byte, v Value, c *vars.Ctx) ([]byte, span, bool) {
	if v == nil {
		return buf, span{len(buf), 0}, true
	}
	mark := len(buf)
	buf = v.Append(buf, c)
	if !safeValue(v, buf[mark:]) {
		return buf[:mark], span{}, false
	}
	return buf, span{mark, len(buf) - mark}, true
}

// apply runs one headers-more command (ngx_http_headers_more_exec_cmd).
func (m *moreCmd) apply(buf []byte, lines []line, status int, c *vars.Ctx) ([]byte, []line) {
	if len(m.statuses) > 0 && !hasStatus(m.statuses, status) {
		return buf, lines
	}
	if len(m.types) > 0 && !m.typeMatches(buf, lines) {
		return buf, lines
	}
	for i := range m.headers {
		h := &m.headers[i]
		var val span
		var ok bool
		if buf, val, ok = eval(buf, h.value, c); !ok {
			continue
		}
		switch h.kind {
		case moreNothing:
			continue
		case moreContentType:
			// ngx_http_set_content_type_header: nginx's own line takes the
			// value (none when empty); list lines of the name go.
			if j := findOwn(buf, lines, "content-type"); j >= 0 {
				if val.n > 0 && charsetAt(buf[val.off:val.off+val.n]) < 0 {
					// The charset of the old value stays
					// (r->headers_out.charset), and the header filter
					// appends it to a type that names none.
					old := buf[lines[j].value.off : lines[j].value.off+lines[j].value.n]
					if k := charsetAt(old); k >= 0 {
						cs := old[k:]
						if len(cs) > 0 && cs[0] == '"' {
							cs = cs[1:]
						}
						if len(cs) > 0 && cs[len(cs)-1] == '"' {
							cs = cs[:len(cs)-1]
						}
						mark := len(buf)
						buf = append(buf, buf[val.off:val.off+val.n]...)
						buf = append(buf, "; charset="...)
						buf = append(buf, cs...)
						val = span{mark, len(buf) - mark}
					}
				}
				lines[j].value, lines[j].off = val, val.n == 0
			} else if val.n > 0 {
				lines = insertOwn(buf, lines, line{lit: "Content-Type", value: val, own: true})
			}
			lines = clearList(buf, lines, h.name, false)
			continue
		case moreLocation:
			// The Location nginx writes itself is r->headers_out.location,
			// a list line that ngx_http_header_filter writes in its own
			// place only when it starts with "/": another value stays in
			// the list, where the handler put it, first.
			if j := findOwn(buf, lines, "location"); j >= 0 {
				lines[j].off = true
				if val.n > 0 {
					lines = insertList(lines, line{lit: "Location", value: val})
				}
				continue
			}
		case moreServer, moreDate:
			// ngx_http_set_builtin_header: r->headers_out.server (date)
			// is set, so nginx's own line is not written; the value goes
			// to the list.
			name := "server"
			if h.kind == moreDate {
				name = "date"
			}
			if j := findOwn(buf, lines, name); j >= 0 {
				lines[j].off = true
			}
		}
		if m.append {
			if val.n > 0 {
				lines = appendList(lines, line{lit: h.name, value: val})
			}
			continue
		}
		matched := false
		for j := range lines {
			l := &lines[j]
			if l.own || l.off || !l.matches(buf, h.name, h.wildcard) {
				continue
			}
			if val.n == 0 || matched {
				l.off = true
			} else {
				l.value = val
			}
			matched = true
		}
		if !matched && val.n > 0 {
			lines = appendList(lines, line{lit: h.name, value: val})
		}
	}
	return buf, lines
}

// typeMatches is ngx_http_headers_more_check_type: the response's
// Content-Type up to a "; charset=" parameter, compared exactly.
func (m *moreCmd) typeMatches(buf []byte, lines []line) bool {
	j := findOwn(buf, lines, "content-type")
	if j < 0 || lines[j].off {
		return false
	}
	v := buf[lines[j].value.off : lines[j].value.off+lines[j].value.n]
	t := v
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		k := i + 1
		for k < len(v) && v[k] == ' ' {
			k++
		}
		if len(v)-k >= 8 && equalFold(v[k:k+8], "charset=") {
			t = v[:i]
			break
		}
	}
	for _, want := range m.types {
		if string(t) == want {
			return true
		}
	}
	return false
}

// applyAdd runs add_header (the headers filter's loop over conf->headers).
func (f *Filter) applyAdd(buf []byte, lines []line, status int, c *vars.Ctx, start, statusEnd int) ([]byte, []line) {
	safe := safeStatus(status)
	for i := range f.add {
		a := &f.add[i]
		if !safe && !a.always {
			continue
		}
		if f.readsSent && c != nil {
			// $sent_http_NAME sees the lines added so far, as nginx's
			// headers_out has them.
			c.SentHead = sentView(buf, start, statusEnd, lines)
		}
		var val span
		var ok bool
		if buf, val, ok = eval(buf, a.value, c); !ok {
			continue
		}
		switch a.kind {
		case addETag, addLastModified:
			// ngx_http_set_response_header: the response's own ETag or
			// Last-Modified line (the last one) takes the value, or goes
			// when it is empty; nginx's own Last-Modified, written from
			// a time, is replaced by a list line.
			name := "etag"
			if a.kind == addLastModified {
				name = "last-modified"
				if j := findOwn(buf, lines, name); j >= 0 {
					lines[j].off = true
				}
			}
			if j := findLast(buf, lines, name); j >= 0 {
				lines[j].value, lines[j].off = val, val.n == 0
				continue
			}
		}
		if val.n > 0 {
			lines = appendList(lines, line{lit: a.name, value: val})
		}
	}
	return buf, lines
}

// sentView renders the head as lines have it now, in a new string,
// without the lines of the filters that run after the headers filter
// (nginx's range filter has not added them yet).
func sentView(buf []byte, start, statusEnd int, lines []line) string {
	b := append([]byte(nil), buf[start:statusEnd]...)
	for i := range lines {
		l := &lines[i]
		if l.off || l.late {
			continue
		}
		if l.lit != "" {
			b = append(b, l.lit...)
		} else {
			b = append(b, buf[l.name.off:l.name.off+l.name.n]...)
		}
		b = append(b, ": "...)
		b = append(b, buf[l.value.off:l.value.off+l.value.n]...)
		b = append(b, crlf...)
	}
	b = append(b, crlf...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// findOwn returns the index of nginx's own line named lower, or -1.
func findOwn(buf []byte, lines []line, lower string) int {
	for j := range lines {
		if lines[j].own && !lines[j].off && lines[j].is(buf, lower) {
			return j
		}
	}
	return -1
}

// findLast returns the index of the last list line named lower, or -1.
func findLast(buf []byte, lines []line, lower string) int {
	for j := len(lines) - 1; j >= 0; j-- {
		if !lines[j].own && !lines[j].off && lines[j].is(buf, lower) {
			return j
		}
	}
	return -1
}

// clearList removes the list lines named name.
func clearList(buf []byte, lines []line, name string, wildcard bool) []line {
	for j := range lines {
		if !lines[j].own && lines[j].matches(buf, name, wildcard) {
			lines[j].off = true
		}
	}
	return lines
}

// insertOwn inserts one of nginx's own lines in its place: after Server
// and Date.
func insertOwn(buf []byte, lines []line, l line) []line {
	at := 0
	for at < len(lines) && lines[at].own && (lines[at].is(buf, "server") || lines[at].is(buf, "date")) {
		at++
	}
	lines = append(lines, line{})
	copy(lines[at+1:], lines[at:])
	lines[at] = l
	return lines
}

// appendList adds l at the end of the list, before the late lines.
func appendList(lines []line, l line) []line {
	at := len(lines)
	for at > 0 && lines[at-1].late {
		at--
	}
	lines = append(lines, line{})
	copy(lines[at+1:], lines[at:])
	lines[at] = l
	return lines
}

// insertList inserts l as the first line of the list.
func insertList(lines []line, l line) []line {
	at := 0
	for at < len(lines) && lines[at].own {
		at++
	}
	lines = append(lines, line{})
	copy(lines[at+1:], lines[at:])
	lines[at] = l
	return lines
}

// charsetAt returns the offset of the value of a "; charset=" parameter
// in a Content-Type value, or -1 (ngx_http_upstream_copy_content_type's
// scan).
func charsetAt(v []byte) int {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		k := i + 1
		for k < len(v) && v[k] == ' ' {
			k++
		}
		if len(v)-k >= 8 && equalFold(v[k:k+8], "charset=") {
			return k + 8
		}
	}
	return -1
}

func hasStatus(list []int, status int) bool {
	for _, s := range list {
		if s == status {
			return true
		}
	}
	return false
}

// nameMatches compares a header name case-insensitively with want, or
// with want as a prefix when wildcard.
func nameMatches[T string | []byte](name T, want string, wildcard bool) bool {
	if wildcard {
		return len(name) >= len(want) && equalFoldMixed(name[:len(want)], want)
	}
	return len(name) == len(want) && equalFoldMixed(name, want)
}

// equalFold compares b with the lower-case ASCII string s.
func equalFold[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// equalFoldMixed compares b and s ASCII case-insensitively.
func equalFoldMixed[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
