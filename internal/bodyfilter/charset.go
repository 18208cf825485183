package bodyfilter

import (
	"io"
	"log/slog"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/files"
)

// This file is ngx_http_charset_filter_module's header and body filters
// for the responses of a location that recodes (source_charset other than
// charset, or override_charset on, with the charset_map blocks that join
// them): proxied responses, return's text, error pages. It labels the
// Content-Type with the charset the body is sent in and recodes the body
// on its way, as ngx_http_charset_header_filter decides:
//
//   - no Content-Type, or charset off: nothing;
//   - the destination is the charset directive's, taken only when the
//     response names no charset and its type is in charset_types, or
//     when it names one and override_charset is on;
//   - the source is the charset the response names, else
//     source_charset; without either the response is labeled with the
//     destination and sent as it is;
//   - the same charset (names compared without case): labeled, sent as
//     it is; a body with a Content-Encoding: left alone; no charset_map
//     between them: nginx's error log line, left alone; else labeled
//     and recoded.
//
// A 301 or 302 is never labeled (ngx_http_set_charset). Static files are
// recoded by the file handler (internal/files), which labels them
// itself; their labeled responses pass here unchanged.
//
// Where this stage is compiled the proxy's response plan and return do
// not label: the stage does (Filter.LabelsCharset). Recoding to or from
// UTF-8 changes the length, and the body goes out chunked; single-byte
// recoding does not, and the response keeps its Content-Length, as
// ngx_http_charset_header_filter clears it only for a recoding from or to
// UTF-8 (KeepsLength).

// charsetFilter is a location's compiled charset recoding.
type charsetFilter struct {
	dst      string // the charset directive
	src      string // source_charset; "" off
	override bool
	// xaOnly: the location recodes only for a proxied response's
	// X-Accel-Charset (vars.Ctx.OverrideCharset); otherwise the
	// response plan labels its responses.
	xaOnly bool
	types  map[string]bool // charset_types, lower-case; "*" any
	tables *files.CharsetTables
	log    *slog.Logger
}

// compileCharset returns the location's charset stage, nil when it
// recodes nothing that another content handler than the file handler
// sends.
//
// xaccel says the location proxies and heeds X-Accel-Charset: with
// charset_map tables, it gets a stage for that header alone when it has
// none otherwise.
func compileCharset(f *config.FilesConf, tables *files.CharsetTables, xaccel bool, log *slog.Logger) *charsetFilter {
	if tables.Len() == 0 {
		return nil
	}
	recodes := f.Charset != "" && f.SourceCharset != "" && !strings.EqualFold(f.SourceCharset, f.Charset)
	xaOnly := false
	if f.Charset == "" || !recodes && !f.OverrideCharset || files.IsVariableCharset(f.Charset) {
		if !xaccel {
			return nil
		}
		xaOnly = true
	}
	cf := &charsetFilter{dst: f.Charset, src: f.SourceCharset, override: f.OverrideCharset, xaOnly: xaOnly,
		types: make(map[string]bool, len(f.CharsetTypes)), tables: tables, log: log}
	for _, t := range f.CharsetTypes {
		cf.types[strings.ToLower(t)] = true
	}
	return cf
}

// known is ngx_http_get_charset's question: is name a charset the
// configuration names (the location's two, or one a charset_map joins)?
func (cf *charsetFilter) known(name string) bool {
	return strings.EqualFold(name, cf.dst) || cf.src != "" && strings.EqualFold(name, cf.src) || cf.tables.Knows(name)
}

// splitCharset is ngx_http_upstream_copy_content_type: the type part of
// a Content-Type value (up to the ";" before a "charset=" parameter)
// and the charset it names, quotes removed; charset is nil without one.
func splitCharset(v []byte) (typ, charset []byte) {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		last := i
		j := i + 1
		for j < len(v) && v[j] == ' ' {
			j++
		}
		if j == len(v) {
			return v, nil
		}
		if len(v)-j < 8 || !asciiEqualFold(v[j:j+8], "charset=") {
			continue
		}
		c := v[j+8:]
		if len(c) > 0 && c[0] == '"' {
			c = c[1:]
		}
		if len(c) > 0 && c[len(c)-1] == '"' {
			c = c[:len(c)-1]
		}
		return v[:last], c
	}
	return v, nil
}

