package files

// escURI and escComponent are nginx's NGX_ESCAPE_URI and
// NGX_ESCAPE_URI_COMPONENT tables (core/ngx_string.c: ngx_escape_uri): a
// set bit means the byte is written as %XX (upper-case hex). escURI
// escapes controls, space, " # % < > ? \ ^ ` { | } and bytes >= 0x7F;
// escComponent everything but ALPHA, DIGIT and - . _ ~.
var (
	escURI = [8]uint32{
		0xffffffff, 0xd000002d, 0x50000000, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	}
	escComponent = [8]uint32{
		0xffffffff, 0xfc009fff, 0x78000001, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	}
)

func appendEscaped(dst []byte, s string, table [8]uint32) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if table[c>>5]&(1<<(c&0x1f)) != 0 {
			dst = append(dst, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// appendHTML escapes < > & " as ngx_escape_html does.
func appendHTML(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendJSON escapes as ngx_escape_json: \ and " get a backslash; control
// bytes become \n \r \t \b \f or \u00XX; other bytes are copied.
func appendJSON(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			dst = append(dst, '\\', c)
		case c > 0x1f:
			dst = append(dst, c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	return dst
}
