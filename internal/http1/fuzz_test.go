package http1

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

func FuzzRequestHead(f *testing.F) {
	f.Add([]byte(seedHandshake))
	f.Add([]byte(plainGET))
	f.Add([]byte("GET http://h:80/a/../b%2F?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Add([]byte("GET /\r\n"))
	cfg := DefaultHeadConfig()
	var req Request
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ParseRequestHead(bufio.NewReader(bytes.NewReader(data)), &cfg, &req)
		if err != nil {
			return
		}
		// An accepted head upholds the framing invariants the server relies on.
		if req.Chunked && req.ContentLength >= 0 {
			t.Fatalf("accepted both chunked and Content-Length")
		}
		if req.ProtoMajor == 1 && req.ProtoMinor >= 1 && len(req.Host) == 0 && req.Header("Host") == nil {
			t.Fatalf("accepted HTTP/1.1 without Host")
		}
		if bytes.ContainsAny(req.RawTarget, " \r\n\x00") {
			t.Fatalf("target %q holds a separator", req.RawTarget)
		}
		for _, h := range req.Headers {
			if bytes.ContainsAny(h.Name, " \t\r\n:\x00") || bytes.ContainsAny(h.Value, "\r\n\x00") {
				t.Fatalf("header %q: %q holds a separator", h.Name, h.Value)
			}
		}
		if req.HeadLength > len(data) {
			t.Fatalf("HeadLength %d > input %d", req.HeadLength, len(data))
		}
		if len(req.NormalizedPath) == 0 || req.NormalizedPath[0] != '/' {
			if req.ProtoMajor != 0 {
				t.Fatalf("normalized path %q does not start with /", req.NormalizedPath)
			}
		}
	})
}

func FuzzResponseHead(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	var resp Response
	f.Fuzz(func(t *testing.T, data []byte) {
		err := resp.ReadHead(bufio.NewReader(bytes.NewReader(data)), 4096)
		if err != nil {
			return
		}
		if resp.Status < 100 || resp.Status > 999 {
			t.Fatalf("status %d", resp.Status)
		}
		if resp.Chunked && resp.ContentLength >= 0 {
			t.Fatalf("accepted both chunked and Content-Length")
		}
		for _, h := range resp.Headers {
			if bytes.ContainsAny(h.Value, "\r\n\x00") {
				t.Fatalf("value %q holds a separator", h.Value)
			}
		}
	})
}

func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), int64(0))
	f.Add([]byte("1;a=b\r\nx\r\n0\r\nX-T: v\r\n\r\nNEXT"), int64(10))
	f.Add([]byte("fffffffffffffffff\r\n"), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, max int64) {
		br := bufio.NewReader(bytes.NewReader(data))
		var b Body
		b.Reset(br, -1, true)
		if max < 0 {
			max = -max
		}
		b.SetMaxSize(max)
		got, err := io.ReadAll(&b)
		if err != nil {
			return
		}
		if !b.Done() {
			t.Fatalf("EOF without Done")
		}
		if max > 0 && int64(len(got)) > max {
			t.Fatalf("read %d bytes over the limit %d", len(got), max)
		}
		// The body decodes to fewer bytes than it took on the wire, and
		// nothing after the terminating empty line was consumed.
		rest, _ := io.ReadAll(br)
		if len(got)+len(rest) > len(data) {
			t.Fatalf("decoded %d + rest %d > input %d", len(got), len(rest), len(data))
		}
		if !bytes.HasSuffix(data, rest) {
			t.Fatalf("rest is not a suffix of the input")
		}
	})
}
