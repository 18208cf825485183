package http1

import (
	"bufio"
	"errors"
	"io"

	"wsgate/internal/exchange"
)

// Limits of the chunked framing this package accepts. nginx bounds neither
// (ngx_http_parse_chunked skips extensions and trailers of any length);
// these bound memory and are far above what real clients send.
const (
	// MaxChunkLine is the longest chunk-size line (size, extensions, CRLF).
	MaxChunkLine = 4096
	// MaxTrailerBytes is the most bytes of trailer lines after the last chunk.
	MaxTrailerBytes = 8192
)

var (
	errBadChunk      = statusErr(400, "client sent invalid chunked body")
	errChunkTooLarge = statusErr(413, "client intended to send too large chunked body")
	errBodyTooLarge  = statusErr(413, "client intended to send too large body")
)

const (
	bodyNone = iota
	bodyLength
	bodyChunked
	bodyEOF
)

const (
	chunkSize = iota // expecting a chunk-size line
	chunkData        // inside chunk data, remaining bytes left
	chunkCRLF        // expecting the CRLF after chunk data
	chunkDone        // trailers read
)

// Body reads a message body framed by Content-Length, chunked
// transfer-coding (RFC 9112 §7.1) or the end of the connection. A Body is
// reused through Reset; Trailers alias its scratch buffer until the next
// Reset.
type Body struct {
	br        *bufio.Reader
	kind      int
	remaining int64 // length mode: bytes left; chunked: left in this chunk
	state     int
	max       int64 // client_max_body_size; 0: unlimited
	total     int64 // bytes announced so far (chunk sizes, or the length)
	read      int64
	err       error // sticky
	started   bool

	// Trailers are the trailer fields of a chunked body once Read returned
	// io.EOF, in arrival order.
	Trailers []Header
	tbuf     []byte
	tspans   []span

	// beforeRead runs once, at Begin or before the first read of a
	// non-empty body; the server uses it to send "100 Continue".
	beforeRead func() error
}

// Reset prepares b to read a body from br: chunked if chunked, else
// contentLength bytes when contentLength >= 0, else until EOF. It clears
// the size limit and trailers.
func (b *Body) Reset(br *bufio.Reader, contentLength int64, chunked bool) {
	tb, ts, tr, before := b.tbuf[:0], b.tspans[:0], b.Trailers[:0], b.beforeRead
	*b = Body{br: br, tbuf: tb, tspans: ts, Trailers: tr, beforeRead: before}
	switch {
	case chunked:
		b.kind = bodyChunked
	case contentLength == 0:
		b.kind = bodyNone
	case contentLength > 0:
		b.kind = bodyLength
		b.remaining = contentLength
		b.total = contentLength
	default:
		b.kind = bodyEOF
	}
}

// SetMaxSize sets client_max_body_size (0: unlimited). A Content-Length
// above it is reported at once as a 413 *StatusError, as nginx checks it in
// ngx_http_core_find_config_phase; a chunked body gets 413 from Read when
// the announced chunk sizes pass it (ngx_http_request_body_chunked_filter).
func (b *Body) SetMaxSize(n int64) error {
	b.max = n
	if n > 0 && b.kind == bodyLength && b.total > n {
		return errBodyTooLarge
	}
	return nil
}

// Empty reports whether the body has no bytes by its framing.
func (b *Body) Empty() bool { return b.kind == bodyNone }

// Done reports whether the whole body (and trailers) has been read.
func (b *Body) Done() bool {
	switch b.kind {
	case bodyNone:
		return true
	case bodyLength:
		return b.remaining == 0
	case bodyChunked:
		return b.state == chunkDone
	}
	return b.err == io.EOF
}

// BytesRead is the number of body bytes returned so far.
func (b *Body) BytesRead() int64 { return b.read }

// Remaining returns the bytes left of a Content-Length body, or -1 when the
// framing does not say.
func (b *Body) Remaining() int64 {
	switch b.kind {
	case bodyNone:
		return 0
	case bodyLength:
		return b.remaining
	}
	if b.Done() {
		return 0
	}
	return -1
}

// Begin does what the first Read does before it reads, also for an empty
// body: the size check, then beforeRead ("100 Continue" for an HTTP/1.1
// "Expect: 100-continue" request). nginx tests Expect before it looks at
// the length whenever it reads a body (ngx_http_read_client_request_body,
// also with "Content-Length: 0" and with none at all), so a handler that
// takes the body calls Begin first. Later calls, and Reads, do not repeat
// it.
func (b *Body) Begin() error {
	if b.err != nil || b.started {
		return b.err
	}
	return b.begin()
}

func (b *Body) begin() error {
	if b.max > 0 && b.kind == bodyLength && b.total > b.max {
		b.err = errBodyTooLarge
		return b.err
	}
	b.started = true
	if b.beforeRead != nil {
		if err := b.beforeRead(); err != nil {
			b.err = err
			return err
		}
	}
	return nil
}

// Buffered is how many body bytes a Read returns now without waiting
// for the peer: those of a Content-Length body, or of the chunk being
// read, already in the connection's buffer (0 before a chunk's size line
// is read).
func (b *Body) Buffered() int {
	if b.err != nil || b.br == nil {
		return 0
	}
	if b.kind == bodyLength || b.kind == bodyChunked && b.state == chunkData {
		return int(min(int64(b.br.Buffered()), b.remaining))
	}
	return 0
}

