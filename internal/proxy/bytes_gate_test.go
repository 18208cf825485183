package proxy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// wsOnceBackend answers one WebSocket handshake per connection with a
// 101, a text frame "hello" and a Close frame (1000), then closes once
// the peer's Close has come back.
func wsOnceBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				key := ""
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if k, ok := strings.CutPrefix(strings.ToLower(line), "sec-websocket-key:"); ok {
						key = strings.TrimSpace(line[len(line)-len(k):])
					}
					if line == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n" +
					"Sec-WebSocket-Accept: " + proxytest.AcceptKey(key) + "\r\n\r\n" +
					"\x81\x05hello\x88\x02\x03\xe8"))
				// The client's Close (8 bytes, masked) ends it.
				io.ReadFull(br, make([]byte, 8))
			}()
		}
	}()
	return ln.Addr().String()
}

// TestGateBytesSent: $bytes_sent counts every byte sent to the client for
// the request (a "100 Continue", the head, chunked framing, the body;
// after a 101 the head and all the tunnel relayed), $body_bytes_sent the
// body alone (after a 101, what the tunnel relayed), as nginx logs them.
// The client reads to the end of the connection and compares.
func TestGateBytesSent(t *testing.T) {
	b := proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		if strings.HasPrefix(r.Target, "/chunked") {
			return []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
		}
		return []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	})
	ws := wsOnceBackend(t)
	logPath := filepath.Join(t.TempDir(), "bytes.log")
	g := startGate(t, `
log_format b '$uri $status $bytes_sent $body_bytes_sent';
access_log `+logPath+` b;
server { listen {{listen}};
  location / { proxy_pass http://{{b}}; }
  location /chunked { proxy_http_version 1.1; proxy_pass http://{{b}}; }
  location /ret { return 200 "abc"; }
  location /ws { proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_pass http://{{ws}}; }
}`, map[string]string{"b": b.Addr, "ws": ws})

	tests := []struct {
		desc, path, req string
		body            int64 // $body_bytes_sent
	}{
		{desc: "content-length", path: "/cl", req: "GET /cl HTTP/1.1\nHost: h\nConnection: close\n\n", body: 5},
		{desc: "chunked", path: "/chunked", req: "GET /chunked HTTP/1.1\nHost: h\nConnection: close\n\n", body: 8},
		{desc: "return", path: "/ret", req: "GET /ret HTTP/1.1\nHost: h\nConnection: close\n\n", body: 3},
		{desc: "100 continue", path: "/ret", req: "POST /ret HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 0\nConnection: close\n\n", body: 3},
		{desc: "error page", path: "/ws", req: "GET /ws HTTP/1.0\n\n", body: -1},
		{desc: "websocket", path: "/ws", req: "GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n",
			body: 11},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			before := logLines(logPath)
			c, err := net.Dial("tcp", g.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte(strings.ReplaceAll(tt.req, "\n", "\r\n")))
			var got []byte
			if tt.path == "/ws" && tt.body > 0 {
				// The 101, "hello" and the Close frame; then the client's
				// masked Close ends the tunnel.
				buf := make([]byte, 4096)
				for !bytes.HasSuffix(got, []byte("\x88\x02\x03\xe8")) {
					n, err := c.Read(buf)
					if err != nil {
						t.Fatalf("reading the tunnel: %v after %q", err, got)
					}
					got = append(got, buf[:n]...)
				}
				c.Write([]byte{0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2})
			}
			rest, _ := io.ReadAll(c)
			got = append(got, rest...)
			line := newLogLine(t, logPath, before, tt.path+" ")
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Fatalf("got log line %q; want 4 fields", line)
			}
			want := strconv.Itoa(len(got))
			body := tt.body
			if body < 0 { // an error page: the body is what follows the head
				body = int64(len(got) - bytes.Index(got, []byte("\r\n\r\n")) - 4)
			}
			if f[2] != want || f[3] != strconv.FormatInt(body, 10) {
				t.Errorf("got $bytes_sent %s $body_bytes_sent %s; want %s (all the client received) and %d\n%q", f[2], f[3], want, body, got)
			}
		})
	}
}
