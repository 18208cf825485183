package bodyfilter

import (
	"io"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/vars"
)

// This file is ngx_http_sub_filter_module: sub_filter replaces strings in
// the bodies of the responses whose type is in sub_filter_types (default
// text/html), whatever their Content-Encoding (nginx does not look at it:
// a compressed body keeps its bytes, as no search string is found in
// them; configurations ask the backend for identity with
// proxy_set_header Accept-Encoding "").
//
// Matching is nginx's: search strings compare without regard to ASCII
// case (they are lower-cased once, the body's bytes as they are read);
// the earliest position where one of them matches wins, and among those
// that match there the first in the configuration's order (nginx sorts
// them, stably, by their byte at the shortest one's last index, and only
// strings with the body's byte there can match). After a replacement the
// search goes on after the replaced bytes. With sub_filter_once on (the
// default) each string is replaced once, and the rest of the body passes
// through untouched once every string was; off replaces them all.
// Replacement values are evaluated at their first use in a response.
// A search string cut by the end of a write is kept (at most the longest
// string minus one byte) until the next write decides; when the body
// ends while one is pending, its bytes go out as they are, as nginx's
// looked buffer does, even where another string would have matched
// inside them.

// subFilter is a location's compiled sub_filter configuration.
type subFilter struct {
	pairs              []subPair
	dynamic            bool // some search string holds variables
	types              typeSet
	once, lastModified bool
	// tables of the constant search strings (dynamic false).
	tab subTables
}

type subPair struct {
	match    []byte // lower-case; nil when matchVar is set
	matchVar Value  // a search string with variables
	value    Value
}

// subTables are ngx_http_sub_tables_t: the shortest and longest search
// strings' lengths and the shift table of a Horspool search over the
// shortest length's window.
type subTables struct {
	min, max int
	shift    [256]uint8
}

func (t *subTables) init(pats []subPat) {
	t.min, t.max = len(pats[0].m), len(pats[0].m)
	for _, p := range pats[1:] {
		t.min, t.max = min(t.min, len(p.m)), max(t.max, len(p.m))
	}
	w := min(t.min, 255)
	for i := range t.shift {
		t.shift[i] = uint8(w)
	}
	for _, p := range pats {
		for j := 0; j < w; j++ {
			c := p.m[t.min-1-j]
			t.shift[c] = min(t.shift[c], uint8(j))
		}
	}
}

func compileSub(c *config.SubConf, compile CompileFunc) (*subFilter, error) {
	f := &subFilter{types: newTypeSet(c.Types, "text/html"), once: c.Once, lastModified: c.LastModified}
	for _, p := range c.Pairs {
		m, err := compile(p.Match)
		if err != nil {
			return nil, compileErr(p.Pos, "sub_filter", err)
		}
		v, err := compile(p.Value)
		if err != nil {
			return nil, compileErr(p.Pos, "sub_filter", err)
		}
		sp := subPair{value: v}
		if m.IsConst() {
			sp.match = lowerBytes(m.Append(nil, nil))
			if len(sp.match) == 0 {
				return nil, &config.Error{Pos: p.Pos, Msg: "empty search pattern"}
			}
		} else {
			sp.matchVar = m
			f.dynamic = true
		}
		f.pairs = append(f.pairs, sp)
	}
	if !f.dynamic {
		pats := make([]subPat, len(f.pairs))
		for i, p := range f.pairs {
			pats[i] = subPat{m: p.match, pair: i}
		}
		f.tab.init(pats)
	}
	return f, nil
}

func lowerBytes(b []byte) []byte {
	for i, c := range b {
		b[i] = lower(c)
	}
	return b
}

// subPat is one search string of a response.
type subPat struct {
	m    []byte // lower-case, not empty
	pair int    // index in subFilter.pairs
}

// subStage is one response going through sub_filter; a Bound keeps one
// and reuses its buffers.
type subStage struct {
	f    *subFilter
	vars *vars.Ctx
	pats []subPat
	tab  *subTables
	dtab subTables // the tables of search strings with variables
	mbuf []byte    // their evaluated bytes

	repl    [][]byte // per pattern: the replacement, once evaluated
	evald   []bool
	used    []bool
	applied int
	done    bool // sub_filter_once and every string replaced: pass through

	held []byte // a possible match cut by the end of the last write
	join []byte // held and the next write, joined
	out  []byte // a write's output when it has replacements
}