// Read implements io.Reader. Framing errors are *StatusError values (400
// for bad chunked syntax, 413 above the size limit); a peer closing early is
// io.ErrUnexpectedEOF. Errors are sticky.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.kind == bodyNone || (b.kind == bodyLength && b.remaining == 0) || (b.kind == bodyChunked && b.state == chunkDone) {
		return 0, io.EOF
	}
	if !b.started {
		if err := b.begin(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	switch b.kind {
	case bodyLength:
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err = b.br.Read(p)
		b.remaining -= int64(n)
		if b.remaining == 0 {
			err = nil
			if n == 0 {
				err = io.EOF
			}
		} else if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	case bodyEOF:
		n, err = b.br.Read(p)
	case bodyChunked:
		n, err = b.readChunked(p)
	}
	b.read += int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *Body) readChunked(p []byte) (int, error) {
	for {
		switch b.state {
		case chunkSize:
			size, err := b.readChunkSize()
			if err != nil {
				return 0, err
			}
			if b.max > 0 && b.max-b.total < size {
				return 0, errChunkTooLarge
			}
			b.total += size
			if size == 0 {
				if err := b.readTrailers(); err != nil {
					return 0, err
				}
				b.state = chunkDone
				return 0, io.EOF
			}
			b.remaining = size
			b.state = chunkData
		case chunkData:
			if int64(len(p)) > b.remaining {
				p = p[:b.remaining]
			}
			n, err := b.br.Read(p)
			b.remaining -= int64(n)
			if b.remaining == 0 {
				b.state = chunkCRLF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if n > 0 {
				if b.state == chunkCRLF && err == nil {
					// Consume the CRLF now when it is already buffered so a
					// reader that stops at the last byte still sees Done.
					if b.br.Buffered() >= 2 {
						if e := b.readCRLF(); e != nil {
							return n, e
						}
					}
				}
				return n, err
			}
			if err != nil {
				return 0, err
			}
		case chunkCRLF:
			if err := b.readCRLF(); err != nil {
				return 0, err
			}
		case chunkDone:
			return 0, io.EOF
		}
	}
}

func (b *Body) readCRLF() error {
	c1, err := b.br.ReadByte()
	if err != nil {
		return eofUnexpected(err)
	}
	c2, err := b.br.ReadByte()
	if err != nil {
		return eofUnexpected(err)
	}
	if c1 != '\r' || c2 != '\n' {
		return errBadChunk
	}
	b.state = chunkSize
	return nil
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLineLimited returns the next CRLF-terminated line (with CRLF), at
// most max bytes; the slice is valid until the next read from br.
func readLineLimited(br *bufio.Reader, max int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errBadChunk
		}
		return nil, eofUnexpected(err)
	}
	if len(line) > max || len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errBadChunk
	}
	return line, nil
}

// readChunkSize parses "1*HEXDIG [ BWS ; ext ... ] CRLF" strictly: no bare
// LF, no CR or other control bytes but HTAB inside, at most 15 significant
// hex digits' worth of value (int64 without overflow).
func (b *Body) readChunkSize() (int64, error) {
	line, err := readLineLimited(b.br, MaxChunkLine)
	if err != nil {
		return 0, err
	}
	line = line[:len(line)-2]
	var size int64
	i := 0
	for ; i < len(line); i++ {
		h, ok := unhex(line[i])
		if !ok {
			break
		}
		if size > (1<<63-1)/16 {
			return 0, errBadChunk
		}
		size = size*16 + int64(h)
	}
	if i == 0 {
		return 0, errBadChunk
	}
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ';' {
		return 0, errBadChunk
	}
	for _, c := range rest {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return 0, errBadChunk
		}
	}
	return size, nil
}

// readTrailers reads trailer lines up to the empty line. Each must be a
// valid header line ending in CRLF.
func (b *Body) readTrailers() error {
	total := 0
	for {
		line, err := readLineLimited(b.br, MaxTrailerBytes)
		if err != nil {
			return err
		}
		total += len(line)
		if total > MaxTrailerBytes {
			return errBadChunk
		}
		if len(line) == 2 {
			b.materializeTrailers()
			return nil
		}
		h, err := parseHeaderLine(line, true, false)
		if err != nil || h.invalid || h.done || bytesIndexCR(line[:len(line)-2]) {
			return errBadChunk
		}
		s := len(b.tbuf)
		b.tbuf = append(b.tbuf, line[h.ns:h.ne]...)
		m := len(b.tbuf)
		b.tbuf = append(b.tbuf, line[h.vs:h.ve]...)
		b.tspans = append(b.tspans, span{int32(s), int32(m)}, span{int32(m), int32(len(b.tbuf))})
	}
}

func (b *Body) materializeTrailers() {
	b.Trailers = b.Trailers[:0]
	for i := 0; i+1 < len(b.tspans); i += 2 {
		n, v := b.tspans[i], b.tspans[i+1]
		b.Trailers = append(b.Trailers, Header{Name: b.tbuf[n.s:n.e:n.e], Value: b.tbuf[v.s:v.e:v.e]})
	}
}

func bytesIndexCR(b []byte) bool {
	for _, c := range b {
		if c == '\r' {
			return true
		}
	}
	return false
}

// Body is the request body reader that Serve gives each Request.
var _ exchange.Body = (*Body)(nil)
