package http1

import "bytes"

// reqLine holds offsets into one request line (which ends with '\n'),
// as ngx_http_parse_request_line records them.
type reqLine struct {
	methodEnd            int
	uriStart, uriEnd     int
	argsStart            int // -1 when there is no '?'
	schemaStart          int // -1 for the origin form
	hostStart, hostEnd   int
	complexURI, quoted   bool
	emptyPath            bool
	major, minor         int
	targetStart, targetE int
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var (
	errInvalidMethod  = statusErr(400, "client sent invalid method")
	errInvalidRequest = statusErr(400, "client sent invalid request")
	errInvalidVersion = statusErr(505, "client sent invalid version")
	errInvalid09      = statusErr(400, "client sent invalid method in HTTP/0.9 request")
	errInvalidHeader  = statusErr(400, "client sent invalid header line")
)

// parseRequestLine is ngx_http_parse_request_line (nginx 1.22) over one
// complete line including its '\n'.
func parseRequestLine(line []byte) (reqLine, error) {
	if rl, ok := requestLineFast(line); ok {
		return rl, nil
	}
	return parseRequestLineSlow(line)
}

// parseRequestLineSlow is parseRequestLine byte by byte, for every line.
func parseRequestLineSlow(line []byte) (reqLine, error) {
	const (
		swStart = iota
		swMethod
		swSpacesBeforeURI
		swSchema
		swSchemaSlash
		swSchemaSlashSlash
		swHostStart
		swHost
		swHostEnd
		swHostIPLiteral
		swPort
		swAfterSlashInURI
		swCheckURI
		swURI
		swHTTP09
		swHTTPH
		swHTTPHT
		swHTTPHTT
		swHTTPHTTP
		swFirstMajorDigit
		swMajorDigit
		swFirstMinorDigit
		swMinorDigit
		swSpacesAfterDigit
		swAlmostDone
	)
	rl := reqLine{argsStart: -1, schemaStart: -1, hostStart: -1, hostEnd: -1, uriEnd: -1}
	state := swStart
	for p := 0; p < len(line); p++ {
		ch := line[p]
	reswitch:
		switch state {
		case swStart:
			if (ch < 'A' || ch > 'Z') && ch != '_' && ch != '-' {
				return rl, errInvalidMethod
			}
			state = swMethod
		case swMethod:
			if ch == ' ' {
				rl.methodEnd = p
				state = swSpacesBeforeURI
				break
			}
			if (ch < 'A' || ch > 'Z') && ch != '_' && ch != '-' {
				return rl, errInvalidMethod
			}
		case swSpacesBeforeURI:
			if ch == '/' {
				rl.uriStart, rl.targetStart = p, p
				state = swAfterSlashInURI
				break
			}
			if isAlpha(ch) {
				rl.schemaStart, rl.targetStart = p, p
				state = swSchema
				break
			}
			if ch != ' ' {
				return rl, errInvalidRequest
			}
		case swSchema:
			if isAlpha(ch) || isDigit(ch) || ch == '+' || ch == '-' || ch == '.' {
				break
			}
			if ch != ':' {
				return rl, errInvalidRequest
			}
			state = swSchemaSlash
		case swSchemaSlash:
			if ch != '/' {
				return rl, errInvalidRequest
			}
			state = swSchemaSlashSlash
		case swSchemaSlashSlash:
			if ch != '/' {
				return rl, errInvalidRequest
			}
			state = swHostStart
		case swHostStart:
			rl.hostStart = p
			if ch == '[' {
				state = swHostIPLiteral
				break
			}
			state = swHost
			goto reswitch
		case swHost:
			if isAlpha(ch) || isDigit(ch) || ch == '.' || ch == '-' {
				break
			}
			state = swHostEnd
			goto reswitch
		case swHostEnd:
			rl.hostEnd = p
			switch ch {
			case ':':
				state = swPort
			case '/':
				rl.uriStart = p
				state = swAfterSlashInURI
			case '?':
				rl.uriStart = p
				rl.argsStart = p + 1
				rl.emptyPath = true
				state = swURI
			case ' ':
				rl.uriStart, rl.uriEnd = p, p
				rl.emptyPath = true
				state = swHTTP09
			default:
				return rl, errInvalidRequest
			}
		case swHostIPLiteral:
			if isDigit(ch) || isAlpha(ch) {
				break
			}
			switch ch {
			case ':', '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
			case ']':
				state = swHostEnd
			default:
				return rl, errInvalidRequest
			}
		case swPort:
			if isDigit(ch) {
				break
			}
			switch ch {
			case '/':
				rl.uriStart = p
				state = swAfterSlashInURI
			case '?':
				rl.uriStart = p
				rl.argsStart = p + 1
				rl.emptyPath = true
				state = swURI
			case ' ':
				rl.uriStart, rl.uriEnd = p, p
				rl.emptyPath = true
				state = swHTTP09
			default:
				return rl, errInvalidRequest
			}
		case swAfterSlashInURI, swCheckURI, swURI:
			if isUsual(ch) {
				if state == swAfterSlashInURI {
					state = swCheckURI
				}
				break
			}
			switch ch {
			case ' ':
				rl.uriEnd = p
				state = swHTTP09
				continue
			case '\r':
				rl.uriEnd = p
				rl.minor = 9
				state = swAlmostDone
				continue
			case '\n':
				rl.uriEnd = p
				rl.minor = 9
				return rl.done(p, line)
			}
			if ch < 0x20 || ch == 0x7f {
				return rl, errInvalidRequest
			}
			switch state {
			case swAfterSlashInURI:
				switch ch {
				case '.', '/', '#':
					rl.complexURI = true
					state = swURI
				case '%':
					rl.quoted = true
					state = swURI
				case '?':
					rl.argsStart = p + 1
					state = swURI
				case '+':
				default:
					state = swCheckURI
				}
			case swCheckURI:
				switch ch {
				case '/':
					state = swAfterSlashInURI
				case '%':
					rl.quoted = true
					state = swURI
				case '?':
					rl.argsStart = p + 1
					state = swURI
				case '#':
					rl.complexURI = true
					state = swURI
				}
			case swURI:
				if ch == '#' {
					rl.complexURI = true
				}
			}
		case swHTTP09:
			switch ch {
			case ' ':
			case '\r':
				rl.minor = 9
				state = swAlmostDone
			case '\n':
				rl.minor = 9
				return rl.done(p, line)
			case 'H':
				state = swHTTPH
			default:
				return rl, errInvalidRequest
			}
		case swHTTPH, swHTTPHT, swHTTPHTT, swHTTPHTTP:
			want := "TTP/"[state-swHTTPH]
			if ch != want {
				return rl, errInvalidRequest
			}
			state++
		case swFirstMajorDigit:
			if ch < '1' || ch > '9' {
				return rl, errInvalidRequest
			}
			rl.major = int(ch - '0')
			if rl.major > 1 {
				return rl, errInvalidVersion
			}
			state = swMajorDigit
		case swMajorDigit:
			if ch == '.' {
				state = swFirstMinorDigit
				break
			}
			if !isDigit(ch) {
				return rl, errInvalidRequest
			}
			rl.major = rl.major*10 + int(ch-'0')
			if rl.major > 1 {
				return rl, errInvalidVersion
			}
		case swFirstMinorDigit:
			if !isDigit(ch) {
				return rl, errInvalidRequest
			}
			rl.minor = int(ch - '0')
			state = swMinorDigit
		case swMinorDigit:
			switch {
			case ch == '\r':
				state = swAlmostDone
			case ch == '\n':
				return rl.done(p, line)
			case ch == ' ':
				state = swSpacesAfterDigit
			case !isDigit(ch):
				return rl, errInvalidRequest
			case rl.minor > 99:
				return rl, errInvalidRequest
			default:
				rl.minor = rl.minor*10 + int(ch-'0')
			}
		case swSpacesAfterDigit:
			switch ch {
			case ' ':
			case '\r':
				state = swAlmostDone
			case '\n':
				return rl.done(p, line)
			default:
				return rl, errInvalidRequest
			}
		case swAlmostDone:
			if ch != '\n' {
				return rl, errInvalidRequest
			}
			return rl.done(p, line)
		}
	}
	// readLine always hands over a line ending in '\n'.
	return rl, errInvalidRequest
}

func (rl *reqLine) done(p int, line []byte) (reqLine, error) {
	rl.targetE = rl.uriEnd
	if rl.major == 0 {
		rl.minor = 9
		if string(line[:rl.methodEnd]) != "GET" {
			return *rl, errInvalid09
		}
	}
	return *rl, nil
}

// setRequestLine fills r's request-line fields from rl; the line starts
// at r.buf[ls]. It rejects what ngx_http_process_request_line and
// ngx_http_process_request_uri reject: an invalid host in an absolute
// target and a URI ngx_http_parse_complex_uri refuses.
func (r *Request) setRequestLine(rl *reqLine, ls int, cfg *HeadConfig) error {
	sp := func(s, e int) span { return span{int32(ls + s), int32(ls + e)} }
	r.rl.method = sp(0, rl.methodEnd)
	r.rl.target = sp(rl.targetStart, rl.targetE)
	r.ProtoMajor, r.ProtoMinor = rl.major, rl.minor
	uriS, uriE := rl.uriStart, rl.uriEnd
	r.rl.uri = sp(uriS, uriE)
	pathE := uriE
	if rl.argsStart < 0 {
		// After "/." "//" "%" or "#" nginx stops looking for '?' in the
		// request line and ngx_http_parse_complex_uri finds it.
		// A '#' before any '?' ends the URI: no arguments.
		for i := uriS; i < uriE; i++ {
			if c := r.buf[ls+i]; c == '?' {
				rl.argsStart = i + 1
				break
			} else if c == '#' {
				break
			}
		}
	}
	if rl.argsStart >= 0 {
		pathE = rl.argsStart - 1
		// The arguments end at a '#' (ngx_http_parse_complex_uri's args
		// state); $request_uri keeps the fragment.
		argsE := uriE
		if i := bytes.IndexByte(r.buf[ls+rl.argsStart:ls+uriE], '#'); i >= 0 {
			argsE = rl.argsStart + i
		}
		r.rl.query = sp(rl.argsStart, argsE)
		r.HasQuery = true
	}
	r.rl.path = sp(uriS, pathE)
	if rl.hostStart >= 0 && rl.hostEnd >= 0 {
		h := r.buf[ls+rl.hostStart : ls+rl.hostEnd]
		n, ok := ValidateHost(h)
		if !ok {
			return statusErr(400, "client sent invalid host in request line")
		}
		hs := len(r.buf)
		r.buf = appendLower(r.buf, h[:n])
		r.rl.host = span{int32(hs), int32(len(r.buf))}
	}
	if rl.complexURI || rl.quoted || rl.emptyPath {
		ns := len(r.buf)
		uri := r.buf[ls+uriS : ls+uriE]
		out, err := AppendNormalizedURI(r.buf, uri, cfg.MergeSlashes)
		if err != nil {
			return errInvalidRequest
		}
		r.buf = out
		r.rl.norm = span{int32(ns), int32(len(r.buf))}
	} else {
		r.rl.norm = r.rl.path
	}
	return nil
}

// hdrLine holds offsets into one header line (ending with '\n').
type hdrLine struct {
	ns, ne, vs, ve int
	invalid        bool // name has bytes nginx calls invalid (r->invalid_header)
	done           bool // the empty line that ends the head
	ignore         bool // an upstream's repeated "HTTP/..." line, skipped
}

// headerNameChar is nginx's lowcase[] table: the bytes a valid header name
// is made of ('_' handled separately).
func headerNameChar(c byte) bool { return nameChars[c] }

var nameChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = b == '-' || isDigit(b) || isAlpha(b)
	}
	return t
}()

