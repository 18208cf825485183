package proxytest

import (
	"bufio"
	"bytes"
	"net"
	"testing"
)

// NewFixed starts a backend that answers every request with the raw bytes
// of response, as given ("" means DefaultResponse), and records nothing:
// it reads each head line by line in place and skips a Content-Length
// body without copying it, so a benchmark that counts allocations sees
// only the proxy's. A connection serves requests one after the other
// until the peer closes it or sends "Connection: close" (that exact
// line, any case), after which the backend closes it once it has
// answered. Chunked request bodies are not supported; use NewRecording.
func NewFixed(t testing.TB, response string) *Backend {
	t.Helper()
	if response == "" {
		response = DefaultResponse
	}
	resp := []byte(response)
	return start(t, func(b *Backend, c net.Conn, id int) {
		br := bufio.NewReaderSize(c, 4096)
		for {
			closing, length, ok := skipHead(br)
			if !ok {
				return
			}
			if length > 0 {
				if _, err := br.Discard(int(length)); err != nil {
					return
				}
			}
			if _, err := c.Write(resp); err != nil || closing {
				return
			}
		}
	})
}

var (
	connectionClose  = []byte("connection: close\r\n")
	contentLengthKey = []byte("content-length:")
)

// skipHead reads one request head from br without allocating and returns
// whether it had "Connection: close" and its Content-Length (0 when none
// or unparsable). ok is false at end of input or on a read error.
func skipHead(br *bufio.Reader) (closing bool, length int64, ok bool) {
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false, 0, false
		}
		if len(line) <= 2 && !first {
			return closing, length, true
		}
		switch {
		case bytes.EqualFold(line, connectionClose):
			closing = true
		case len(line) > len(contentLengthKey) && bytes.EqualFold(line[:len(contentLengthKey)], contentLengthKey):
			length = 0
			for _, ch := range bytes.TrimSpace(line[len(contentLengthKey):]) {
				if ch < '0' || ch > '9' || length > 1<<40 {
					length = 0
					break
				}
				length = length*10 + int64(ch-'0')
			}
		}
	}
}

// NewFunc starts a backend whose every connection is served by serve,
// which gets the connection and a reader over it and owns both until it
// returns; the connection is closed after that. serve must return once c
// is closed (Close closes every open connection and waits for serve to
// return): one that waits on something else must be released before, by
// a t.Cleanup registered after NewFunc (cleanups run last first). It
// must not call t.Fatal: it runs on its own goroutine. It
// is for the backends a test writes byte by byte (a hand-made 101, a
// body of a given size, writes paced on purpose). Accepted and Open count
// its connections; it records no requests.
func NewFunc(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) *Backend {
	t.Helper()
	return start(t, func(b *Backend, c net.Conn, id int) {
		serve(c, bufio.NewReader(c))
	})
}
