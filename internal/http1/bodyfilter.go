package http1

import (
	"bytes"
	"io"

	"wsgate/internal/exchange"
)

// This file joins a location's body filters (exchange.BodyFilter) to the
// writer: the head they take a body by, the framing of a body whose
// length they make unknown, and the bytes that pass through them.

// SetBodyFilter sets the body filter for this request's response (nil:
// none); call it before the header is written.
func (w *ResponseWriter) SetBodyFilter(f exchange.BodyFilter) { w.bfilter = f }

// startBody offers the composed head (at b[0:], status line to empty
// line) to the body filter. When a stage takes the body, its length is
// unknown from now on: Content-Length goes, and the body is chunked for
// an HTTP/1.1 client, or ends with the connection for an HTTP/1.0 one
// (ngx_http_clear_content_length, then ngx_http_chunked_header_filter
// and ngx_http_header_filter's keep-alive rule).
func (w *ResponseWriter) startBody(b []byte, status int) []byte {
	b, st, dropped := StartBodyFilter(w.bfilter, b, status, w.clen)
	if st == nil {
		return b
	}
	if !w.noBody {
		// A response without a body (HEAD) keeps the head the filters
		// made and sends nothing through them: their stages take no
		// resource before their first byte.
		w.stage = st
		w.raw.w = w
	}
	if !dropped {
		return b
	}
	w.clen = -1
	if w.noBody {
		return b
	}
	if w.req.ProtoMajor == 1 && w.req.ProtoMinor >= 1 {
		w.chunked = true
		if i := bytes.Index(b, []byte("\r\nConnection: ")); i >= 0 {
			te := "Transfer-Encoding: chunked\r\n"
			b = append(b, te...)
			copy(b[i+2+len(te):], b[i+2:len(b)-len(te)])
			copy(b[i+2:], te)
		}
		return b
	}
	w.closeAfter = true
	if w.keepalive {
		w.keepalive = false
		if i := bytes.Index(b, []byte("\r\nConnection: keep-alive\r\n")); i >= 0 {
			rest := b[i+24:]
			// keepalive_timeout's Keep-Alive line goes with it.
			if bytes.HasPrefix(rest, []byte("\r\nKeep-Alive: ")) {
				if j := bytes.Index(rest[2:], []byte("\r\n")); j >= 0 {
					rest = rest[2+j:]
				}
			}
			b = append(b[:i+14], append([]byte("close"), rest...)...)
		}
	}
	return b
}

// StartBodyFilter offers a composed head (b[0:], status line to empty
// line, HTTP/1.1 form) to the body filter f (nil: none; a 101 has no
// body to filter). st is the stage that takes the body, nil for none.
// When the stage makes the body's length unknown (clen >= 0 and not
// exchange.KeepsLength), Content-Length leaves the head and dropped is
// true (ngx_http_clear_content_length); the caller frames the body
// without it. HTTP/1.x, HTTP/2 and HTTP/3 writers share it.
func StartBodyFilter(f exchange.BodyFilter, b []byte, status int, clen int64) (head []byte, st exchange.BodyStage, dropped bool) {
	if f == nil || status == 101 {
		return b, nil, false
	}
	b, st = f.Start(b, 0, status, clen)
	if st == nil || clen < 0 || exchange.KeepsLength(st) {
		return b, st, false
	}
	return DropLine(b, "Content-Length: "), st, true
}

// DropLine removes the first head line that starts with prefix.
func DropLine(b []byte, prefix string) []byte {
	i := bytes.Index(b, []byte("\r\n"+prefix))
	if i < 0 {
		return b
	}
	e := bytes.Index(b[i+2:], []byte("\r\n"))
	if e < 0 {
		return b
	}
	return append(b[:i+2], b[i+2+e+2:]...)
}

// rawBody writes body bytes past the body filter: the stages' output.
type rawBody struct{ w *ResponseWriter }

func (r *rawBody) Write(p []byte) (int, error) { return r.w.writeBody(p) }

// endBody ends the body filter's stage once, so that what it still holds
// goes out: when the response is finished, or earlier when the log phase
// asks for $body_bytes_sent or $bytes_sent (nginx's filters have sent the
// last buffer before the log phase). A cut response sends nothing more,
// but its stages are ended all the same (into io.Discard), so that they
// let go of what they hold (a compressor, a decompressing goroutine).
func (w *ResponseWriter) endBody() {
	st := w.stage
	if st == nil {
		return
	}
	w.stage = nil
	var next io.Writer = &w.raw
	if w.broken {
		next = io.Discard
	}
	if err := st.End(next); err != nil {
		w.broken = true
	}
}
