package http1

import (
	"io"
	"strings"
	"testing"
)

// tagFilter is a head filter that appends "X-Filtered: <status>" and, for
// 200, a trailer.
type tagFilter struct{ heads, trailers int }

func (f *tagFilter) FilterHead(buf []byte, start, _, status int) []byte {
	f.heads++
	head := string(buf[start:])
	head = strings.TrimSuffix(head, "\r\n") + "X-Filtered: " + itoa(status) + "\r\n\r\n"
	return append(buf[:start], head...)
}
func (f *tagFilter) ExpectTrailers(status int) bool { return status == 200 }
func (f *tagFilter) AppendTrailers(dst []byte, status int) []byte {
	f.trailers++
	return append(dst, "X-T: 1\r\n"...)
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestServeHeadFilter: every head goes through the filter (a written
// one, an error page, a composed one); trailers make a known length
// chunked on HTTP/1.1 only, are added once, and $bytes_sent counts them
// before the response ends.
func TestServeHeadFilter(t *testing.T) {
	tests := []struct {
		desc, req string
		serve     func(w *ResponseWriter)
		want      string
	}{
		{
			desc: "known length made chunked for trailers",
			req:  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			serve: func(w *ResponseWriter) {
				w.WriteHeader(200, "", 5)
				io.WriteString(w, "hello")
			},
			want: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Filtered: 200\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		},
		{
			desc: "HTTP/1.0 keeps the length and gets no trailers",
			req:  "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
			serve: func(w *ResponseWriter) {
				w.WriteHeader(200, "", 5)
				io.WriteString(w, "hello")
			},
			want: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nX-Filtered: 200\r\n\r\nhello",
		},
		{
			desc:  "an error page",
			req:   "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			serve: func(w *ResponseWriter) { w.WriteError(404) },
			want:  "X-Filtered: 404\r\n\r\n<html>",
		},
		{
			desc: "a composed head",
			req:  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			serve: func(w *ResponseWriter) {
				w.WriteComposedHeader(204, -1, func(dst []byte, f Framing) []byte {
					return append(dst, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"...)
				})
			},
			want: "HTTP/1.1 204 No Content\r\nConnection: close\r\nX-Filtered: 204\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			type seen struct {
				f               tagFilter
				sent, sentAgain int64
			}
			done := make(chan seen, 1)
			addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
				f := &tagFilter{}
				w.SetHeadFilter(f)
				tc.serve(w)
				sent, sentAgain := w.BytesSent(), w.BytesSent()
				done <- seen{*f, sent, sentAgain}
			})
			out := roundTrip(t, addr, tc.req, false)
			got := <-done
			f, sent, sentAgain := got.f, got.sent, got.sentAgain
			if !strings.Contains(out, tc.want) {
				t.Fatalf("got\n%q\nwant it to contain\n%q", out, tc.want)
			}
			if f.heads != 1 || f.trailers > 1 {
				t.Errorf("got %d heads and %d trailer calls; want 1 and at most 1", f.heads, f.trailers)
			}
			if sent != int64(len(out)) || sentAgain != sent {
				t.Errorf("BytesSent before the end = %d, then %d; want %d (all bytes sent)", sent, sentAgain, len(out))
			}
		})
	}
}
