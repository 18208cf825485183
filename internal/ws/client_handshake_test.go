package ws

import (
	"bufio"
	"strings"
	"testing"

	"wsgate/internal/http1"
)

// TestCheckClientRequest checks a client's opening handshake as a server must
// (RFC 6455 4.2.1): 400 for a malformed one, 426 for a version other than
// 13 (4.2.2, 4.4).
func TestCheckClientRequest(t *testing.T) {
	const valid = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	edit := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	tests := []struct {
		desc       string
		line       string // request line
		head       string // header lines after Host
		wantStatus int    // 0: accepted
	}{
		{desc: "valid", line: "GET / HTTP/1.1", head: valid},
		{desc: "upper-case tokens", line: "GET / HTTP/1.1", head: edit("Upgrade: websocket", "Upgrade: WebSocket")},
		{desc: "connection split over two lines", line: "GET / HTTP/1.1", head: edit("Connection: keep-alive, Upgrade", "Connection: keep-alive\r\nConnection:  upgrade ")},
		{desc: "POST", line: "POST / HTTP/1.1", head: valid, wantStatus: 400},
		{desc: "HTTP/1.0", line: "GET / HTTP/1.0", head: valid, wantStatus: 400},
		{desc: "no upgrade", line: "GET / HTTP/1.1", head: edit("Upgrade: websocket\r\n", ""), wantStatus: 400},
		{desc: "upgrade h2c", line: "GET / HTTP/1.1", head: edit("Upgrade: websocket", "Upgrade: h2c"), wantStatus: 400},
		{desc: "connection without upgrade", line: "GET / HTTP/1.1", head: edit("Connection: keep-alive, Upgrade", "Connection: keep-alive"), wantStatus: 400},
		{desc: "connection upgrades is not upgrade", line: "GET / HTTP/1.1", head: edit("Connection: keep-alive, Upgrade", "Connection: upgrades"), wantStatus: 400},
		{desc: "no key", line: "GET / HTTP/1.1", head: edit("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), wantStatus: 400},
		{desc: "key of 15 bytes", line: "GET / HTTP/1.1", head: edit("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAA"), wantStatus: 400},
		{desc: "key not base64", line: "GET / HTTP/1.1", head: edit("dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!=="), wantStatus: 400},
		{desc: "two keys", line: "GET / HTTP/1.1", head: valid + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", wantStatus: 400},
		{desc: "version 8", line: "GET / HTTP/1.1", head: edit("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), wantStatus: 426},
		{desc: "no version", line: "GET / HTTP/1.1", head: edit("Sec-WebSocket-Version: 13\r\n", ""), wantStatus: 426},
		{desc: "two versions", line: "GET / HTTP/1.1", head: valid + "Sec-WebSocket-Version: 13\r\n", wantStatus: 426},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			raw := tt.line + "\r\nHost: a\r\n" + tt.head + "\r\n"
			cfg := http1.DefaultHeadConfig()
			var req http1.Request
			if err := http1.ParseRequestHead(bufio.NewReader(strings.NewReader(raw)), &cfg, &req); err != nil {
				t.Fatalf("parsing %q: %v", raw, err)
			}
			status, reason := CheckClientRequest(&req.Request)
			if status != tt.wantStatus {
				t.Fatalf("got %d (%s); want %d", status, reason, tt.wantStatus)
			}
			if status != 0 && reason == "" {
				t.Errorf("got status %d without a reason", status)
			}
		})
	}
}
