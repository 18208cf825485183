package http1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrInvalidHeader marks an upstream response head nginx would answer with
// 502 ("upstream sent invalid header", ft invalid_header).
var ErrInvalidHeader = errors.New("upstream sent invalid header")

// errBadStatusLine is made once: parseStatusLine runs for every response.
var errBadStatusLine = fmt.Errorf("upstream sent no valid HTTP/1.x status line: %w", ErrInvalidHeader)

// ErrHeaderTooBig is a response head larger than the limit given to
// Response.ReadHead ("upstream sent too big header", also 502); it wraps
// ErrInvalidHeader.
var ErrHeaderTooBig = fmt.Errorf("upstream sent too big header: %w", ErrInvalidHeader)

// Response is a parsed upstream response head. Byte-slice fields alias its
// scratch buffer until the next ReadHead on the same value.
type Response struct {
	ProtoMajor, ProtoMinor int
	Status                 int
	// Reason is the text after the status code (may be empty).
	Reason []byte
	// StatusLine is the code and reason as received ("200 OK"), which
	// nginx relays to the client as its own status line.
	StatusLine []byte
	// Headers are the header lines in order with original case.
	Headers []Header
	// ContentLength is -1 when absent.
	ContentLength int64
	Chunked       bool
	// ConnectionClose is true for HTTP/1.0 responses and "Connection:
	// close": the upstream connection cannot be reused.
	ConnectionClose bool

	buf   []byte
	spans []span
}

// Header returns the first header named name (case-insensitive), or nil.
func (r *Response) Header(name string) []byte { return lookup(r.Headers, name) }

// HasToken reports whether a header named name lists token.
func (r *Response) HasToken(name, token string) bool { return hasToken(r.Headers, name, token) }

// BodyFraming returns how the body that follows is delimited: chunked, a
// length (0 for none), or -1 for "until the connection closes". 1xx, 204,
// 304 and responses to HEAD have no body (RFC 9112 §6.3).
func (r *Response) BodyFraming(headRequest bool) (contentLength int64, chunked bool) {
	if headRequest || r.Status < 200 || r.Status == 204 || r.Status == 304 {
		return 0, false
	}
	if r.Chunked {
		return -1, true
	}
	return r.ContentLength, false
}

// ReadHead reads a response head into r, reusing r's memory. Errors:
// ErrInvalidHeader (wrapped) for a head that is not HTTP/1.x or has a bad
// line or bad framing headers; ErrHeaderTooBig; io.ErrUnexpectedEOF when
// the upstream closed first ("upstream prematurely closed connection");
// br's own errors as they are (timeouts satisfy os.ErrDeadlineExceeded).
//
// Differences from nginx 1.22, on purpose: a status line that is not
// HTTP/1.x is an error, not an HTTP/0.9 body relayed as 200; duplicate or
// invalid Content-Length, a Transfer-Encoding other than "chunked", and
// both together are errors, as in nginx 1.23+.
func (r *Response) ReadHead(br *bufio.Reader, max int) error {
	if max <= 0 {
		max = 4096
	}
	*r = Response{buf: r.buf[:0], spans: r.spans[:0], Headers: r.Headers[:0], ContentLength: -1}
	total := 0
	readLine := func(kind int) ([]byte, error) {
		start := len(r.buf)
		for {
			// A bare CR is an invalid head at once, as nginx's
			// byte-by-byte parsers find it (502), not after
			// proxy_read_timeout waiting for an LF (see readLine in
			// headline.go).
			cut, werr := waitLine(br, r.buf[start:], kind)
			if cut > 0 {
				r.buf = takeCut(br, r.buf, len(r.buf)-start, cut)
				return r.buf[start:], nil
			}
			chunk, err := readSlice(br, werr)
			r.buf = append(r.buf, chunk...)
			total += len(chunk)
			if total > max {
				return nil, ErrHeaderTooBig
			}
			switch {
			case err == nil:
				return r.buf[start:], nil
			case errors.Is(err, bufio.ErrBufferFull):
				continue
			case errors.Is(err, io.EOF):
				return nil, io.ErrUnexpectedEOF
			default:
				return nil, err
			}
		}
	}
	line, err := readLine(lineStatus)
	if err != nil {
		return err
	}
	code, rs, re, err := parseStatusLine(line, r)
	if err != nil {
		return err
	}
	r.Status = code
	reasonS, reasonE := rs, re
	codeStart := indexCode(line)
	var clSeen, teSeen bool
	for {
		l, err := readLine(lineHeader)
		if err != nil {
			return err
		}
		ls := len(r.buf) - len(l)
		h, err := parseHeaderLine(l, true, true)
		if err != nil {
			return fmt.Errorf("parsing upstream header line: %w", ErrInvalidHeader)
		}
		if h.done {
			break
		}
		if h.ignore {
			continue
		}
		name, value := l[h.ns:h.ne], l[h.vs:h.ve]
		r.spans = append(r.spans, span{int32(ls + h.ns), int32(ls + h.ne)}, span{int32(ls + h.vs), int32(ls + h.ve)})
		switch {
		case EqualFold(name, "Content-Length"):
			n, ok := parseContentLength(value)
			if !ok || clSeen {
				return fmt.Errorf("upstream sent invalid or duplicate \"Content-Length\": %w", ErrInvalidHeader)
			}
			clSeen = true
			r.ContentLength = n
		case EqualFold(name, "Transfer-Encoding"):
			if !EqualFold(value, "chunked") || teSeen {
				return fmt.Errorf("upstream sent unknown \"Transfer-Encoding\": %w", ErrInvalidHeader)
			}
			teSeen = true
			r.Chunked = true
		case EqualFold(name, "Connection"):
			if containsFold(value, "close") {
				r.ConnectionClose = true
			}
		}
	}
	if clSeen && teSeen {
		return fmt.Errorf("upstream sent \"Content-Length\" and \"Transfer-Encoding\": %w", ErrInvalidHeader)
	}
	if r.ProtoMajor*1000+r.ProtoMinor < 1001 {
		r.ConnectionClose = true
	}
	// The status line is the first thing in buf.
	r.Reason = r.buf[reasonS:reasonE:reasonE]
	r.StatusLine = r.buf[codeStart:reasonE:reasonE]
	r.Headers = r.Headers[:0]
	for i := 0; i+1 < len(r.spans); i += 2 {
		n, v := r.spans[i], r.spans[i+1]
		r.Headers = append(r.Headers, Header{Name: r.buf[n.s:n.e:n.e], Value: r.buf[v.s:v.e:v.e]})
	}
	return nil
}

