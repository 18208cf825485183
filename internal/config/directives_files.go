package config

import (
	"strconv"
	"strings"
	"time"
)

// The files family: what nginx's core, index, autoindex, charset and
// headers (expires) modules set for serving static files, read into
// LocConf.Files and served by internal/files, with the core module's
// redirect settings, which every redirect wsgate makes follows.

// FilesConf is a level's static file settings with nginx's inheritance
// applied (ngx_http_core_merge_loc_conf and the modules' merges).
type FilesConf struct {
	// Root is the root or alias value as written, "html" by default (a
	// relative value is taken from the prefix); root loses a trailing "/".
	Root string
	// Alias is set when Root came from alias. AliasLocation is the name
	// of the location alias was written in (the prefix it replaces; nested
	// locations inherit it with the alias), AliasRegex tells a regex
	// location, whose alias replaces the whole path.
	Alias         bool
	AliasLocation string
	AliasRegex    bool
	RootPos       Pos

	Index []string // default index.html; a level's own list replaces the inherited one

	// TryFiles is this level's own try_files (never inherited).
	TryFiles    []string
	TryFilesPos Pos

	Autoindex          bool
	AutoindexFormat    string // html (default), json, jsonp or xml
	AutoindexExactSize bool   // default on
	AutoindexLocaltime bool

	// Types maps lower-case extensions to MIME types; nil means nginx's
	// built-in table (html, gif, jpg). A level's types block replaces the
	// inherited table.
	Types       map[string]string
	DefaultType string // default text/plain

	Charset      string // "" for off, the default
	CharsetTypes []string
	CharsetPos   Pos
	// SourceCharset is source_charset ("" for off, the default): the
	// charset responses are written in, recoded into Charset through a
	// charset_map. OverrideCharset is override_charset (default off).
	SourceCharset      string
	SourceCharsetPos   Pos
	OverrideCharset    bool
	OverrideCharsetPos Pos

	Expires    Expires
	ExpiresPos Pos

	ETag            bool   // default on
	IfModifiedSince string // off, exact (default), before
	MaxRanges       int    // -1 (default): no limit
	LogNotFound     bool   // default on
}

// ExpiresMode is how an expires time is counted.
type ExpiresMode uint8

const (
	ExpiresOff      ExpiresMode = iota
	ExpiresEpoch                // expires epoch
	ExpiresMax                  // expires max
	ExpiresAccess               // expires [+|-]TIME: from the request's time
	ExpiresModified             // expires modified [+|-]TIME: from the file's mtime
	ExpiresDaily                // expires @TIME: the next such time of day
)

// Expires is the expires directive: Mode and, for access, modified and
// daily, the offset (may be negative) or the time of day.
type Expires struct {
	Mode ExpiresMode
	Time time.Duration
	// Value is the value when it holds variables (nginx 1.7.9+): it is
	// evaluated and read per request (EvalExpires), Mode being then
	// ExpiresAccess, or ExpiresModified after "modified".
	Value string
}

func defaultFilesConf() FilesConf {
	return FilesConf{
		Root:               "html",
		Index:              []string{"index.html"},
		AutoindexFormat:    "html",
		AutoindexExactSize: true,
		DefaultType:        "text/plain",
		CharsetTypes:       []string{"text/html", "text/xml", "text/plain", "text/vnd.wap.wml", "application/javascript", "application/rss+xml"},
		ETag:               true,
		IfModifiedSince:    "exact",
		MaxRanges:          -1,
		LogNotFound:        true,
	}
}

