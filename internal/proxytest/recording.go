package proxytest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

// DefaultResponse is what a recording backend answers when given "".
const DefaultResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"

// NewRecording starts a backend that parses each request itself, records
// it (see Request) and answers with the raw bytes of response, written as
// given ("" means DefaultResponse). See NewRecordingFunc for the
// connection rules.
func NewRecording(t testing.TB, response string) *Backend {
	t.Helper()
	if response == "" {
		response = DefaultResponse
	}
	return NewRecordingFunc(t, func(*Request) []byte { return []byte(response) })
}

// NewRecordingFunc starts a recording backend whose answer to each request
// is respond(req), written raw. A connection serves requests one after the
// other (HTTP/1.1 keep-alive, HTTP/1.0 with "Connection: keep-alive") and
// is closed after a response when:
//   - the request was HTTP/1.0 without "Connection: keep-alive", or had
//     "Connection: close";
//   - the response has a "Connection: close" header, has no framing (its
//     body runs to close), or cannot be parsed as a response.
//
// A 101 response turns the connection into an echo tunnel: every byte the
// peer sends afterwards (including bytes it pipelined after the request)
// is written back until the peer closes.
func NewRecordingFunc(t testing.TB, respond func(*Request) []byte) *Backend {
	t.Helper()
	return start(t, func(b *Backend, c net.Conn, id int) {
		br := bufio.NewReader(c)
		seq := 0
		for {
			req := b.readNext(br, id, &seq)
			if req == nil {
				return
			}
			resp := respond(req)
			if _, err := c.Write(resp); err != nil {
				return
			}
			parsed, err := ReadResponse(bufio.NewReader(bytes.NewReader(resp)), req.Method)
			if err != nil {
				return
			}
			if parsed.Status == 101 {
				echo(c, br)
				return
			}
			if requestWantsClose(req) || responseCloses(parsed) {
				return
			}
		}
	})
}

// echo writes back everything read from br (which reads c) until EOF.
func echo(c net.Conn, br *bufio.Reader) {
	io.Copy(c, br)
}

func requestWantsClose(r *Request) bool {
	conn, _ := r.Get("Connection")
	tokens := strings.ToLower(conn)
	if strings.Contains(tokens, "close") {
		return true
	}
	return r.Proto != "HTTP/1.1" && !strings.Contains(tokens, "keep-alive")
}

func responseCloses(r *Response) bool {
	if r.ToEOF {
		return true
	}
	conn, _ := r.Get("Connection")
	return strings.Contains(strings.ToLower(conn), "close")
}
