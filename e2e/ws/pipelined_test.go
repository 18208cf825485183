package wse2e

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestPipelinedBytes: bytes the client sent right behind its handshake and
// bytes the backend sent right behind its 101 both cross the tunnel first
// (ngx_http_upstream_upgrade forwards r->header_in and u->buffer).
func TestPipelinedBytes(t *testing.T) {
	got := make(chan string, 1)
	be := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		req, err := proxytest.ReadRequest(br)
		if err != nil {
			return
		}
		key, _ := req.Get("Sec-WebSocket-Key")
		// 101 and a first frame in one write.
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+proxytest.AcceptKey(key)+"\r\n\r\n"+string(serverFrame(1, []byte("early up"))))
		_, _, p, _ := readFrame(br)
		select {
		case got <- string(p):
		default: // a connection after the first: the test reads one
		}
		io.Copy(io.Discard, br)
	})
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := dialRaw(t, g.addr)
	c.send(t, handshake("/ws/p")+string(frame(true, 1, []byte("early client"))))
	if r := c.response(t, "GET"); r.Status != 101 {
		t.Fatalf("got status %d; want 101", r.Status)
	}
	_, op, p, err := readFrame(c.br)
	if err != nil || op != 1 || string(p) != "early up" {
		t.Errorf("first frame from upstream: got op %d %q %v; want text \"early up\"", op, p, err)
	}
	select {
	case s := <-got:
		if s != "early client" {
			t.Errorf("backend's first frame: got %q; want \"early client\"", s)
		}
	case <-time.After(5 * time.Second):
		t.Error("backend got no frame")
	}
}

// TestSeedLocalhost: the seed's "proxy_pass http://localhost:PORT" with the
// backend on 127.0.0.1 only. localhost may also resolve to ::1, where the
// connection is refused and the next address is tried (proxy_next_upstream
// error), so every handshake reaches the backend.
func TestSeedLocalhost(t *testing.T) {
	be := newCtlBackend(t)
	port := be.Addr[strings.LastIndex(be.Addr, ":")+1:]
	g := startGate(t, seedConf, map[string]string{"WS": "localhost:" + port})
	for i := 0; i < 4; i++ {
		c := dial(t, g.url("/ws/l"), nil)
		c.CloseNow()
	}
}

// TestBackendDiesBetweenMessages: an upstream that ends without a Close at
// a frame boundary gets the client a Close 1014 (Bad Gateway) after the
// last whole frame.
func TestBackendDiesBetweenMessages(t *testing.T) {
	for _, reset := range []bool{false, true} {
		name := "FIN"
		if reset {
			name = "RST"
		}
		t.Run(name, func(t *testing.T) {
			addr := newRawWSBackend(t, func(c net.Conn, br *bufio.Reader) {
				c.Write(serverFrame(1, []byte("last words")))
				// The case is a backend that dies after its last frame
				// left: an RST at once could discard it unsent.
				time.Sleep(50 * time.Millisecond)
				if reset {
					c.(*net.TCPConn).SetLinger(0)
				}
			})
			g := startGate(t, seedConf, map[string]string{"WS": addr})
			c := upgradeRaw(t, g, "/ws/d")
			if _, op, p, err := readFrame(c.br); err != nil || op != 1 || string(p) != "last words" {
				t.Fatalf("got op %d %q %v; want text \"last words\"", op, p, err)
			}
			_, op, p, err := readFrame(c.br)
			if err != nil || op != 8 || closeCode(p) != 1014 {
				t.Fatalf("got op %d code %d %v; want Close 1014", op, closeCode(p), err)
			}
		})
	}
}
