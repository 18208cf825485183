package proxytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what the parsers accept, so a misbehaving peer cannot make a
// test allocate without bound.
const (
	maxHeadBytes = 64 << 10 // request or response head, lines included
	maxBodyBytes = 8 << 20  // one message body
)

// Header is one header line as it was on the wire: the name in its
// original case and the value with surrounding blanks (RFC 9112 §5: OWS)
// removed.
type Header struct {
	Name  string
	Value string
}

// String renders the line without its terminator, "Name: Value".
func (h Header) String() string { return h.Name + ": " + h.Value }

// Request is one HTTP/1.x request exactly as a backend received it.
type Request struct {
	Conn int // 1-based index of the accepted connection it came on
	Seq  int // 1-based index of the request on that connection

	Line    string   // request line without its terminator
	Method  string   // first word of Line
	Target  string   // request-target, byte for byte
	Proto   string   // "HTTP/1.0", "HTTP/1.1"; "" when the line had two words
	Headers []Header // in arrival order, original case, duplicates kept
	Chunked bool     // the body came with Transfer-Encoding: chunked
	Body    []byte   // the body, de-chunked when Chunked
	Raw     []byte   // every byte of the request as received: head and body
}

// Get returns the value of the first header named name (case-insensitive)
// and whether there was one.
func (r *Request) Get(name string) (string, bool) { return lookup(r.Headers, name) }

// HeadText renders the head as the backend saw it, one line per header,
// lines joined by "\n" and without the final blank line.
func (r *Request) HeadText() string {
	var b strings.Builder
	b.WriteString(r.Line)
	for _, h := range r.Headers {
		b.WriteString("\n")
		b.WriteString(h.String())
	}
	return b.String()
}

// Response is one HTTP/1.x response exactly as a client received it.
type Response struct {
	StatusLine string // without its terminator
	Proto      string // "HTTP/1.1"
	Status     int
	Headers    []Header // in arrival order, original case
	Chunked    bool
	Body       []byte // de-chunked when Chunked
	// ToEOF reports that the body was delimited by the connection closing
	// (no Content-Length, not chunked, a status that carries a body).
	ToEOF bool
	Raw   []byte // head and body bytes as received
}

// Get returns the value of the first header named name (case-insensitive).
func (r *Response) Get(name string) (string, bool) { return lookup(r.Headers, name) }