// filesDirectives is the family's table.
func filesDirectives() map[string]*directive {
	t := map[string]*directive{}
	onFiles := func(parse func(c *checker, d *Directive) (func(*FilesConf), bool)) setFunc {
		return func(c *checker, f *frame, d *Directive, _ bool) {
			if apply, ok := parse(c, d); ok {
				f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { apply(&l.Files) })
			}
		}
	}
	flag := func(field func(*FilesConf) *bool) setFunc {
		return onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
			v, ok := flagArg(c, d)
			return func(fc *FilesConf) { *field(fc) = v }, ok
		})
	}
	enum := func(field func(*FilesConf) *string, values ...string) setFunc {
		return onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
			v, ok := enumArg(values...)(c, d)
			return func(fc *FilesConf) { *field(fc) = v }, ok
		})
	}
	t["root"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, set: setRoot}
	t["alias"] = &directive{ctx: ctxLocation, min: 1, max: 1, set: setRoot}
	t["index"] = &directive{ctx: ctxHTTPAll, min: 1, max: unbounded, set: setIndex}
	t["try_files"] = &directive{ctx: ctxServer | ctxLocation, min: 2, max: unbounded, once: true, set: setTryFiles}
	t["autoindex"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(fc *FilesConf) *bool { return &fc.Autoindex })}
	t["autoindex_exact_size"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(fc *FilesConf) *bool { return &fc.AutoindexExactSize })}
	t["autoindex_localtime"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(fc *FilesConf) *bool { return &fc.AutoindexLocaltime })}
	t["autoindex_format"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
		v := d.Args[0].Text
		switch v {
		case "html", "json", "jsonp", "xml":
		default:
			c.errorf(d.Args[0].Pos, "invalid value %q", v)
			return nil, false
		}
		return func(fc *FilesConf) { fc.AutoindexFormat = v }, true
	})}
	t["types"] = &directive{ctx: ctxHTTPAll, block: true, set: setTypes}
	t["default_type"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
		v := d.Args[0].Text
		return func(fc *FilesConf) { fc.DefaultType = v }, true
	})}
	t["charset"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: setCharset}
	t["charset_types"] = &directive{ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
		var ts []string
		for _, a := range d.Args {
			ts = append(ts, strings.ToLower(a.Text))
		}
		return func(fc *FilesConf) { fc.CharsetTypes = ts }, true
	})}
	t["expires"] = &directive{ctx: ctxHTTPAll | ctxLocIf, min: 1, max: 2, once: true, set: setExpires}
	t["etag"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(fc *FilesConf) *bool { return &fc.ETag })}
	t["if_modified_since"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true,
		set: enum(func(fc *FilesConf) *string { return &fc.IfModifiedSince }, "off", "exact", "before")}
	t["max_ranges"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onFiles(func(c *checker, d *Directive) (func(*FilesConf), bool) {
		n, ok := numArg(c, d)
		return func(fc *FilesConf) { fc.MaxRanges = n }, ok
	})}
	t["log_not_found"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(fc *FilesConf) *bool { return &fc.LogNotFound })}
	// ngx_http_core_module's redirect settings (LocConf, not Files: every
	// redirect wsgate makes follows them).
	redirectFlag := func(field func(*LocConf) *bool) setFunc {
		return func(c *checker, f *frame, d *Directive, _ bool) {
			if v, ok := flagArg(c, d); ok {
				f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { *field(l) = v })
			}
		}
	}
	t["absolute_redirect"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: redirectFlag(func(l *LocConf) *bool { return &l.AbsoluteRedirect })}
	t["port_in_redirect"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: redirectFlag(func(l *LocConf) *bool { return &l.PortInRedirect })}
	t["server_name_in_redirect"] = &directive{ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: redirectFlag(func(l *LocConf) *bool { return &l.ServerNameInRedirect })}
	t["disable_symlinks"] = &directive{ctx: ctxHTTPAll, min: 1, max: 2, once: true, set: func(c *checker, f *frame, d *Directive, _ bool) {
		if d.Args[0].Text != "off" || len(d.Args) > 1 {
			c.errorf(d.Args[0].Pos, "\"disable_symlinks %s\" is not supported by wsgate: it follows symbolic links as nginx does by default (disable_symlinks off)", d.Args[0].Text)
		}
	}}
	return t
}

// setRoot is ngx_http_core_root, for root and alias: one of the two per
// level, never $document_root or $realpath_root inside, a trailing "/"
// dropped from root.
func setRoot(c *checker, f *frame, d *Directive, _ bool) {
	alias := d.Name == "alias"
	if f.lvl.rootSet != "" {
		if f.lvl.rootSet == d.Name {
			c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		} else {
			c.errorf(d.Pos, "%q directive is duplicate, %q directive was specified earlier", d.Name, f.lvl.rootSet)
		}
		return
	}
	f.lvl.rootSet = d.Name
	v := d.Args[0].Text
	for _, bad := range []string{"document_root", "realpath_root"} {
		if strings.Contains(v, "$"+bad) || strings.Contains(v, "${"+bad+"}") {
			c.errorf(d.Args[0].Pos, "the $%s variable cannot be used in the %q directive", bad, d.Name)
			return
		}
	}
	if !alias && len(v) > 1 && strings.HasSuffix(v, "/") {
		v = v[:len(v)-1]
	}
	loc, regex := "", false
	if alias && f.loc != nil {
		if strings.HasPrefix(f.loc.l.Path, "@") {
			c.errorf(d.Pos, "the \"alias\" directive cannot be used inside the named location")
			return
		}
		loc = f.loc.l.Path
		regex = f.loc.l.Match == MatchRegex || f.loc.l.Match == MatchRegexNoCase
	}
	pos := d.Pos
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		l.Files.Root, l.Files.RootPos = v, pos
		l.Files.Alias, l.Files.AliasLocation, l.Files.AliasRegex = alias, loc, regex
	})
}

// setIndex is ngx_http_index_set_index: names, none empty; a level's
// index directives together replace the inherited list.
func setIndex(c *checker, f *frame, d *Directive, first bool) {
	var names []string
	for i, a := range d.Args {
		if a.Text == "" {
			c.errorf(a.Pos, "index \"\" in \"index\" directive is invalid")
			return
		}
		if strings.HasPrefix(a.Text, "/") && i != len(d.Args)-1 {
			c.notice(a.Pos, "only the last index in \"index\" directive should be absolute")
		}
		names = append(names, a.Text)
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.Files.Index = nil
		}
		l.Files.Index = append(l.Files.Index, names...)
	})
}

