package proxy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
)

// TestIdleTunnelsPark: with the default ParkAfter (1s), both directions of
// an idle tunnel through the proxy are parked in the registry's Parker (no
// goroutine, no buffer), and a message after the park still goes through
// both ways.
func TestIdleTunnelsPark(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := startGate(t, wsUpgradeConf, map[string]string{"b": be.Addr})
	const n = 3
	type wsClient struct {
		c  net.Conn
		br *bufio.Reader
	}
	echo := func(t *testing.T, w wsClient, payload byte) {
		t.Helper()
		if _, err := w.c.Write([]byte{0x81, 0x81, 1, 2, 3, 4, payload ^ 1}); err != nil {
			t.Fatalf("writing message: %v", err)
		}
		var f [3]byte
		if _, err := io.ReadFull(w.br, f[:]); err != nil || f != [3]byte{0x81, 1, payload} {
			t.Fatalf("got % x, %v; want 81 01 %02x", f, err, payload)
		}
	}
	var cs []wsClient
	for range n {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatalf("dialing wsgate: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: "+benchKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		br := bufio.NewReader(c)
		line, err := br.ReadSlice('\n')
		if err != nil || !bytes.HasPrefix(line, []byte("HTTP/1.1 101 ")) {
			t.Fatalf("got %q, %v; want a 101", line, err)
		}
		for len(line) != 2 {
			if line, err = br.ReadSlice('\n'); err != nil {
				t.Fatalf("reading 101 head: %v", err)
			}
		}
		w := wsClient{c: c, br: br}
		echo(t, w, 'a')
		cs = append(cs, w)
	}
	reg := g.srv.Tunnels()
	waitParked := func(want int) {
		t.Helper()
		if !proxytest.Poll(10*time.Second, func() bool { return reg.Parked() == want }) {
			t.Fatalf("got %d parked directions; want %d", reg.Parked(), want)
		}
	}
	waitParked(2 * n)
	for _, w := range cs {
		echo(t, w, 'b')
	}
	waitParked(2 * n)
	if got := reg.Len(); got != n {
		t.Fatalf("got %d live tunnels; want %d", got, n)
	}
}
