package route

// ValidHost checks a Host header or absolute-URI host as
// ngx_http_validate_host does and returns it lower-cased, without its port
// and without one trailing dot. ok is false when nginx answers 400
// ("client sent invalid host header"): ".." anywhere, "/", a byte <= 0x20
// or 0x7f, or nothing left. Bytes >= 0x80 are accepted unchanged. An IPv6
// literal keeps its brackets ("[::1]:80" → "[::1]"). The result shares
// host's memory unless an upper-case letter had to change.
func ValidHost(host string) (string, bool) {
	const (
		usual = iota
		literal
		rest
	)
	dotPos := -2 // no dot yet; never i-1 for i >= 0
	hostLen := len(host)
	state := usual
	upper := false
	for i := 0; i < len(host); i++ {
		switch c := host[i]; c {
		case '.':
			if dotPos == i-1 {
				return "", false
			}
			dotPos = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		default:
			if c == '/' || c <= 0x20 || c == 0x7f {
				return "", false
			}
			if c >= 'A' && c <= 'Z' {
				upper = true
			}
		}
	}
	if dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return "", false
	}
	h := host[:hostLen]
	if upper {
		h = asciiLower(h)
	}
	return h, true
}