// setTryFiles is ngx_http_try_files: files (a trailing "/" for a
// directory), then "=CODE", "@name" or a URI.
func setTryFiles(c *checker, f *frame, d *Directive, _ bool) {
	var args []string
	for _, a := range d.Args {
		args = append(args, a.Text)
	}
	last := d.Args[len(d.Args)-1]
	if strings.HasPrefix(last.Text, "=") {
		n, err := strconv.Atoi(last.Text[1:])
		if err != nil || n < 0 || n > 999 {
			c.errorf(last.Pos, "invalid code %q", last.Text)
			return
		}
	}
	pos := d.Pos
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.TryFiles, l.Files.TryFilesPos = args, pos })
}

// setTypes is ngx_http_core_types: "type ext ...;" lines (an include in
// the block is expanded by the parser); a later extension replaces an
// earlier one, with nginx's warning as a notice.
func setTypes(c *checker, f *frame, d *Directive, _ bool) {
	types := map[string]string{}
	for _, e := range d.Block {
		if len(e.Block) > 0 || e.HasBlock {
			c.errorf(e.Pos, "unexpected \"{\"")
			continue
		}
		for _, a := range e.Args {
			ext := strings.ToLower(a.Text)
			if old, ok := types[ext]; ok {
				c.notice(a.Pos, "duplicate extension %q, content type: %q, previous content type: %q", ext, e.Name, old)
			}
			types[ext] = e.Name
		}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.Types = types })
}

// isVarName reports whether s is a variable name (letters, digits, "_").
func isVarName(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return s != ""
}

// setCharset is the charset directive: "off" or a name, which labels
// responses and, with source_charset, is what they are recoded into.
func setCharset(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[0].Text
	// ngx_http_charset_set_slot: "$name" is a variable, whose value is
	// each request's charset; any other value is a charset name.
	if strings.HasPrefix(v, "$") && !isVarName(v[1:]) {
		c.errorf(d.Args[0].Pos, "\"charset\" takes one variable, as \"$name\", in %q", v)
		return
	}
	if v == "off" {
		v = ""
	}
	pos := d.Pos
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.Charset, l.Files.CharsetPos = v, pos })
}

// setExpires is ngx_http_headers_expires with ngx_http_parse_expires.
func setExpires(c *checker, f *frame, d *Directive, _ bool) {
	args := make([]string, len(d.Args))
	for i, a := range d.Args {
		args[i] = a.Text
	}
	e, msg := ParseExpires(args)
	if msg != "" {
		// nginx words a handler's error as "\"NAME\" directive MSG".
		c.errorf(d.Args[len(d.Args)-1].Pos, "%q directive %s", d.Name, msg)
		return
	}
	pos := d.Pos
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Files.Expires, l.Files.ExpiresPos = e, pos })
}

// ParseExpires reads the arguments of expires: "off", "epoch", "max",
// "@TIME" (time of day, below 24h), "[modified] [+|-]TIME" (seconds by
// default). msg is nginx's error text, "" when the value is valid.
func ParseExpires(args []string) (e Expires, msg string) {
	v := args[0]
	e.Mode = ExpiresAccess
	if len(args) == 2 {
		if args[0] != "modified" {
			return e, "invalid value"
		}
		e.Mode, v = ExpiresModified, args[1]
	}
	if strings.Contains(v, "$") {
		e.Value = v
		return e, ""
	}
	return parseExpiresValue(e.Mode, v)
}

// EvalExpires reads the evaluated value of an expires directive with
// variables, as ngx_http_set_expires does for each response: false when
// it is "off" or invalid (then no header is set, and nothing is logged).
func EvalExpires(base Expires, value string) (Expires, bool) {
	e, msg := parseExpiresValue(base.Mode, value)
	return e, msg == "" && e.Mode != ExpiresOff
}

// parseExpiresValue is ngx_http_parse_expires for mode ExpiresAccess or
// ExpiresModified.
func parseExpiresValue(mode ExpiresMode, v string) (e Expires, msg string) {
	e.Mode = mode
	if e.Mode == ExpiresAccess {
		switch v {
		case "epoch":
			return Expires{Mode: ExpiresEpoch}, ""
		case "max":
			return Expires{Mode: ExpiresMax}, ""
		case "off":
			return Expires{Mode: ExpiresOff}, ""
		}
	}
	if strings.HasPrefix(v, "@") {
		if e.Mode == ExpiresModified {
			return e, "daily time cannot be used with \"modified\" parameter"
		}
		d, ok := ParseTime(v[1:], true)
		if !ok {
			return e, "invalid value"
		}
		if d > 24*time.Hour {
			return e, "daily time value must be less than 24 hours"
		}
		return Expires{Mode: ExpiresDaily, Time: d}, ""
	}
	neg := false
	switch {
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	case strings.HasPrefix(v, "-"):
		neg, v = true, v[1:]
	}
	d, ok := ParseTime(v, true)
	if !ok {
		return e, "invalid value"
	}
	if neg {
		d = -d
	}
	e.Time = d
	return e, ""
}
