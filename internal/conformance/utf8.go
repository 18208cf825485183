package conformance

import "unicode/utf8"

// utf8Stream checks that a text message is UTF-8 (RFC 6455 8.1, RFC
// 3629) as its fragments arrive, a code point possibly split between
// them, and fails as soon as the bytes so far cannot begin valid UTF-8
// (Autobahn's "fail fast" on 6.x).
type utf8Stream struct {
	buf [utf8.UTFMax]byte // the incomplete code point at the end so far
	n   int
}

// write adds p; false once the text cannot be UTF-8.
func (s *utf8Stream) write(p []byte) bool {
	for s.n > 0 && len(p) > 0 && !utf8.FullRune(s.buf[:s.n]) {
		s.buf[s.n] = p[0]
		s.n++
		p = p[1:]
	}
	if s.n > 0 {
		if !utf8.FullRune(s.buf[:s.n]) {
			return validPrefix(s.buf[:s.n])
		}
		if r, size := utf8.DecodeRune(s.buf[:s.n]); r == utf8.RuneError && size <= 1 || size != s.n {
			return false
		}
		s.n = 0
	}
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		return false
	}
	s.n = copy(s.buf[:], p[cut:])
	return validPrefix(s.buf[:s.n])
}

// end reports whether the text ended on a code point's end.
func (s *utf8Stream) end() bool { return s.n == 0 }

// validPrefix reports whether b, shorter than a code point, can be
// completed into one: some run of continuation bytes makes it valid.
func validPrefix(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	var c [utf8.UTFMax]byte
	for _, cont := range []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF} {
		n := copy(c[:], b)
		for ; n < len(c); n++ {
			c[n] = cont
			if utf8.FullRune(c[:n+1]) {
				n++
				break
			}
		}
		if r, size := utf8.DecodeRune(c[:n]); !(r == utf8.RuneError && size <= 1) && size == n {
			return true
		}
	}
	return false
}