func lookup(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// ErrHeadTooLarge is returned when a head exceeds 64 KiB.
var ErrHeadTooLarge = errors.New("message head too large")

// teeReader records every byte read through it. lines counts the bytes
// of the lines read since it was last zeroed (a head, or one chunk-size
// line), which maxHeadBytes bounds: raw also holds the body.
type teeReader struct {
	br    *bufio.Reader
	raw   bytes.Buffer
	lines int
}

func (t *teeReader) line() (string, error) {
	var line []byte
	for {
		frag, err := t.br.ReadSlice('\n')
		t.raw.Write(frag)
		line = append(line, frag...)
		if t.lines += len(frag); t.lines > maxHeadBytes {
			return "", ErrHeadTooLarge
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

func (t *teeReader) full(n int64) ([]byte, error) {
	if n > maxBodyBytes {
		return nil, fmt.Errorf("body of %d bytes exceeds %d", n, maxBodyBytes)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(t.br, buf)
	t.raw.Write(buf)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return buf, err
}

// headers reads header lines up to and including the blank line. A line
// without a colon is an error; obsolete folding (RFC 9112 §5.2) is kept as
// part of the previous value, joined by one space.
func (t *teeReader) headers() ([]Header, error) {
	var hs []Header
	for {
		l, err := t.line()
		if err != nil {
			return nil, err
		}
		if l == "" {
			return hs, nil
		}
		if (l[0] == ' ' || l[0] == '\t') && len(hs) > 0 {
			hs[len(hs)-1].Value += " " + strings.Trim(l, " \t")
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("malformed header line %q", l)
		}
		hs = append(hs, Header{Name: name, Value: strings.Trim(value, " \t")})
	}
}

// chunked reads a chunked body (RFC 9112 §7.1), trailers included, and
// returns the decoded data.
func (t *teeReader) chunked() ([]byte, error) {
	var body []byte
	for {
		t.lines = 0
		l, err := t.line()
		if err != nil {
			return nil, fmt.Errorf("reading chunk size: %w", err)
		}
		sz, _, _ := strings.Cut(l, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid chunk size %q", l)
		}
		if int64(len(body))+n > maxBodyBytes {
			return nil, fmt.Errorf("chunked body exceeds %d bytes", maxBodyBytes)
		}
		if n == 0 {
			if _, err := t.headers(); err != nil { // trailer section
				return nil, fmt.Errorf("reading trailers: %w", err)
			}
			return body, nil
		}
		data, err := t.full(n)
		if err != nil {
			return nil, fmt.Errorf("reading chunk data: %w", err)
		}
		body = append(body, data...)
		t.lines = 0
		if l, err := t.line(); err != nil || l != "" {
			return nil, fmt.Errorf("missing CRLF after chunk data")
		}
	}
}

// bodyFraming reports how a message with these headers is delimited:
// chunked (Transfer-Encoding whose last coding is chunked, RFC 9112 §6.3),
// else the first Content-Length (-1 when absent).
func bodyFraming(hs []Header) (chunked bool, length int64, err error) {
	length = -1
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Transfer-Encoding") {
			codings := strings.Split(h.Value, ",")
			chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
		}
	}
	if chunked {
		return true, -1, nil
	}
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Content-Length") {
			n, perr := strconv.ParseInt(h.Value, 10, 64)
			if perr != nil || n < 0 {
				return false, -1, fmt.Errorf("invalid Content-Length %q", h.Value)
			}
			return false, n, nil
		}
	}
	return false, -1, nil
}

// ReadRequest reads one request from br: request line, header lines and a
// body framed by Transfer-Encoding: chunked or Content-Length (none
// otherwise). Lines may end in CRLF or a bare LF. It returns io.EOF when br
// is at end of input before the first byte.
func ReadRequest(br *bufio.Reader) (*Request, error) {
	t := &teeReader{br: br}
	r, err := t.requestHead()
	if err != nil {
		return nil, err
	}
	chunked, n, err := bodyFraming(r.Headers)
	if err != nil {
		return nil, err
	}
	switch {
	case chunked:
		r.Chunked = true
		r.Body, err = t.chunked()
	case n > 0:
		r.Body, err = t.full(n)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	r.Raw = t.raw.Bytes()
	return r, nil
}

// requestHead reads a request line and header lines, no body.
func (t *teeReader) requestHead() (*Request, error) {
	line, err := t.line()
	for err == nil && line == "" { // RFC 9112 §2.2: ignore leading empty lines
		line, err = t.line()
	}
	if err != nil {
		return nil, err
	}
	r := &Request{Line: line}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("malformed request line %q", line)
	}
	r.Method, r.Target = parts[0], parts[1]
	if len(parts) == 3 {
		r.Proto = parts[2]
	}
	if r.Headers, err = t.headers(); err != nil {
		return nil, fmt.Errorf("reading request headers: %w", err)
	}
	r.Raw = t.raw.Bytes()
	return r, nil
}

// ReadResponse reads one response from br. method is the method of the
// request it answers: HEAD responses, 1xx, 204 and 304 have no body
// (RFC 9112 §6.3); a 101 ends at its head. Without Content-Length or
// chunked framing the body runs to end of input (ToEOF).
func ReadResponse(br *bufio.Reader, method string) (*Response, error) {
	t := &teeReader{br: br}
	line, err := t.line()
	if err != nil {
		return nil, err
	}
	r := &Response{StatusLine: line}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	r.Proto = proto
	if r.Status, err = strconv.Atoi(code); err != nil || !strings.HasPrefix(proto, "HTTP/") || len(code) != 3 {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	if r.Headers, err = t.headers(); err != nil {
		return nil, fmt.Errorf("reading response headers: %w", err)
	}
	if method == "HEAD" || r.Status < 200 || r.Status == 204 || r.Status == 304 {
		r.Raw = t.raw.Bytes()
		return r, nil
	}
	chunked, n, err := bodyFraming(r.Headers)
	if err != nil {
		return nil, err
	}
	switch {
	case chunked:
		r.Chunked = true
		r.Body, err = t.chunked()
	case n >= 0:
		r.Body, err = t.full(n)
	default:
		r.ToEOF = true
		var buf bytes.Buffer
		_, err = io.Copy(&buf, io.LimitReader(br, maxBodyBytes))
		r.Body = buf.Bytes()
		t.raw.Write(r.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	r.Raw = t.raw.Bytes()
	return r, nil
}
