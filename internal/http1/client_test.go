package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestReadResponseHead(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		head    bool
		status  int
		line    string
		cl      int64
		chunked bool
		close   bool
		err     error
	}{
		{name: "ok", raw: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-A: b\r\n\r\nhello\n", status: 200, line: "200 OK", cl: 6},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", status: 200, line: "200 OK", cl: -1, chunked: true},
		{name: "close delimited 1.0", raw: "HTTP/1.0 200 OK\r\n\r\n", status: 200, line: "200 OK", cl: -1, close: true},
		{name: "no reason", raw: "HTTP/1.1 204\r\n\r\n", status: 204, line: "204", cl: 0},
		{name: "head", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", head: true, status: 200, line: "200 OK", cl: 0},
		{name: "304", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, line: "304 Not Modified", cl: 0},
		{name: "101", raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", status: 101, line: "101 Switching Protocols", cl: 0},
		{name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 200, line: "200 OK", cl: 0, close: true},
		{name: "IIS dup status line", raw: "HTTP/1.1 200 OK\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, line: "200 OK", cl: 0},
		{name: "garbage", raw: "hello world\r\n\r\n", err: ErrInvalidHeader},
		{name: "HTTP/2", raw: "HTTP/2.0 200 OK\r\n\r\n", err: ErrInvalidHeader},
		{name: "bad code", raw: "HTTP/1.1 20x OK\r\n\r\n", err: ErrInvalidHeader},
		{name: "bad header", raw: "HTTP/1.1 200 OK\r\nX Y: z\r\n\r\n", err: ErrInvalidHeader},
		{name: "dup CL", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", err: ErrInvalidHeader},
		{name: "CL and TE", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrInvalidHeader},
		{name: "TE gzip", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: ErrInvalidHeader},
		{name: "too big", raw: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", err: ErrHeaderTooBig},
		{name: "truncated", raw: "HTTP/1.1 200 OK\r\nX: 1\r\n", err: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := new(Response)
			err := resp.ReadHead(bufio.NewReader(strings.NewReader(tt.raw)), 4096)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("got %v; want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cl, ch := resp.BodyFraming(tt.head)
			if resp.Status != tt.status || string(resp.StatusLine) != tt.line || cl != tt.cl || ch != tt.chunked || resp.ConnectionClose != tt.close {
				t.Fatalf("got %d %q cl=%d chunked=%v close=%v; want %d %q %d %v %v",
					resp.Status, resp.StatusLine, cl, ch, resp.ConnectionClose, tt.status, tt.line, tt.cl, tt.chunked, tt.close)
			}
		})
	}
}

func TestResponseBodies(t *testing.T) {
	tests := []struct {
		name, raw, want, trailer string
		err                      bool
	}{
		{name: "length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", want: "hello"},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1 ; a=b\r\n!\r\n0\r\nX-T: v\r\n\r\n", want: "hello!", trailer: "X-T=v"},
		{name: "eof", raw: "HTTP/1.0 200 OK\r\n\r\nuntil close", want: "until close"},
		{name: "short length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", err: true},
		{name: "bad trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX T: v\r\n\r\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.raw))
			resp := new(Response)
			err := resp.ReadHead(br, 0)
			if err != nil {
				t.Fatal(err)
			}
			var b Body
			cl, ch := resp.BodyFraming(false)
			b.Reset(br, cl, ch)
			got, err := io.ReadAll(&b)
			if tt.err {
				if err == nil {
					t.Fatalf("got %q, nil; want an error", got)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			var tr string
			for _, h := range b.Trailers {
				tr += string(h.Name) + "=" + string(h.Value)
			}
			if tr != tt.trailer || !b.Done() {
				t.Fatalf("got trailers %q done=%v; want %q true", tr, b.Done(), tt.trailer)
			}
		})
	}
}

// TestResponseBareCRAnsweredAtOnce: an upstream head with a CR followed by
// anything but LF is invalid at that byte (nginx's ngx_http_parse_status_line
// and ngx_http_parse_header_line: 502 at once), also when no LF ever comes.
// The upstream here sends the bytes and then keeps its connection open.
func TestResponseBareCRAnsweredAtOnce(t *testing.T) {
	tests := []struct {
		name, raw string
		err       error
	}{
		{name: "status text", raw: "HTTP/1.1 200 OK\rX", err: ErrInvalidHeader},
		{name: "status code", raw: "HTTP/1.1 20\r0 OK", err: ErrInvalidHeader},
		{name: "status CR CR", raw: "HTTP/1.1 200 OK\r\r", err: ErrInvalidHeader},
		{name: "header value", raw: "HTTP/1.1 200 OK\r\nX-A: b\rc", err: ErrInvalidHeader},
		{name: "header name", raw: "HTTP/1.1 200 OK\r\nX-A\rb", err: ErrInvalidHeader},
		{name: "header CR CR LF is a line end", raw: "HTTP/1.1 200 OK\r\nX-A: b\r\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go pw.Write([]byte(tt.raw))
			done := make(chan error, 1)
			go func() { done <- new(Response).ReadHead(bufio.NewReader(pr), 4096) }()
			select {
			case err := <-done:
				if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
					t.Fatalf("got %v; want %v", err, tt.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadHead still waits for an LF after a bare CR")
			}
		})
	}
}
