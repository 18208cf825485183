package proxy_test

import (
	"bufio"
	"fmt"
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

// TestLimitReqReload checks that a reload keeps a limit_req zone's state
// when the zone is unchanged (nginx keeps a shared memory zone of the same
// name and size), starts afresh when its size changes, and refuses a
// new key for a kept zone, as nginx does, while the running
// configuration keeps serving.
func TestLimitReqReload(t *testing.T) {
	const conf = `access_log off;
limit_req_zone %s zone=one:%s rate=1r/m;
server { listen {{listen}}; add_header X-Other %s; location / { limit_req zone=one; proxy_pass http://%s; } }`
	be := proxytest.NewRecording(t, "")
	g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(conf, "$binary_remote_addr", "1m", "a", be.Addr)), gatetest.Options{})
	get := func() int {
		c, status := handshake(t, g.Addr, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		c.Close()
		return status
	}
	steps := []struct {
		key, size, other string
		reloadErr        bool
		want             []int
	}{
		{"", "", "", false, []int{200, 503}},
		{"$binary_remote_addr", "1m", "b", false, []int{503}},
		{"$remote_addr", "1m", "b", true, []int{503}},
		{"$binary_remote_addr", "2m", "b", false, []int{200, 503}},
	}
	for i, st := range steps {
		if st.key != "" {
			g.Write(gatetest.HTTP(fmt.Sprintf(conf, st.key, st.size, st.other, be.Addr)))
			if err := g.Server.Reload(); (err != nil) != st.reloadErr {
				t.Fatalf("step %d: reload error %v; want an error: %v", i, err, st.reloadErr)
			}
		}
		for j, want := range st.want {
			if got := get(); got != want {
				t.Fatalf("step %d, request %d: got %d; want %d", i, j, got, want)
			}
		}
	}
}
