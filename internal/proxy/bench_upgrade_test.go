package proxy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	"wsgate/internal/proxytest"
)

// wsLifeBackend answers a WebSocket handshake with a fixed 101 for
// benchKey, then echoes the client's Close frame (unmasked) and closes, as
// a server ends a connection (RFC 6455 7.1.1).
func wsLifeBackend(b *testing.B) string {
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + proxytest.AcceptKey(benchKey) + "\r\n\r\n"
	return proxytest.NewFunc(b, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) == 2 {
				break
			}
		}
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
		var f [8]byte // masked Close 1000: 2 + 4 + 2 bytes
		if _, err := io.ReadFull(br, f[:]); err != nil {
			return
		}
		c.Write([]byte{0x88, 0x02, 0x03, 0xe8})
	}).Addr
}

const benchKey = "dGhlIHNhbXBsZSBub25jZQ=="

// wsUpgradeConf is the tutorial's WebSocket location at the root, the
// upstream at {{b}}.
const wsUpgradeConf = `
server { listen {{listen}};
  location / {
    proxy_pass http://{{b}};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
  }
}`

// BenchmarkGateHandshake is one WebSocket's whole life through the proxy:
// connect, handshake, Close from the client, Close back, close.
func BenchmarkGateHandshake(b *testing.B) {
	be := wsLifeBackend(b)
	addr := startBenchGate(b, wsUpgradeConf, be)
	req := []byte("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + benchKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
	closeFrame := []byte{0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2}
	life := func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReader(c)
		status := true
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if status && !bytes.HasPrefix(line, []byte("HTTP/1.1 101 ")) {
				b.Fatalf("got %q; want a 101", line)
			}
			status = false
			if len(line) == 2 {
				break
			}
		}
		if _, err := c.Write(closeFrame); err != nil {
			b.Fatal(err)
		}
		var f [4]byte
		if _, err := io.ReadFull(br, f[:]); err != nil || f[0] != 0x88 {
			b.Fatalf("got % x, %v; want a Close", f, err)
		}
	}
	for range 20 {
		life()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		life()
	}
}
