package http1

import "errors"

// ErrInvalidURI is returned by AppendNormalizedURI for a URI nginx rejects with 400
// "client sent invalid request": a bad or decoded-NUL %-escape, or ".."
// above the root.
var ErrInvalidURI = errors.New("invalid request uri")

// usual marks bytes that need no attention in a URI (nginx's usual[] table
// in ngx_http_parse.c, non-Win32): everything except CTLs, SP, '"', '#',
// '%', '.', '/', '?', 0x7F; bytes >= 0x80 are usual.
var usual = [8]uint32{
	0x00000000,
	0x7fff37d6,
	0xffffffff,
	0x7fffffff,
	0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
}

func isUsual(c byte) bool { return usual[c>>5]&(1<<(c&0x1f)) != 0 }

// AppendNormalizedURI appends nginx's $uri for a raw origin-form target
// (path, optionally followed by "?query" or "#fragment", which are cut) to
// dst: %XX decoded, "." and ".." segments resolved, and "//" merged when
// mergeSlashes (merge_slashes, default on). "+" is not decoded. It follows
// ngx_http_parse_complex_uri; a decoded "%00" or ".." above the root is
// ErrInvalidURI. It allocates only when dst lacks room.
func AppendNormalizedURI(dst, path []byte, mergeSlashes bool) ([]byte, error) {
	const (
		swUsual = iota
		swSlash
		swDot
		swDotDot
		swQuoted
		swQuotedSecond
	)
	base := len(dst)
	u := dst
	if len(path) == 0 || path[0] != '/' {
		// Empty path in an absolute URI ("http://h?x"): nginx writes "/"
		// first (r->empty_path_in_uri).
		u = append(u, '/')
	}
	// dotdot removes the last segment: u ends with "/.." (just written);
	// nginx steps back 4 bytes and scans for the previous '/'.
	dotdot := func(u []byte) ([]byte, bool) {
		i := len(u) - 4
		for {
			if i < base {
				return u, false
			}
			if u[i] == '/' {
				return u[:i+1], true
			}
			i--
		}
	}
	state, quotedState := swUsual, swUsual
	var decoded byte
	i := 0
	for i < len(path) {
		ch := path[i]
		i++
	again:
		switch state {
		case swUsual:
			if isUsual(ch) {
				u = append(u, ch)
				continue
			}
			switch ch {
			case '/':
				state = swSlash
				u = append(u, ch)
			case '%':
				quotedState, state = state, swQuoted
			case '?', '#':
				return u, nil
			default:
				u = append(u, ch)
			}
		case swSlash:
			if isUsual(ch) {
				state = swUsual
				u = append(u, ch)
				continue
			}
			switch ch {
			case '/':
				if !mergeSlashes {
					u = append(u, ch)
				}
			case '.':
				state = swDot
				u = append(u, ch)
			case '%':
				quotedState, state = state, swQuoted
			case '?', '#':
				return u, nil
			default:
				state = swUsual
				u = append(u, ch)
			}
		case swDot:
			if isUsual(ch) {
				state = swUsual
				u = append(u, ch)
				continue
			}
			switch ch {
			case '/':
				state = swSlash
				u = u[:len(u)-1]
			case '.':
				state = swDotDot
				u = append(u, ch)
			case '%':
				quotedState, state = state, swQuoted
			case '?', '#':
				return u[:len(u)-1], nil
			default:
				state = swUsual
				u = append(u, ch)
			}
		case swDotDot:
			if isUsual(ch) {
				state = swUsual
				u = append(u, ch)
				continue
			}
			switch ch {
			case '/', '?', '#':
				var ok bool
				if u, ok = dotdot(u); !ok {
					return dst[:base], ErrInvalidURI
				}
				if ch != '/' {
					return u, nil
				}
				state = swSlash
			case '%':
				quotedState, state = state, swQuoted
			default:
				state = swUsual
				u = append(u, ch)
			}
		case swQuoted:
			if h, ok := unhex(ch); ok {
				decoded = h
				state = swQuotedSecond
				continue
			}
			return dst[:base], ErrInvalidURI
		case swQuotedSecond:
			h, ok := unhex(ch)
			if !ok {
				return dst[:base], ErrInvalidURI
			}
			ch = decoded<<4 | h
			switch {
			case ch == 0:
				return dst[:base], ErrInvalidURI
			case ch == '%' || ch == '#' || ch == '?':
				// A decoded '%', '#' or '?' is a literal, not syntax.
				state = swUsual
				u = append(u, ch)
				continue
			}
			// The decoded byte is re-examined in the state the escape
			// started in, so "%2F.." resolves like "/..".
			state = quotedState
			goto again
		}
	}
	switch state {
	case swQuoted, swQuotedSecond:
		return dst[:base], ErrInvalidURI
	case swDot:
		u = u[:len(u)-1]
	case swDotDot:
		var ok bool
		if u, ok = dotdot(u); !ok {
			return dst[:base], ErrInvalidURI
		}
	}
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10, true
	}
	return 0, false
}
