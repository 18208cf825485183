package proxy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
)

// fixedBackend answers every request on a connection with resp, reading
// heads without allocating per request.
func fixedBackend(b *testing.B, resp string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				close := false
				for {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if bytes.EqualFold(line, []byte("connection: close\r\n")) {
							close = true
						}
						if len(line) == 2 {
							break
						}
					}
					if _, err := io.WriteString(c, resp); err != nil || close {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkGateGET is one keep-alive GET through the proxy, with an
// upstream keepalive pool (pooled) and with nginx's default HTTP/1.0 and
// Connection: close (dial per request).
func BenchmarkGateGET(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	be := fixedBackend(b, resp)
	for _, tc := range []struct{ name, loc string }{
		{"pooled", `proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pool;`},
		{"default", `proxy_pass http://{{b}};`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := startBenchGate(b, `
upstream pool { server {{b}}; keepalive 8; }
server { listen {{listen}}; keepalive_requests 100000000; location / { `+tc.loc+` } }`, be)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
			get := func() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				cl := 0
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						b.Fatal(err)
					}
					if bytes.HasPrefix(line, []byte("Content-Length: ")) {
						cl = int(line[16] - '0')
					}
					if len(line) == 2 {
						break
					}
				}
				if _, err := br.Discard(cl); err != nil {
					b.Fatal(err)
				}
			}
			for range 100 {
				get()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				get()
			}
		})
	}
}
