package http1

// Fast paths of the head parsers for the lines most requests are made of:
// "GET /path?args HTTP/1.1" and "Name: value". Each gives exactly what the
// byte-by-byte state machine (ngx_http_parse_request_line,
// ngx_http_parse_header_line) gives for such a line, in one plain scan,
// and leaves any other line to it: one it would reject, and one that
// takes a state these scans do not follow ("//", "/.", '%', '#', an
// absolute target, HTTP/0.9, another version, a name with '_', a line
// without CR).

// requestLineFast parses an origin-form request line with an upper-case
// method, one space on each side of the target, and "HTTP/1.0" or
// "HTTP/1.1" ending in CRLF, whose path needs no normalization. ok is
// false for any other line.
func requestLineFast(line []byte) (rl reqLine, ok bool) {
	i := 0
	for i < len(line) && line[i] >= 'A' && line[i] <= 'Z' {
		i++
	}
	if i == 0 || i+1 >= len(line) || line[i] != ' ' || line[i+1] != '/' {
		return rl, false
	}
	rl = reqLine{methodEnd: i, uriStart: i + 1, targetStart: i + 1, argsStart: -1, schemaStart: -1, hostStart: -1, hostEnd: -1}
	// afterSlash is sw_after_slash_in_uri; else sw_check_uri, until a
	// '?' starts the arguments (sw_uri).
	afterSlash := true
	p := i + 2
path:
	for ; p < len(line); p++ {
		ch := line[p]
		if isUsual(ch) {
			afterSlash = false
			continue
		}
		switch ch {
		case '/':
			if afterSlash {
				return rl, false // "//": a complex URI
			}
			afterSlash = true
			continue
		case '.':
			if afterSlash {
				return rl, false // "/.": a complex URI
			}
			continue
		case '+':
			continue
		case '?':
			rl.argsStart = p + 1
		case ' ':
			rl.uriEnd = p
		default:
			return rl, false // '%', '#', a control byte
		}
		break path
	}
	if rl.argsStart >= 0 {
		for p = rl.argsStart; p < len(line); p++ {
			ch := line[p]
			if isUsual(ch) {
				continue
			}
			if ch == ' ' {
				rl.uriEnd = p
				break
			}
			if ch == '#' || ch < 0x20 || ch == 0x7f {
				return rl, false
			}
		}
	}
	if rl.uriEnd < 0 {
		return rl, false
	}
	v := line[rl.uriEnd+1:]
	if len(v) != len("HTTP/1.1\r\n") || string(v[:7]) != "HTTP/1." || v[7] != '0' && v[7] != '1' || v[8] != '\r' || v[9] != '\n' {
		return rl, false
	}
	rl.major, rl.minor = 1, int(v[7]-'0')
	rl.targetE = rl.uriEnd
	return rl, true
}

// headerLineFast parses a header line whose name is made of letters,
// digits and '-', followed by ':', optional spaces, a value without CR,
// LF or NUL, and CRLF; or the CRLF that ends the head. ok is false for
// any other line.
func headerLineFast(line []byte) (h hdrLine, ok bool) {
	n := len(line)
	if n < 3 || line[n-2] != '\r' || line[n-1] != '\n' {
		// The empty line that ends the head.
		h.done = n == 2 && line[0] == '\r' && line[1] == '\n'
		return h, h.done
	}
	end := n - 2
	i := 0
	for i < end && nameChars[line[i]] {
		i++
	}
	if i == 0 || i == end || line[i] != ':' {
		return h, false
	}
	h.ne = i
	p := i + 1
	for p < end && line[p] == ' ' {
		p++
	}
	if p == end {
		return h, false // an empty value
	}
	h.vs = p
	if !safeFieldBytes(line[p:end]) {
		return h, false
	}
	// The value ends after its last byte other than a space; line[p] is
	// one.
	ve := end
	for line[ve-1] == ' ' {
		ve--
	}
	h.ve = ve
	return h, true
}
