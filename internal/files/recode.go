package files

import (
	"strconv"
	"strings"

	"wsgate/internal/config"
)

// This file is ngx_http_charset_filter_module's recoding: the tables the
// charset_map blocks build, and the body filter that sends a response
// written in source_charset in the charset of the charset directive.

// Recode is one direction of a charset_map (ngx_http_charset_tables_t
// src2dst or dst2src): a single-byte table, or a table to UTF-8, or one
// from UTF-8. It is immutable.
type Recode struct {
	single *[256]byte
	// toUTF8 holds each byte's UTF-8 sequence.
	toUTF8 *[256][]byte
	// fromUTF8 maps a code point below 0x10000 to its byte (0: none,
	// sent as "&#N;"), by its high byte, then its low one.
	fromUTF8 *[256]*[256]byte
}

// ChangesLength reports whether recoding may change the body's length
// (to or from UTF-8): nginx then drops Content-Length, and with it byte
// ranges.
func (r *Recode) ChangesLength() bool { return r.single == nil }

// CharsetTables are the recodings the charset_map blocks of an http
// context define, both directions of each: nginx makes the reverse of
// every map itself.
type CharsetTables struct {
	m map[[2]string]*Recode // by lower-case source, destination
}

// NewCharsetTables builds the tables of maps (already checked by the
// configuration: hex codes, no duplicates).
func NewCharsetTables(maps []*config.CharsetMap) *CharsetTables {
	t := &CharsetTables{m: map[[2]string]*Recode{}}
	for _, cm := range maps {
		src, dst := strings.ToLower(cm.Src), strings.ToLower(cm.Dst)
		if dst == "utf-8" {
			// ngx_http_charset_map_block: ASCII maps to itself, other
			// bytes to "?" unless listed; the reverse knows only what
			// is listed, and ASCII.
			to := new([256][]byte)
			from := new([256]*[256]byte)
			from[0] = new([256]byte)
			for i := 0; i < 256; i++ {
				if i < 128 {
					to[i] = []byte{byte(i)}
					from[0][i] = byte(i)
				} else {
					to[i] = []byte{'?'}
				}
			}
			for _, e := range cm.Entries {
				to[e.Src] = e.Dst
				n, _, _ := decodeUTF8(e.Dst)
				if from[n>>8] == nil {
					from[n>>8] = new([256]byte)
				}
				from[n>>8][n&0xff] = e.Src
			}
			t.m[[2]string{src, dst}] = &Recode{toUTF8: to}
			t.m[[2]string{dst, src}] = &Recode{fromUTF8: from}
			continue
		}
		fwd, rev := new([256]byte), new([256]byte)
		for i := 0; i < 256; i++ {
			if i < 128 {
				fwd[i], rev[i] = byte(i), byte(i)
			} else {
				fwd[i], rev[i] = '?', '?'
			}
		}
		for _, e := range cm.Entries {
			fwd[e.Src] = e.Dst[0]
			rev[e.Dst[0]] = e.Src
		}
		t.m[[2]string{src, dst}] = &Recode{single: fwd}
		t.m[[2]string{dst, src}] = &Recode{single: rev}
	}
	return t
}

// Len is how many recodings the tables hold (two per charset_map).
func (t *CharsetTables) Len() int {
	if t == nil {
		return 0
	}
	return len(t.m)
}

// Knows reports whether a charset_map names the charset name (either
// side; without case).
func (t *CharsetTables) Knows(name string) bool {
	if t == nil {
		return false
	}
	name = strings.ToLower(name)
	for k := range t.m {
		if k[0] == name {
			return true
		}
	}
	return false
}

// Find returns the recoding from src to dst (names compared without
// case, as nginx's charsets are), false when no charset_map joins them.
func (t *CharsetTables) Find(src, dst string) (*Recode, bool) {
	if t == nil {
		return nil, false
	}
	r, ok := t.m[[2]string{strings.ToLower(src), strings.ToLower(dst)}]
	return r, ok
}

// invalidUTF8 and incompleteUTF8 are ngx_utf8_decode's 0xffffffff and
// 0xfffffffe.
const (
	invalidUTF8    = 0xffffffff
	incompleteUTF8 = 0xfffffffe
)

// decodeUTF8 is ngx_utf8_decode: the code point that p starts with and
// how many bytes it took; incompleteUTF8 (nothing taken) when p ends
// inside the sequence; invalidUTF8 for a bad or overlong one.
func decodeUTF8(p []byte) (n uint32, size int, _ bool) {
	u := uint32(p[0])
	var valid uint32
	var l int
	switch {
	case u >= 0xf0:
		u, valid, l = u&0x07, 0xffff, 3
	case u >= 0xe0:
		u, valid, l = u&0x0f, 0x7ff, 2
	case u >= 0xc2:
		u, valid, l = u&0x1f, 0x7f, 1
	default:
		return invalidUTF8, 1, true
	}
	if len(p)-1 < l {
		return incompleteUTF8, 0, false
	}
	size = 1
	for ; l > 0; l-- {
		i := uint32(p[size])
		size++
		if i < 0x80 {
			return invalidUTF8, size, true
		}
		u = u<<6 | i&0x3f
	}
	if u > valid {
		return u, size, true
	}
	return invalidUTF8, size, true
}

// Recoder is the charset filter's state for one response: the recoding,
// and, from UTF-8, the bytes of a sequence that a write cut. The static
// file handler and the body filter chain (internal/bodyfilter) recode
// with it.
type Recoder struct {
	r     *Recode
	saved []byte
}

// Reset makes rc recode a new response with r, keeping its buffer.
func (rc *Recoder) Reset(r *Recode) { rc.r, rc.saved = r, rc.saved[:0] }

// AppendRecoded appends src recoded to dst. last says src ends the body:
// a sequence still incomplete then is a "?".
func (rc *Recoder) AppendRecoded(dst, src []byte, last bool) []byte {
	r := rc.r
	switch {
	case r.single != nil:
		for _, c := range src {
			dst = append(dst, r.single[c])
		}
		return dst
	case r.toUTF8 != nil:
		for _, c := range src {
			dst = append(dst, r.toUTF8[c]...)
		}
		return dst
	}
	if len(rc.saved) > 0 {
		src = append(rc.saved, src...)
		rc.saved = rc.saved[:0:0]
	}
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		n, size, ok := decodeUTF8(src[i:])
		if !ok {
			if last {
				return append(dst, '?')
			}
			rc.saved = append(rc.saved[:0], src[i:]...)
			return dst
		}
		i += size
		switch {
		case n < 0x10000:
			if t := r.fromUTF8[n>>8]; t != nil && t[n&0xff] != 0 {
				dst = append(dst, t[n&0xff])
				continue
			}
			dst = append(dst, "&#"...)
			dst = strconv.AppendUint(dst, uint64(n), 10)
			dst = append(dst, ';')
		case n > 0x10ffff:
			dst = append(dst, '?')
		default:
			dst = append(dst, "&#"...)
			dst = strconv.AppendUint(dst, uint64(n), 10)
			dst = append(dst, ';')
		}
	}
	return dst
}