// start is ngx_http_sub_header_filter.
func (s *subStage) start(f *subFilter, vc *vars.Ctx, buf []byte, start int, contentLength int64) ([]byte, exchange.BodyStage) {
	if contentLength == 0 || !f.types.match(headerValue(buf, start, "Content-Type")) {
		return buf, nil
	}
	s.f, s.vars = f, vc
	s.pats = s.pats[:0]
	if !f.dynamic {
		for i, p := range f.pairs {
			s.pats = append(s.pats, subPat{m: p.match, pair: i})
		}
		s.tab = &f.tab
	} else {
		// Evaluated per response and lower-cased; an empty one drops
		// out, and none left means no filter at all.
		s.mbuf = s.mbuf[:0]
		type span struct{ from, to int }
		var spans [16]span
		sp := spans[:0]
		for _, p := range f.pairs {
			from := len(s.mbuf)
			if p.matchVar == nil {
				s.mbuf = append(s.mbuf, p.match...)
			} else {
				s.mbuf = p.matchVar.Append(s.mbuf, vc)
			}
			sp = append(sp, span{from, len(s.mbuf)})
		}
		lowerBytes(s.mbuf)
		for i, x := range sp {
			if x.to > x.from {
				s.pats = append(s.pats, subPat{m: s.mbuf[x.from:x.to:x.to], pair: i})
			}
		}
		if len(s.pats) == 0 {
			return buf, nil
		}
		s.dtab.init(s.pats)
		s.tab = &s.dtab
	}
	n := len(s.pats)
	s.repl = grow(s.repl, n)
	s.evald = growBools(s.evald, n)
	s.used = growBools(s.used, n)
	s.applied, s.done = 0, false
	s.held = s.held[:0]

	if f.lastModified {
		buf = weakenETag(buf, start)
	} else {
		buf = removeLines(buf, start, "Last-Modified")
		buf = removeLines(buf, start, "ETag")
	}
	return buf, s
}

func grow(b [][]byte, n int) [][]byte {
	if cap(b) < n {
		b = append(b[:cap(b)], make([][]byte, n-cap(b))...)
	}
	return b[:n]
}

func growBools(b []bool, n int) []bool {
	if cap(b) < n {
		b = make([]bool, n)
	}
	b = b[:n]
	clear(b)
	return b
}

// Write is ngx_http_sub_body_filter for one buffer.
func (s *subStage) Write(next io.Writer, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if s.done {
		_, err := next.Write(p)
		return err
	}
	data := p
	if len(s.held) > 0 {
		s.join = append(append(s.join[:0], s.held...), p...)
		data = s.join
	}
	hold, err := s.scan(next, data)
	s.held = append(s.held[:0], data[hold:]...)
	return err
}

// End sends what is held as it is.
func (s *subStage) End(next io.Writer) error {
	if len(s.held) == 0 {
		return nil
	}
	_, err := next.Write(s.held)
	s.held = s.held[:0]
	return err
}

// match results.
const (
	noMatch = iota
	partial
	full
)

// matchAt compares the lower-case pattern m with data from its start:
// full, partial (data ends before m does) or noMatch.
func matchAt(data, m []byte) int {
	n := min(len(data), len(m))
	for i := 0; i < n; i++ {
		if lower(data[i]) != m[i] {
			return noMatch
		}
	}
	if n < len(m) {
		return partial
	}
	return full
}

// scan searches data, sends it on with its replacements made, and
// returns the offset of the bytes it holds back (a match cut by the end
// of data).
func (s *subStage) scan(next io.Writer, data []byte) (hold int, err error) {
	t := s.tab
	mn := t.min
	out := s.out[:0]
	replaced := false
	from, i, n := 0, 0, len(data)
	hold = n
scan:
	for i < n && !s.done {
		if i+mn > n {
			// The shortest string's window passes the end: hold from i if
			// some string could start here.
			for _, p := range s.pats {
				if matchAt(data[i:], p.m) == partial {
					hold = i
					break scan
				}
			}
			i++
			continue
		}
		c := lower(data[i+mn-1])
		if sh := t.shift[c]; sh > 0 {
			i += int(sh)
			continue
		}
		k := -1
		for j := range s.pats {
			m := s.pats[j].m
			if m[mn-1] != c || s.f.once && s.used[j] {
				continue
			}
			switch matchAt(data[i:], m) {
			case partial:
				hold = i
				break scan
			case full:
				k = j
			}
			if k >= 0 {
				break
			}
		}
		if k < 0 {
			i++
			continue
		}
		out = append(out, data[from:i]...)
		out = append(out, s.replacement(k)...)
		replaced = true
		i += len(s.pats[k].m)
		from = i
		s.used[k] = true
		s.applied++
		s.done = s.f.once && s.applied == len(s.pats)
	}
	if s.done {
		hold = n
	}
	if !replaced {
		if hold > 0 {
			_, err = next.Write(data[:hold])
		}
		return hold, err
	}
	out = append(out, data[from:hold]...)
	s.out = out
	if len(out) > 0 {
		_, err = next.Write(out)
	}
	return hold, err
}

// replacement evaluates pattern k's replacement at its first use.
func (s *subStage) replacement(k int) []byte {
	if !s.evald[k] {
		s.evald[k] = true
		s.repl[k] = s.f.pairs[s.pats[k].pair].value.Append(s.repl[k][:0], s.vars)
	}
	return s.repl[k]
}