// charsetStage is one response's recoding.
type charsetStage struct {
	rc     files.Recoder
	out    []byte
	single bool // one byte out for each byte in
}

// KeepsLength is exchange.LengthKeeper: a single-byte recoding.
func (s *charsetStage) KeepsLength() bool { return s.single }

// start is the header filter. It edits the Content-Type line of
// buf[start:] and returns the stage, nil when the body goes unchanged.
//
// override is the response's X-Accel-Charset (vars.Ctx.OverrideCharset),
// which, when it names a known charset, is the destination whatever the
// location's charset says (ngx_http_destination_charset).
func (s *charsetStage) start(cf *charsetFilter, buf []byte, start, status int, contentLength int64, override string) ([]byte, *charsetStage) {
	if cf.xaOnly && override == "" {
		return buf, nil
	}
	from, to, vf, vt, ok := lineAt(buf, start, "Content-Type")
	if !ok || vf == vt {
		return buf, nil
	}
	v := buf[vf:vt]
	typ, own := splitCharset(v)
	if own != nil && len(own) == 0 {
		own = nil
	}
	dst := cf.dst
	// ngx_http_destination_charset
	switch {
	case override != "":
		if !cf.known(override) {
			if cf.log != nil {
				cf.log.Error("unknown charset \"" + override + "\" to override")
			}
			return buf, nil
		}
		dst = override
	case own != nil:
		if !cf.override {
			return buf, nil
		}
	case !cf.types["*"] && !cf.types[strings.ToLower(string(v))]:
		return buf, nil
	}
	// ngx_http_source_charset
	src := cf.src
	if own != nil {
		src = string(own)
	}
	// A cached response cut into ranges (the proxy's range filter, which
	// in nginx runs after this one) comes as multipart/byteranges with
	// the charset of its parts as a parameter: the parts name the
	// destination already, the response's own type takes none.
	multipart := len(typ) >= 20 && asciiEqualFold(typ[:20], "multipart/byteranges")
	label := func() []byte {
		var line []byte
		line = append(line, "Content-Type: "...)
		line = append(line, typ...)
		if status != 301 && status != 302 && !multipart {
			line = append(line, "; charset="...)
			line = append(line, dst...)
		}
		line = append(line, "\r\n"...)
		return append(buf[:from], append(line, buf[to:]...)...)
	}
	if src == "" {
		// source_charset off: ngx_http_set_charset only.
		return label(), nil
	}
	if strings.EqualFold(src, dst) {
		return label(), nil
	}
	if !cf.known(src) {
		cf.noMap(src, dst)
		return buf, nil
	}
	if ce := headerValue(buf, start, "Content-Encoding"); len(ce) > 0 {
		return buf, nil
	}
	r, found := cf.tables.Find(src, dst)
	if !found {
		cf.noMap(src, dst)
		return buf, nil
	}
	buf = label()
	if contentLength == 0 {
		return buf, nil
	}
	s.rc.Reset(r)
	s.single = !r.ChangesLength()
	return buf, s
}

func (cf *charsetFilter) noMap(src, dst string) {
	if cf.log != nil {
		cf.log.Error("no \"charset_map\" between the charsets \"" + src + "\" and \"" + dst + "\"")
	}
}

// Write recodes p.
func (s *charsetStage) Write(next io.Writer, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	s.out = s.rc.AppendRecoded(s.out[:0], p, false)
	if len(s.out) == 0 {
		return nil
	}
	_, err := next.Write(s.out)
	return err
}

// End sends what a cut UTF-8 sequence left ("?").
func (s *charsetStage) End(next io.Writer) error {
	s.out = s.rc.AppendRecoded(s.out[:0], nil, true)
	if len(s.out) == 0 {
		return nil
	}
	_, err := next.Write(s.out)
	return err
}
