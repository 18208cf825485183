package proxy_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// limitConnConf is TestLimitConnTunnel's http block; {{listen}} and
// {{b}} are the listening address and the WebSocket backend.
const limitConnConf = `
access_log off;
limit_conn_zone $binary_remote_addr zone=one:1m;
server { listen {{listen}};
  location /ws {
    limit_conn one 1;
    proxy_pass http://{{b}};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
  }
}`

// TestLimitConnTunnel checks, against real nginx and wsgate alike, that
// limit_conn counts a WebSocket for as long as its tunnel lives (nginx
// frees the upgraded request, and its count, when the connection
// closes): with "limit_conn one 1" a second handshake from the same
// client, and a plain request to the location, are refused while the
// first tunnel is open, and a handshake goes through once it has closed.
func TestLimitConnTunnel(t *testing.T) {
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	targets := []struct {
		name  string
		start func(t *testing.T, conf string) string
	}{
		{"nginx", func(t *testing.T, conf string) string {
			proxytest.NeedNginx(t)
			addr := proxytest.FreeAddr(t)
			return proxytest.StartNginx(t, gatetest.HTTP(strings.ReplaceAll(strings.ReplaceAll(conf, "access_log off;", ""), "{{listen}}", addr))).Addr
		}},
		{"wsgate", func(t *testing.T, conf string) string {
			return gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{}).Addr
		}},
	}
	const hs = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			addr := tg.start(t, strings.ReplaceAll(limitConnConf, "{{b}}", be.Addr))
			first, status := handshake(t, addr, hs)
			if status != 101 {
				t.Fatalf("first handshake: got %d; want 101", status)
			}
			for i, req := range []string{hs, "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n"} {
				c, status := handshake(t, addr, req)
				c.Close()
				if status != 503 {
					t.Fatalf("request %d while the first tunnel is open: got %d; want 503", i+2, status)
				}
			}
			first.Close()
			proxytest.Eventually(t, 10*time.Second, func() bool {
				c, status := handshake(t, addr, hs)
				c.Close()
				return status == 101
			}, "no handshake went through after the first tunnel closed")
		})
	}
}

// handshake sends req on a new connection to addr and returns the
// connection and the answer's status.
func handshake(t *testing.T, addr, req string) (net.Conn, int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || len(line) < 12 {
		c.Close()
		t.Fatalf("reading the answer: %q %v", line, err)
	}
	status := 0
	for _, ch := range line[9:12] {
		status = status*10 + int(ch-'0')
	}
	return c, status
}
