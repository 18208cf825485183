package http1

import (
	"bytes"
	"errors"
	"slices"
	"strconv"

	"wsgate/internal/exchange"
)

// Framing is what the writer decided about a response before its head is
// composed: the length or chunking of the body and whether the connection
// stays open.
type Framing = exchange.Framing

// WriteComposedHeader writes a head composed by the caller (a proxied
// response, whose header order is the upstream's): the writer decides the
// framing and keep-alive exactly as WriteHeader does and passes them to
// compose, which appends the whole head, status line to empty line, to dst.
func (w *ResponseWriter) WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f Framing) []byte) error {
	if w.wroteHeader {
		return ErrHeaderWritten
	}
	override := w.errStatus != 0 && status != 101
	if override {
		status = w.errStatus
	}
	if status < 100 || status > 999 || (status < 200 && status != 101) {
		return errors.New("http1: invalid response status " + strconv.Itoa(status))
	}
	w.decideFraming(status, contentLength)
	if w.req.ProtoMajor == 0 {
		w.keepalive = false
		return nil
	}
	f := Framing{ContentLength: w.clen, Chunked: w.chunked, KeepAlive: w.keepalive}
	if status == 204 || (status >= 100 && status < 200) {
		f.ContentLength = -1
	}
	// The head is composed where SentHead keeps it: no copy.
	b := compose(w.sentHead[:0], f)
	if override {
		b = ReplaceStatusLine(b, status)
	}
	if len(w.errHdr) > 0 && len(b) >= 2 {
		// Before the blank line that ends the head.
		b = slices.Insert(b, len(b)-2, w.errHdr...)
	}
	if w.filter != nil {
		b = w.filter.FilterHead(b, 0, -1, status)
	}
	b = w.startBody(b, status)
	w.sentHead = b
	n, err := w.c.bw.Write(b)
	w.framing += int64(n)
	if err != nil {
		w.broken = true
	}
	return err
}

// ReplaceStatusLine puts "HTTP/1.1 status reason" in place of head's
// first line (SetErrorStatus over a composed head).
func ReplaceStatusLine(head []byte, status int) []byte {
	end := bytes.Index(head, []byte("\r\n"))
	if end < 0 {
		return head
	}
	var line [64]byte
	l := AppendStatusLine(append(line[:0], "HTTP/1.1 "...), status)
	return slices.Replace(head, 0, end, l...)
}
