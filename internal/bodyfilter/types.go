package bodyfilter

// typeSet is a filter's MIME types list (sub_filter_types), matched as
// ngx_http_test_content_type matches r->headers_out.content_type.
type typeSet struct {
	any   bool     // "*": every response, also one without a type
	types []string // lower-case
}

func newTypeSet(types []string, def string) typeSet {
	if len(types) == 0 {
		return typeSet{types: []string{def}}
	}
	for _, t := range types {
		if t == "*" {
			return typeSet{any: true}
		}
	}
	return typeSet{types: types}
}

// match reports whether a response whose Content-Type value is ctype
// (nil: none) is of one of the types. The compared part is the value up
// to a "; charset=" parameter, as ngx_http_upstream_copy_content_type
// and the static module cut it (content_type_len); other parameters
// stay, so "text/html; q=1" is not text/html.
func (t *typeSet) match(ctype []byte) bool { return matchType(t, ctype) }

// matchString is match for a string.
func (t *typeSet) matchString(ctype string) bool { return matchType(t, ctype) }

func matchType[T ~string | ~[]byte](t *typeSet, ctype T) bool {
	if t.any {
		return true
	}
	if len(ctype) == 0 {
		return false
	}
	ctype = typeKey(ctype)
	for _, s := range t.types {
		if asciiEqualFold(ctype, s) {
			return true
		}
	}
	return false
}

// typeKey is the part of a Content-Type value nginx compares: up to the
// first ";" that a "charset=" parameter follows.
func typeKey[T ~string | ~[]byte](v T) T {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		p := i + 1
		for p < len(v) && v[p] == ' ' {
			p++
		}
		if len(v)-p >= 8 && asciiEqualFold(v[p:p+8], "charset=") {
			return v[:i]
		}
	}
	return v
}
