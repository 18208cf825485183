package files

import (
	"strings"

	"wsgate/internal/vars"
)

// builtinTypes is nginx's table when no types block is in effect
// (ngx_http_core_default_types).
var builtinTypes = map[string]string{
	"html": "text/html",
	"gif":  "image/gif",
	"jpg":  "image/jpeg",
}

// ContentType is ngx_http_set_content_type for uri: the type of its
// extension (matched case-insensitively) in types, whose keys are
// lower-case as the types block makes them, nginx's built-in table when
// types is nil, else defaultType. Every response nginx builds with a
// body of its own (a file, return's text) is typed this way.
func ContentType(types map[string]string, defaultType, uri string) string {
	if types == nil {
		types = builtinTypes
	}
	ext := exten(uri)
	if ext == "" {
		return defaultType
	}
	if t, ok := types[ext]; ok {
		return t
	}
	if !hasUpper(ext) {
		// The keys are lower-case: a lower-case ext found nothing.
		return defaultType
	}
	if t, ok := types[strings.ToLower(ext)]; ok {
		return t
	}
	return defaultType
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// Charset is the charset directive without charset_map, as the charset
// filter applies it to every response of a location: a Content-Type whose
// type is in the charset_types list and that names no charset gets
// "; charset=NAME", except on 301 and 302 (ngx_http_set_charset). The
// zero value (charset off) adds nothing.
//
// A charset given as a variable ("charset $arg_c", nginx's
// NGX_HTTP_CHARSET_VAR) is taken per request: Resolve gives the Charset
// of one request, and For answers "" until it is resolved.
type Charset struct {
	name  string
	types map[string]bool
	// value is the variable of "charset $name", nil for a constant.
	value Template
}

// NewCharset compiles the charset and charset_types settings; name "" is off.
// name is taken literally: NewCharsetValue compiles "charset $name".
func NewCharset(name string, types []string) Charset {
	if name == "" {
		return Charset{}
	}
	c := Charset{name: name, types: make(map[string]bool, len(types))}
	for _, t := range types {
		c.types[strings.ToLower(t)] = true
	}
	return c
}

// NewCharsetValue is NewCharset with nginx's reading of the value
// (ngx_http_charset_set_slot): one starting with "$" names a variable,
// whose value is the charset of each request; any other is a name.
func NewCharsetValue(name string, types []string, compile CompileFunc) (Charset, error) {
	if !strings.HasPrefix(name, "$") {
		return NewCharset(name, types), nil
	}
	v, err := compile(name)
	if err != nil {
		return Charset{}, err
	}
	c := NewCharset(name, types)
	c.name, c.value = "", v
	return c, nil
}

// IsVariableCharset reports whether a charset directive's value names a
// variable.
func IsVariableCharset(name string) bool { return strings.HasPrefix(name, "$") }

// On reports whether a charset is set (for a variable, before Resolve:
// that one may be).
func (c Charset) On() bool { return c.name != "" || c.value != nil }

// Resolve returns the charset of the request vc describes: c itself for
// a constant, else the variable's value as a constant Charset (off when
// the value is empty or holds control bytes, which no header line may;
// nginx fails the request when the variable is not found, wsgate labels
// nothing).
func (c Charset) Resolve(vc *vars.Ctx) Charset {
	if c.value == nil {
		return c
	}
	v := c.value.Append(nil, vc)
	if len(v) == 0 {
		return Charset{}
	}
	for _, b := range v {
		if b < 0x20 || b == 0x7f {
			return Charset{}
		}
	}
	return Charset{name: string(v), types: c.types}
}

// For returns the charset a response with this status and Content-Type
// gets, "" for none. ctype is the whole header value: one that already
// names a charset, or has parameters, does not match a listed type
// (ngx_http_upstream_copy_content_type keeps the type's length only up to
// "charset=").
func (c Charset) For(status int, ctype string) string {
	if c.name == "" || status == 301 || status == 302 || ctype == "" {
		return ""
	}
	if i := indexFold(ctype, "charset="); i >= 0 {
		return ""
	}
	if c.types["*"] || c.types[strings.ToLower(ctype)] {
		return c.name
	}
	return ""
}

// Page returns the charset of a built-in page (text/html) with status.
func (c Charset) Page(status int) string { return c.For(status, "text/html") }

// indexFold is the index of the ASCII-case-insensitive sub in s, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
