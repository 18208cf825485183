package wse2e

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// newRawWSBackend starts a backend that completes each WebSocket handshake
// by hand and then runs behave on the connection (br holds what the peer
// sent after its head).
func newRawWSBackend(t testing.TB, behave func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		req, err := proxytest.ReadRequest(br)
		if err != nil {
			return
		}
		key, _ := req.Get("Sec-WebSocket-Key")
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+proxytest.AcceptKey(key)+"\r\n\r\n")
		behave(c, br)
	}).Addr
}

// serverFrame is an unmasked frame from a backend.
func serverFrame(op byte, p []byte) []byte {
	out := []byte{0x80 | op, byte(len(p))}
	return append(out, p...)
}

// frameEvent is one frame or the end of a raw client's stream.
type frameEvent struct {
	at      time.Duration
	op      byte
	payload []byte
	err     error
}

// readFrames reads frames from c until an error, sending each on the
// returned channel.
func readFrames(c *rawConn, start time.Time) <-chan frameEvent {
	ch := make(chan frameEvent, 64)
	go func() {
		defer close(ch)
		for {
			_, op, p, err := readFrame(c.br)
			ch <- frameEvent{at: time.Since(start), op: op, payload: p, err: err}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

func upgradeRaw(t testing.TB, g *gate, path string) *rawConn {
	t.Helper()
	c := dialRaw(t, g.addr)
	c.send(t, handshake(path))
	if r := c.response(t, "GET"); r.Status != 101 {
		t.Fatalf("got status %d; want 101", r.Status)
	}
	return c
}

// TestIdleTimeout: proxy_read_timeout 1s closes an idle tunnel with Close
// 1001 after about a second and not before; traffic in either direction
// re-arms it (ngx_http_upstream_process_upgraded re-arms the upstream read
// timer after events on either side).
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	swallow := func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) }
	talker := func(c net.Conn, br *bufio.Reader) {
		go io.Copy(io.Discard, br)
		for i := 0; i < 5; i++ {
			time.Sleep(400 * time.Millisecond) // the pace is the case: a frame before each 1 s timeout
			if _, err := c.Write(serverFrame(1, []byte("tick"))); err != nil {
				return
			}
		}
		io.Copy(io.Discard, br)
	}
	for _, tc := range []struct {
		name       string
		backend    func(net.Conn, *bufio.Reader)
		clientTalk bool
		minClose   time.Duration // the Close must not come before
	}{
		{"idle", swallow, false, 900 * time.Millisecond},
		{"client traffic re-arms", swallow, true, 2500 * time.Millisecond},
		{"upstream traffic re-arms", talker, false, 2500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startGate(t, seedConf, map[string]string{"WS": newRawWSBackend(t, tc.backend), "READ_TIMEOUT": "1s"})
			c := upgradeRaw(t, g, "/ws/idle")
			start := time.Now()
			frames := readFrames(c, start)
			if tc.clientTalk {
				for i := 0; i < 5; i++ {
					time.Sleep(400 * time.Millisecond) // the pace is the case, as the talker's
					c.Write(frame(true, 1, []byte("tock")))
				}
			}
			var closeAt time.Duration
			code := 0
			for ev := range frames {
				if ev.err != nil {
					break
				}
				if ev.op == 8 {
					closeAt, code = ev.at, closeCode(ev.payload)
					c.Write(frame(true, 8, ev.payload))
					break
				}
			}
			if code != 1001 {
				t.Fatalf("got close code %d; want 1001", code)
			}
			t.Logf("close %d after %v", code, closeAt)
			if closeAt < tc.minClose || closeAt > tc.minClose+3*time.Second {
				t.Errorf("close after %v; want between %v and %v", closeAt, tc.minClose, tc.minClose+3*time.Second)
			}
		})
	}
}

// TestLongReadTimeout: the seed's proxy_read_timeout 86400 keeps an idle
// tunnel open (here for 3 s) and it still echoes.
func TestLongReadTimeout(t *testing.T) {
	t.Parallel()
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := upgradeRaw(t, g, "/ws/long")
	time.Sleep(3 * time.Second) // the idle time is the case
	c.send(t, string(frame(true, 1, []byte("still here"))))
	_, op, p, err := readFrame(c.br)
	if err != nil || op != 1 || string(p) != "still here" {
		t.Fatalf("after 3 s idle: got op %d %q %v; want the echo", op, p, err)
	}
}

// TestBackendDiesMidMessage: the client gets a Close (1014) or EOF, not a
// hang.
func TestBackendDiesMidMessage(t *testing.T) {
	t.Parallel()
	be := proxytest.NewAbrupt(t, proxytest.ResetMidMessage)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := upgradeRaw(t, g, "/ws/die")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The first 5 bytes are a partial frame header + payload; whatever
	// arrives, the stream must end (Close frame or EOF), not time out.
	buf := make([]byte, 4096)
	var got []byte
	for {
		n, err := c.br.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("client hung: no Close or EOF within 10 s (got %q)", got)
			}
			break
		}
	}
	t.Logf("client got %q then EOF", got)
}

// TestClientDies: the backend sees the end of a client that vanished.
func TestClientDies(t *testing.T) {
	t.Parallel()
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := upgradeRaw(t, g, "/ws/gone")
	c.send(t, string(frame(true, 1, []byte("x"))))
	readFrame(c.br)
	c.Close()
	e := be.nextEnd(t, 10*time.Second)
	t.Logf("backend saw code %d (%v)", e.Code, e.Err)
	if e.Code != 1001 && e.Code != -1 {
		t.Errorf("backend saw close code %d; want 1001 (client went away) or an end without Close", e.Code)
	}
}
