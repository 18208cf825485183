package wse2e

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// TestSendTimeout: proxy_send_timeout bounds only a blocked write to the
// upstream (ngx_http_upstream_process_upgraded arms it while the write is
// not done): an idle tunnel outlives it, a backend that stops reading
// while the client keeps sending ends the tunnel soon after it.
func TestSendTimeout(t *testing.T) {
	t.Parallel()
	t.Run("idle outlives it", func(t *testing.T) {
		t.Parallel()
		addr := newRawWSBackend(t, func(c net.Conn, br *bufio.Reader) {
			_, _, p, err := readFrame(br)
			if err == nil {
				c.Write(serverFrame(1, p))
			}
			io.Copy(io.Discard, br)
		})
		g := startGate(t, seedConf, map[string]string{"WS": addr, "EXTRA_WS": "proxy_send_timeout 1s;"})
		c := upgradeRaw(t, g, "/ws/st")
		time.Sleep(2500 * time.Millisecond) // the idle time past proxy_send_timeout is the case
		c.send(t, string(frame(true, 1, []byte("alive"))))
		if _, op, p, err := readFrame(c.br); err != nil || op != 1 || string(p) != "alive" {
			t.Fatalf("after 2.5 s idle with proxy_send_timeout 1s: got op %d %q %v; want the echo", op, p, err)
		}
	})
	t.Run("stalled backend", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		addr := newRawWSBackend(t, func(c net.Conn, br *bufio.Reader) {
			c.(*net.TCPConn).SetReadBuffer(4096)
			<-stop // never reads
		})
		t.Cleanup(func() { close(stop) }) // before the backend's Close, which waits for this function
		g := startGate(t, seedConf, map[string]string{"WS": addr, "EXTRA_WS": "proxy_send_timeout 1s;"})
		c := upgradeRaw(t, g, "/ws/st")
		start := time.Now()
		ended := make(chan time.Duration, 1)
		go func() {
			io.Copy(io.Discard, c.br)
			ended <- time.Since(start)
		}()
		big := frame(true, 2, make([]byte, 1<<20))
		go func() {
			for i := 0; i < 64; i++ {
				c.SetWriteDeadline(time.Now().Add(20 * time.Second))
				if _, err := c.Write(big); err != nil {
					return
				}
			}
		}()
		select {
		case d := <-ended:
			t.Logf("tunnel ended %v after the client started sending", d)
			if d < time.Second {
				t.Errorf("tunnel ended after %v; want no sooner than proxy_send_timeout 1s", d)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("tunnel still open 15 s after the backend stopped reading; want it ended by proxy_send_timeout 1s")
		}
	})
}
