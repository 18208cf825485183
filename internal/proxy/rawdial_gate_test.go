//go:build linux

package proxy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
)

// sockets counts this process's open sockets (/proc/self/fd links that
// read socket:[...]).
func sockets(t *testing.T) int {
	t.Helper()
	return openFDs(t, func(target string) bool { return strings.HasPrefix(target, "socket:") })
}

// TestWebSocketUpstreamLeavesDefaultPoller: a WebSocket's upstream socket
// is dialled raw (netpoll.Dial) and, once the tunnel's event loop relays
// it, is no longer in the process's Default poller, where each message
// would wake a loop for nothing. When the tunnels end, every socket they
// held is closed (the tunnel closed the one descriptor the dial made).
func TestWebSocketUpstreamLeavesDefaultPoller(t *testing.T) {
	pl, err := netpoll.Default()
	if err != nil {
		t.Skip("no event loop on this system")
	}
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := startGate(t, wsUpgradeConf, map[string]string{"b": be.Addr})
	open := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatalf("dialing wsgate: %v", err)
		}
		br := upgradeWS(t, c)
		if _, err := c.Write([]byte{0x81, 0x81, 1, 2, 3, 4, 'a' ^ 1}); err != nil {
			t.Fatalf("writing message: %v", err)
		}
		var f [3]byte
		if _, err := io.ReadFull(br, f[:]); err != nil || f != [3]byte{0x81, 1, 'a'} {
			t.Fatalf("got % x, %v; want 81 01 61", f, err)
		}
		return c
	}
	open().Close() // the gate's workers, listeners and loops are there
	proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 })
	base, baseSockets := pl.Registered(), sockets(t)
	const n = 4
	var cs []net.Conn
	for range n {
		cs = append(cs, open())
	}
	if got := pl.Registered(); got > base {
		t.Errorf("with %d tunnels open, the Default poller holds %d registrations; want at most %d, as before", n, got, base)
	}
	for _, c := range cs {
		c.Close()
	}
	var got int
	proxytest.Poll(15*time.Second, func() bool {
		got = sockets(t)
		return got <= baseSockets && g.srv.Tunnels().Len() == 0
	})
	if got > baseSockets {
		t.Errorf("after the tunnels ended: %d sockets; want at most %d, as before", got, baseSockets)
	}
}

// TestWebSocketUpstreamBind: with proxy_bind, a WebSocket's upstream
// socket (dialled raw) comes from the address it names, as nginx's does.
func TestWebSocketUpstreamBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	peers := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			peers <- host
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 {
						break
					}
				}
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				io.Copy(c, br)
			}()
		}
	}()
	g := startGate(t, `
server { listen {{listen}};
  location / {
    proxy_bind 127.0.0.2;
    proxy_pass http://{{b}};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
  }
}`, map[string]string{"b": ln.Addr().String()})
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := upgradeWS(t, c)
	if from := <-peers; from != "127.0.0.2" {
		t.Errorf("the upstream saw the tunnel come from %s; want 127.0.0.2 (proxy_bind)", from)
	}
	frame := []byte{0x81, 0x81, 1, 2, 3, 4, 'a' ^ 1}
	c.Write(frame)
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, frame) {
		t.Fatalf("relayed % x, %v; want % x back", got, err, frame)
	}
}

// TestKeepaliveUpstreamWaitsInLoops: a plain HTTP request's upstream
// socket, kept alive in the upstream's cache, is dialled raw and waits
// for the answer in the Default poller's loops beside the client's raw
// socket, not in Go's poller: with the two apart, new requests went
// ahead of answers already there and the cache of "keepalive 32" dialled
// for a quarter of the requests under 64 clients.
func TestKeepaliveUpstreamWaitsInLoops(t *testing.T) {
	pl, err := netpoll.Default()
	if err != nil {
		t.Skip("no event loop on this system")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	got := make(chan struct{}, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) == 2 {
				break
			}
		}
		got <- struct{}{}
		<-release
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		io.Copy(io.Discard, c)
	}()
	g := startGate(t, `
upstream u { server {{b}}; keepalive 4; }
server { listen {{listen}};
  location / {
    proxy_pass http://u;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
  }
}`, map[string]string{"b": ln.Addr().String()})
	base := pl.Registered()
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	// A fresh connection with nothing to read is parked in a loop.
	if !proxytest.Poll(10*time.Second, func() bool { return pl.Registered() >= base+1 }) {
		t.Fatalf("the idle client connection is not parked in a loop")
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream got no request")
	}
	// The client's socket stays in its loop; the upstream's waits for
	// the answer in one too.
	ok := proxytest.Poll(5*time.Second, func() bool { return pl.Registered() >= base+2 })
	n := pl.Registered()
	close(release)
	resp, err := bufio.NewReader(c).ReadString('k')
	if err != nil || !strings.HasPrefix(resp, "HTTP/1.1 200 ") {
		t.Fatalf("got %q, %v; want a 200", resp, err)
	}
	if !ok {
		t.Errorf("while the upstream's answer was awaited the Default poller held %d registrations, %d before the client's; want the client's and the upstream's", n, base)
	}
}
