package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Reading a request head line by line: nginx's parsers read byte by byte
// and reject a head at its first bad byte; these readers take whole lines,
// so they look at what has arrived of a line while its LF is awaited.

// What readLine reads: a request line, a header line, or (Response.ReadHead)
// an upstream's status line.
const (
	lineRequest = iota
	lineHeader
	lineStatus
)

// readLine appends the next LF-terminated line from br to req.buf, enforcing
// lim; a line that cannot fit is a StatusError with status/msg. kind says
// which line it is, for a bare CR: nginx's parsers read byte by byte and
// reject a CR followed by anything but LF (a header line's end also by CR)
// at that byte, without waiting for the LF that may never come. When such
// a CR has arrived, the line returned ends just after the byte that
// follows it, with an LF added: parsing it fails there, as nginx's does.
func readLine(br *bufio.Reader, req *Request, lim *headLimiter, status int, msg string, started bool, kind int) ([]byte, error) {
	start := len(req.buf)
	// Most often the line's LF is buffered already: waitLine would
	// return at once and ReadSlice take the line.
	if b, _ := br.Peek(br.Buffered()); len(b) > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			req.buf = append(req.buf, b[:i+1]...)
			br.Discard(i + 1)
			if !lim.place(i+1, true) {
				return nil, statusErr(status, msg)
			}
			return req.buf[start:], nil
		}
	}
	for {
		cut, werr := waitLine(br, req.buf[start:], kind)
		if cut > 0 {
			req.buf = takeCut(br, req.buf, len(req.buf)-start, cut)
			if !lim.place(len(req.buf)-start, true) {
				return nil, statusErr(status, msg)
			}
			return req.buf[start:], nil
		}
		chunk, err := readSlice(br, werr)
		req.buf = append(req.buf, chunk...)
		n := len(req.buf) - start
		switch {
		case err == nil:
			if !lim.place(n, true) {
				return nil, statusErr(status, msg)
			}
			return req.buf[start:], nil
		case errors.Is(err, bufio.ErrBufferFull):
			if !lim.place(n, false) {
				return nil, statusErr(status, msg)
			}
		case errors.Is(err, io.EOF):
			if n == 0 && !started {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// waitLine waits until br's buffer holds an LF, is full, or a read fails,
// or until the line so far (read, what was already taken from br, then
// br's buffer) holds a bare CR (see readLine). It returns where the line
// is to be cut after a bare CR, or 0; and the error of a read that
// failed, which br has handed over and does not keep: pass it to
// readSlice.
func waitLine(br *bufio.Reader, read []byte, kind int) (int, error) {
	for {
		b, _ := br.Peek(br.Buffered())
		if len(b) == br.Size() || bytes.IndexByte(b, '\n') >= 0 {
			return 0, nil
		}
		if cut := bareCR(read, b, kind); cut > 0 {
			return cut, nil
		}
		if _, err := br.Peek(len(b) + 1); err != nil {
			return 0, err
		}
	}
}

// readSlice is br.ReadSlice('\n') after waitLine, whose failed read's
// error werr is returned here with the bytes buffered, as ReadSlice
// returns an error, instead of reading again: a read that timed out
// (client_header_timeout, proxy_read_timeout) would wait its time twice.
func readSlice(br *bufio.Reader, werr error) ([]byte, error) {
	if werr == nil {
		return br.ReadSlice('\n')
	}
	b, _ := br.Peek(br.Buffered())
	if bytes.IndexByte(b, '\n') >= 0 {
		return br.ReadSlice('\n')
	}
	br.Discard(len(b))
	return b, werr
}

// takeCut appends to buf the rest of a line that waitLine cut after a bare
// CR (cut bytes from the line's start, of which read are in buf already),
// taken from br, and an LF, so that the line's parser rejects it there.
func takeCut(br *bufio.Reader, buf []byte, read, cut int) []byte {
	part := cut - read
	b, _ := br.Peek(part)
	buf = append(buf, b...)
	br.Discard(part)
	return append(buf, '\n')
}

// bareCR returns the length of the line a ++ b (no LF in it) up to and
// including the byte after its first bare CR, or 0: a CR followed by a
// byte other than LF, or, inside a header line, other than CR and LF.
// A request line's leading CR and LF bytes are skipped (sw_start).
func bareCR(a, b []byte, kind int) int {
	n := len(a) + len(b)
	at := func(i int) byte {
		if i < len(a) {
			return a[i]
		}
		return b[i-len(a)]
	}
	i := 0
	if kind == lineRequest {
		for i < n && (at(i) == '\r' || at(i) == '\n') {
			i++
		}
	}
	for ; i+1 < n; i++ {
		if at(i) != '\r' {
			continue
		}
		next := at(i + 1)
		// ngx_http_parse_header_line: sw_almost_done takes a second CR;
		// sw_header_almost_done, at the start of a line, does not.
		if next == '\r' && kind == lineHeader && i > 0 {
			continue
		}
		return i + 2
	}
	return 0
}

// checkMethodPrefix returns errInvalidMethod when the bytes already
// buffered in br, after the CR and LF bytes that may precede a request
// line, hold a byte that cannot be part of a method before the first
// space. It waits for one byte when none is buffered; a read error is left
// for the caller's next read to report.
func checkMethodPrefix(br *bufio.Reader) error {
	if _, err := br.Peek(1); err != nil {
		return nil
	}
	b, _ := br.Peek(br.Buffered())
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	for j := i; j < len(b); j++ {
		c := b[j]
		if c == ' ' && j > i {
			return nil
		}
		if (c < 'A' || c > 'Z') && c != '_' && c != '-' {
			return errInvalidMethod
		}
	}
	return nil
}
