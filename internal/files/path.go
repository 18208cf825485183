package files

import (
	"bytes"
	"errors"
	"path/filepath"
)

// appendRoot appends the evaluated root or alias, made absolute against
// the prefix as ngx_get_full_name does for a value with variables (a
// literal value is made absolute the same way, once, in New's rootBase
// logic, here per request only when the value held variables).
func (s *state) appendRoot(dst []byte) []byte {
	start := len(dst)
	dst = s.h.root.Append(dst, s.vc)
	if len(dst) == start || dst[start] != '/' {
		rel := string(dst[start:])
		dst = append(dst[:start], s.h.prefix...)
		if len(dst) > start && dst[len(dst)-1] != '/' {
			dst = append(dst, '/')
		}
		dst = append(dst, rel...)
	}
	return dst
}

// appendPath appends the file path of the current URI
// (ngx_http_map_uri_to_path): root + $uri; a prefix location's alias
// replaces the location's name; a regex location's alias is the whole
// path, followed by $uri only after try_files picked a file. ok is false
// when the URI is shorter than the alias's location name (a URI changed
// under an alias, which nginx refuses too).
func (s *state) appendPath(dst []byte) ([]byte, bool) {
	h := s.h
	dst = s.appendRoot(dst)
	switch {
	case h.regex:
		if s.addURIToAlias {
			dst = append(dst, s.uri...)
		}
	case h.alias:
		if len(s.uri) < h.aliasLen {
			return dst, false
		}
		dst = append(dst, s.uri[h.aliasLen:]...)
	default:
		dst = append(dst, s.uri...)
	}
	return dst, true
}

// safePath turns a built path into the name to open: it refuses a NUL
// byte and any path that, with "." and ".." resolved, leaves base (the
// root or alias directory). A trailing "/" is kept, as it makes open(2)
// insist on a directory. The name comes back in p's buffer (or a new one
// when it had to be cleaned), followed by a NUL byte for open(2).
func safePath(p []byte, base string) ([]byte, bool) {
	if len(p) == 0 || p[0] != '/' || bytes.IndexByte(p, 0) >= 0 {
		return nil, false
	}
	if needsClean(p) {
		slash := p[len(p)-1] == '/'
		clean := filepath.Clean(string(p))
		p = append(p[:0], clean...)
		if slash && clean != "/" {
			p = append(p, '/')
		}
	}
	if !within(p, base) {
		return nil, false
	}
	return append(p, 0), true
}

// within reports whether the clean path name is base or lies below it.
func within(name []byte, base string) bool {
	if base == "/" {
		return true
	}
	if len(name) < len(base) || string(name[:len(base)]) != base {
		return false
	}
	return len(name) == len(base) || name[len(base)] == '/'
}

// needsClean reports whether p holds "//", "/./" or "/../" (or ends in
// "/." or "/.."). Most names hold neither "//" nor "/.": two vector
// scans answer for them; a name with "/." (a dot file) is looked at
// segment by segment.
func needsClean(p []byte) bool {
	if bytes.Contains(p, slashSlash) {
		return true
	}
	for {
		i := bytes.Index(p, slashDot)
		if i < 0 {
			return false
		}
		rest := p[i+2:] // after "/."
		if len(rest) == 0 || rest[0] == '/' {
			return true // "/." or "/./"
		}
		if rest[0] == '.' && (len(rest) == 1 || rest[1] == '/') {
			return true // "/.." or "/../"
		}
		p = rest
	}
}

var (
	slashSlash = []byte("//")
	slashDot   = []byte("/.")
)

// errShrunk is a file that ended before the length fstat gave.
var errShrunk = errors.New("file shrank while it was read")

// display is a NUL-terminated name as text for logs.
func display(name []byte) string {
	if n := len(name); n > 0 && name[n-1] == 0 {
		name = name[:n-1]
	}
	return string(name)
}

// exten is nginx's r->exten for uri (ngx_http_set_exten): the text after
// the last "." of the last segment, unless that "." starts the segment;
// the first two bytes are never looked at.
func exten(uri string) string {
	for i := len(uri) - 1; i > 1; i-- {
		if uri[i] == '.' && uri[i-1] != '/' {
			return uri[i+1:]
		}
		if uri[i] == '/' {
			return ""
		}
	}
	return ""
}