// indexCode is the offset of the status code in a valid status line.
func indexCode(line []byte) int {
	i := 5
	for i < len(line) && line[i] != ' ' {
		i++
	}
	for i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

// parseStatusLine is ngx_http_parse_status_line: "HTTP/" major "." minor
// SP+ 3DIGIT (SP text | "." text | nothing) CRLF or LF. It returns the code
// and the reason's offsets. Only HTTP/1.x is accepted.
func parseStatusLine(line []byte, r *Response) (code, rs, re int, err error) {
	bad := errBadStatusLine
	if len(line) < 5 || string(line[:5]) != "HTTP/" {
		return 0, 0, 0, bad
	}
	p := 5
	major, minor := 0, 0
	if p >= len(line) || line[p] < '1' || line[p] > '9' {
		return 0, 0, 0, bad
	}
	for p < len(line) && isDigit(line[p]) {
		if major > 99 {
			return 0, 0, 0, bad
		}
		major = major*10 + int(line[p]-'0')
		p++
	}
	if p >= len(line) || line[p] != '.' {
		return 0, 0, 0, bad
	}
	p++
	if p >= len(line) || !isDigit(line[p]) {
		return 0, 0, 0, bad
	}
	for p < len(line) && isDigit(line[p]) {
		if minor > 99 {
			return 0, 0, 0, bad
		}
		minor = minor*10 + int(line[p]-'0')
		p++
	}
	if p >= len(line) || line[p] != ' ' || major != 1 {
		return 0, 0, 0, bad
	}
	for p < len(line) && line[p] == ' ' {
		p++
	}
	for i := 0; i < 3; i++ {
		if p >= len(line) || !isDigit(line[p]) {
			return 0, 0, 0, bad
		}
		code = code*10 + int(line[p]-'0')
		p++
	}
	if code < 100 {
		return 0, 0, 0, bad
	}
	end := len(line) - 1 // the '\n'
	if end > 0 && line[end-1] == '\r' {
		end--
	}
	switch {
	case p == end:
		rs, re = p, p
	case line[p] == ' ' || line[p] == '.':
		rs, re = p+1, end
		if line[p] == '.' {
			rs = p // IIS "403.1": keep the dot in the text
		}
	default:
		return 0, 0, 0, bad
	}
	for _, c := range line[rs:re] {
		if c == '\r' {
			return 0, 0, 0, bad
		}
	}
	r.ProtoMajor, r.ProtoMinor = major, minor
	return code, rs, re, nil
}
