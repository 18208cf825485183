package framed

import (
	"io"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// This file is what a response's body goes through on its way to DATA
// frames: the location's body filters (sub_filter) and limit_rate, as
// internal/http1 runs them.

// SetBodyFilter sets the body filter of this request's response (nil:
// none); the pipeline sets it with the head filter.
func (w *Writer) SetBodyFilter(f exchange.BodyFilter) { w.bfilter = f }

// startBody offers the head (b[0:], HTTP/1.1 form) to the body filter.
// When a stage takes the body its length is unknown from now on, unless
// the stage keeps it (exchange.KeepsLength): Content-Length goes
// (ngx_http_clear_content_length); the stream frames the body itself.
func (w *Writer) startBody(b []byte, status int) []byte {
	b, st, dropped := http1.StartBodyFilter(w.bfilter, b, status, w.clen)
	if st != nil && !w.noBody {
		w.stage = st
	}
	if dropped {
		w.clen = -1
	}
	return b
}

// rawBody writes body bytes past the body filter: the stages' output.
type rawBody struct{ w *Writer }

func (r rawBody) Write(p []byte) (int, error) { return r.w.writeBody(p) }

// endBody ends the body filter's stage once, so that what it holds goes
// out: when the response is finished, or earlier when the log phase asks
// for $body_bytes_sent or $bytes_sent. A cut response's stage is ended
// into io.Discard, so that it lets go of what it holds.
func (w *Writer) endBody() {
	st := w.stage
	if st == nil {
		return
	}
	w.stage = nil
	var next io.Writer = rawBody{w}
	if w.broken || w.aborted {
		next = io.Discard
	}
	if err := st.End(next); err != nil {
		w.broken = true
	}
}

// SentHead returns the head as it went out, in HTTP/1.1 form after the
// head filter, and the trailers sent ($sent_http_NAME,
// $sent_trailer_NAME).
func (w *Writer) SentHead() (head, trailers []byte) {
	if w.finished && !w.broken && !w.aborted {
		trailers = w.trailers
	}
	return w.sentHead, trailers
}

// SetRate sets limit_rate (bytes a second, 0: none) once after bytes
// went out (limit_rate_after; < 0 keeps the earlier), counted from the
// request's start, as ngx_http_write_filter paces a response:
// rate * (seconds since start + 1) - (sent - after) may go out.
func (w *Writer) SetRate(rate, after int64, start time.Time) {
	if after >= 0 {
		w.pace.after = after
	}
	w.pace.rate, w.pace.startSec = rate, start.Unix()
}

// pacer is limit_rate's state for one response.
type pacer struct {
	rate, after, startSec int64
}

// allow waits until some of n bytes may go out, sent having gone
// already, and returns how many.
func (p *pacer) allow(n, sent int64) int64 {
	for {
		limit := p.rate*(time.Now().Unix()-p.startSec+1) - (sent - p.after)
		if limit > 0 {
			return min(n, limit)
		}
		time.Sleep(time.Duration(-limit*1000/p.rate+1) * time.Millisecond)
	}
}