// valueStop marks the bytes the value states act on.
var valueStop = [256]bool{' ': true, '\r': true, '\n': true, 0: true}

// parseHeaderLine is ngx_http_parse_header_line (nginx 1.22) over one
// complete line including its '\n'. upstream enables the "HTTP/" line
// skipping nginx does for upstream responses.
func parseHeaderLine(line []byte, allowUnderscores, upstream bool) (hdrLine, error) {
	if h, ok := headerLineFast(line); ok {
		return h, nil
	}
	return parseHeaderLineSlow(line, allowUnderscores, upstream)
}

// parseHeaderLineSlow is parseHeaderLine byte by byte, for every line.
func parseHeaderLineSlow(line []byte, allowUnderscores, upstream bool) (hdrLine, error) {
	const (
		swStart = iota
		swName
		swSpaceBeforeValue
		swValue
		swSpaceAfterValue
		swIgnoreLine
		swAlmostDone
		swHeaderAlmostDone
	)
	var h hdrLine
	state := swStart
	for p := 0; p < len(line); p++ {
		ch := line[p]
		switch state {
		case swStart:
			switch {
			case ch == '\r':
				state = swHeaderAlmostDone
			case ch == '\n':
				h.done = true
				return h, nil
			default:
				state = swName
				if headerNameChar(ch) {
					break
				}
				if ch == '_' {
					h.invalid = !allowUnderscores
					break
				}
				if ch <= 0x20 || ch == 0x7f || ch == ':' {
					return h, errInvalidHeader
				}
				h.invalid = true
			}
		case swName:
			for nameChars[ch] && p+1 < len(line) {
				p++
				ch = line[p]
			}
			if headerNameChar(ch) {
				break
			}
			switch {
			case ch == '_':
				if !allowUnderscores {
					h.invalid = true
				}
			case ch == ':':
				h.ne = p
				state = swSpaceBeforeValue
			case ch == '\r':
				h.ne, h.vs, h.ve = p, p, p
				state = swAlmostDone
			case ch == '\n':
				h.ne, h.vs, h.ve = p, p, p
				return h, nil
			case ch == '/' && upstream && p == 4 && string(line[:4]) == "HTTP":
				state = swIgnoreLine
			case ch <= 0x20 || ch == 0x7f:
				return h, errInvalidHeader
			default:
				h.invalid = true
			}
		case swSpaceBeforeValue:
			switch ch {
			case ' ':
			case '\r':
				h.vs, h.ve = p, p
				state = swAlmostDone
			case '\n':
				h.vs, h.ve = p, p
				return h, nil
			case 0:
				return h, errInvalidHeader
			default:
				h.vs = p
				state = swValue
			}
		case swValue:
			for !valueStop[ch] && p+1 < len(line) {
				p++
				ch = line[p]
			}
			switch ch {
			case ' ':
				h.ve = p
				state = swSpaceAfterValue
			case '\r':
				h.ve = p
				state = swAlmostDone
			case '\n':
				h.ve = p
				return h, nil
			case 0:
				return h, errInvalidHeader
			}
		case swSpaceAfterValue:
			switch ch {
			case ' ':
			case '\r':
				state = swAlmostDone
			case '\n':
				return h, nil
			case 0:
				return h, errInvalidHeader
			default:
				state = swValue
			}
		case swIgnoreLine:
			if ch == '\n' {
				h.ignore = true
				return h, nil
			}
		case swAlmostDone:
			switch ch {
			case '\n':
				return h, nil
			case '\r':
			default:
				return h, errInvalidHeader
			}
		case swHeaderAlmostDone:
			if ch != '\n' {
				return h, errInvalidHeader
			}
			h.done = true
			return h, nil
		}
	}
	return h, errInvalidHeader
}
