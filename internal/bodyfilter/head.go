package bodyfilter

import "bytes"

// The helpers below read and edit a composed response head, buf[start:]:
// a status line, "Name: value\r\n" lines, an empty line. Names compare
// without regard to ASCII case.

// lineAt finds the first header line named name in buf[start:] and
// returns its offsets: the line [from, to) including its CRLF, and its
// value [vfrom, vto) with surrounding blanks trimmed; ok is false when
// there is none.
func lineAt(buf []byte, start int, name string) (from, to, vfrom, vto int, ok bool) {
	i := bytes.Index(buf[start:], crlf)
	if i < 0 {
		return 0, 0, 0, 0, false
	}
	i += start + 2
	for i < len(buf) {
		e := bytes.Index(buf[i:], crlf)
		if e <= 0 {
			// The empty line that ends the head (or a broken head).
			return 0, 0, 0, 0, false
		}
		line := buf[i : i+e]
		if len(line) > len(name) && line[len(name)] == ':' && asciiEqualFold(line[:len(name)], name) {
			v := len(name) + 1
			for v < len(line) && (line[v] == ' ' || line[v] == '\t') {
				v++
			}
			w := len(line)
			for w > v && (line[w-1] == ' ' || line[w-1] == '\t') {
				w--
			}
			return i, i + e + 2, i + v, i + w, true
		}
		i += e + 2
	}
	return 0, 0, 0, 0, false
}

var crlf = []byte("\r\n")

// eachLine calls fn with the name and trimmed value of each header line
// of buf[start:] until fn returns true; it reports whether one did.
func eachLine(buf []byte, start int, fn func(name, value []byte) bool) bool {
	i := bytes.Index(buf[start:], crlf)
	if i < 0 {
		return false
	}
	i += start + 2
	for i < len(buf) {
		e := bytes.Index(buf[i:], crlf)
		if e <= 0 {
			return false
		}
		line := buf[i : i+e]
		i += e + 2
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			continue
		}
		v := bytes.Trim(line[c+1:], " \t")
		if fn(line[:c], v) {
			return true
		}
	}
	return false
}

// headerValue returns the value of the first line named name, nil when
// there is none.
func headerValue(buf []byte, start int, name string) []byte {
	_, _, vf, vt, ok := lineAt(buf, start, name)
	if !ok {
		return nil
	}
	return buf[vf:vt]
}

// removeLines removes every line named name.
func removeLines(buf []byte, start int, name string) []byte {
	for {
		from, to, _, _, ok := lineAt(buf, start, name)
		if !ok {
			return buf
		}
		buf = append(buf[:from], buf[to:]...)
	}
}

// weakenETag is ngx_http_weak_etag on the first ETag line: a strong
// entity tag gets "W/", a weak one stays, and a value that is neither
// (not quoted) is removed.
func weakenETag(buf []byte, start int) []byte {
	from, to, vf, vt, ok := lineAt(buf, start, "ETag")
	if !ok {
		return buf
	}
	v := buf[vf:vt]
	switch {
	case len(v) > 2 && v[0] == 'W' && v[1] == '/':
		return buf
	case len(v) < 1 || v[0] != '"':
		return append(buf[:from], buf[to:]...)
	}
	buf = append(buf, 0, 0)
	copy(buf[vf+2:], buf[vf:len(buf)-2])
	buf[vf], buf[vf+1] = 'W', '/'
	return buf
}

func asciiEqualFold[T ~string | ~[]byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

// lower is ngx_tolower: ASCII letters only.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
