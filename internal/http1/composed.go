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
	w.scratch = compose(w.scratch[:0], f)
	if override {
		w.scratch = ReplaceStatusLine(w.scratch, status)
	}
	if len(w.errHdr) > 0 && len(w.scratch) >= 2 {
		// Before the blank line that ends the head.
		w.scratch = slices.Insert(w.scratch, len(w.scratch)-2, w.errHdr...)
	}
	if w.filter != nil {
		w.scratch = w.filter.FilterHead(w.scratch, 0, -1, status)
	}
	w.scratch = w.startBody(w.scratch, status)
	w.sentHead = append(w.sentHead[:0], w.scratch...)
	n, err := w.c.bw.Write(w.scratch)
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
