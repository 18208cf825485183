package config

import (
	"strconv"
	"strings"
)

// The charset family's recoding directives (ngx_http_charset_filter_module):
// charset_map, source_charset and override_charset. charset and
// charset_types, which only label responses, live with the files family.

// CharsetMap is a charset_map block: the bytes of Src and what each is in
// Dst, one byte, or a UTF-8 sequence when Dst is "utf-8". nginx makes the
// reverse map itself.
type CharsetMap struct {
	Pos      Pos
	Src, Dst string
	Entries  []CharsetMapEntry
}

// CharsetMapEntry is one line of a charset_map block.
type CharsetMapEntry struct {
	Src byte
	Dst []byte
}

func charsetDirectives() map[string]*directive {
	t := map[string]*directive{}
	t["charset_map"] = &directive{ctx: ctxHTTP, min: 2, max: 2, block: true, set: setCharsetMap}
	t["source_charset"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: func(c *checker, f *frame, d *Directive, _ bool) {
		v := d.Args[0].Text
		if strings.Contains(v, "$") {
			c.errorf(d.Args[0].Pos, "variables in \"source_charset\" are not supported by wsgate")
			return
		}
		if v == "off" {
			v = ""
		}
		pos := d.Pos
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.SourceCharset, l.Files.SourceCharsetPos = v, pos })
	}}
	t["override_charset"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: func(c *checker, f *frame, d *Directive, _ bool) {
		if v, ok := flagArg(c, d); ok {
			pos := d.Pos
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.OverrideCharset, l.Files.OverrideCharsetPos = v, pos })
		}
	}}
	return t
}

// setCharsetMap is ngx_http_charset_map_block and ngx_http_charset_map:
// "charset_map SRC DST { XX YY; ... }" with hexadecimal codes, YY being a
// UTF-8 sequence (of a code point below 0x10000) when DST is utf-8.
func setCharsetMap(c *checker, f *frame, d *Directive, _ bool) {
	src, dst := d.Args[0].Text, d.Args[1].Text
	if strings.EqualFold(src, dst) {
		c.errorf(d.Pos, "\"charset_map\" between the same charsets %q and %q", src, dst)
		return
	}
	for _, m := range c.http.h.CharsetMaps {
		if strings.EqualFold(m.Src, src) && strings.EqualFold(m.Dst, dst) ||
			strings.EqualFold(m.Src, dst) && strings.EqualFold(m.Dst, src) {
			c.errorf(d.Pos, "duplicate \"charset_map\" between %q and %q", src, dst)
			return
		}
	}
	utf8 := strings.EqualFold(dst, "utf-8")
	m := &CharsetMap{Pos: d.Pos, Src: src, Dst: dst}
	ok := true
	for _, e := range d.Block {
		if len(e.Block) > 0 || e.HasBlock || len(e.Args) != 1 {
			c.errorf(e.Pos, "invalid parameters number")
			ok = false
			continue
		}
		s, err := strconv.ParseUint(e.Name, 16, 8)
		if err != nil {
			c.errorf(e.Pos, "invalid value %q", e.Name)
			ok = false
			continue
		}
		v := e.Args[0].Text
		if !utf8 {
			b, err := strconv.ParseUint(v, 16, 8)
			if err != nil {
				c.errorf(e.Args[0].Pos, "invalid value %q", v)
				ok = false
				continue
			}
			m.Entries = append(m.Entries, CharsetMapEntry{Src: byte(s), Dst: []byte{byte(b)}})
			continue
		}
		seq, good := utf8Entry(v)
		if !good {
			c.errorf(e.Args[0].Pos, "invalid value %q", v)
			ok = false
			continue
		}
		m.Entries = append(m.Entries, CharsetMapEntry{Src: byte(s), Dst: seq})
	}
	if ok {
		c.http.h.CharsetMaps = append(c.http.h.CharsetMaps, m)
	}
}

// utf8Entry reads the hexadecimal bytes of a UTF-8 sequence of one to
// three bytes whose code point nginx can map back (below 0x10000).
func utf8Entry(v string) ([]byte, bool) {
	if len(v) == 0 || len(v)%2 != 0 || len(v) > 6 {
		return nil, false
	}
	seq := make([]byte, 0, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		b, err := strconv.ParseUint(v[i:i+2], 16, 8)
		if err != nil {
			return nil, false
		}
		seq = append(seq, byte(b))
	}
	// ngx_utf8_decode on the sequence: a lead byte and its continuation
	// bytes, not overlong.
	u := uint32(seq[0])
	var l int
	var valid uint32
	switch {
	case u >= 0xf0:
		return nil, false // above 0xffff
	case u >= 0xe0:
		u, valid, l = u&0x0f, 0x7ff, 2
	case u >= 0xc2:
		u, valid, l = u&0x1f, 0x7f, 1
	case u < 0x80 && len(seq) == 1:
		return seq, true
	default:
		return nil, false
	}
	if len(seq) != l+1 {
		return nil, false
	}
	for _, b := range seq[1:] {
		if b < 0x80 || b > 0xbf {
			return nil, false
		}
		u = u<<6 | uint32(b&0x3f)
	}
	return seq, u > valid
}
