package http1

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// parseBoth parses data whole in the buffer, held and line by line, and
// returns a description of each result: error, fields, headers, and the
// bytes left unread.
func parseBoth(t testing.TB, data []byte) (held, lines string) {
	t.Helper()
	describe := func() string {
		cfg := DefaultHeadConfig()
		var req Request
		br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		err := ParseRequestHead(br, &cfg, &req)
		var b strings.Builder
		fmt.Fprintf(&b, "err=%v status=%d method=%q target=%q uri=%q path=%q norm=%q query=%q host=%q proto=%d.%d len=%d ka=%v close=%v exp=%v cl=%d chunked=%v upgrade=%q\n",
			err, StatusOf(err), req.Method, req.RawTarget, req.URI, req.Path, req.NormalizedPath, req.Query, req.Host,
			req.ProtoMajor, req.ProtoMinor, req.HeadLength, req.KeepAlive, req.ConnectionClose, req.Expect100,
			req.ContentLength, req.Chunked, req.Upgrade)
		for _, h := range req.Headers {
			fmt.Fprintf(&b, "%q: %q\n", h.Name, h.Value)
		}
		rest, _ := br.Peek(br.Buffered())
		fmt.Fprintf(&b, "rest=%q", rest)
		return b.String()
	}
	held = describe()
	holdHeads = false
	defer func() { holdHeads = true }()
	return held, describe()
}

// A head whole in the buffer is parsed from one copy of it; what comes
// out (fields, headers, errors, bytes left for the next request) is what
// the line-by-line reading gives.
func TestHeldHeadSameAsLines(t *testing.T) {
	long := "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + strings.Repeat("y", 1100) + "\r\n\r\n"
	tests := []struct {
		name, data string
	}{
		{"plain", "GET /static/1k.bin HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip, deflate\r\n\r\n"},
		{"pipelined", "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"bare LF end before a later CRLF CRLF", "GET /a HTTP/1.1\nHost: a\n\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"},
		{"HTTP/0.9", "GET /\r\nHost: a\r\n\r\n"},
		{"invalid header dropped", "GET / HTTP/1.1\r\nHo st: x\r\nX_Y: z\r\nHost: A.Example.COM:80\r\nB: c\r\n\r\n"},
		{"leading CRLF", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
		{"no host", "GET / HTTP/1.1\r\nA: b\r\n\r\n"},
		{"bad line then more", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\nB: c\r\n\r\n"},
		{"absolute target", "GET http://Example.com:8080/x/../y?q HTTP/1.1\r\nHost: other\r\n\r\n"},
		{"complex uri", "GET /a//b/./c/%2e%2e/d?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{"chunked and length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"},
		{"body after head", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"},
		{"upgrade", "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nExpect: 100-continue\r\n\r\n"},
		{"longer than client_header_buffer_size", long},
		{"head not whole", "GET / HTTP/1.1\r\nHost: a\r\n"},
		{"bad method", "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"HTTP/2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held, lines := parseBoth(t, []byte(tt.data))
			if held != lines {
				t.Errorf("held:\n%s\nline by line:\n%s", held, lines)
			}
		})
	}
}

func FuzzHeldHead(f *testing.F) {
	f.Add([]byte(plainGET))
	f.Add([]byte("GET /a HTTP/1.1\nHost: a\n\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHo st: x\r\nHost: a\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		held, lines := parseBoth(t, data)
		if held != lines {
			t.Errorf("held:\n%s\nline by line:\n%s", held, lines)
		}
	})
}
