package wse2e

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestAccessLog: one line per WebSocket session, written when it ends,
// with the $ws_* variables and $upstream_addr.
func TestAccessLog(t *testing.T) {
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := upgradeRaw(t, g, "/ws/log")
	start := time.Now()
	// Client frames: 2+4+5 = 11 and 4+4+200 = 208 bytes; echoes: 7 and 204.
	c.send(t, string(frame(true, 1, []byte("hello"))))
	readFrame(c.br)
	c.send(t, string(frame(true, 2, payload(200, 0))))
	readFrame(c.br)
	// Nothing to wait for: no line may appear while the session lasts.
	proxytest.Consistently(t, 300*time.Millisecond, func() bool { return g.waitLog("/ws/log", 0) == "" },
		"log line before the session ended")
	// Close 1000 from the client (2+4+2 = 8 bytes); the backend echoes
	// it (2+2 = 4 bytes).
	c.send(t, string(frame(true, 8, []byte{0x03, 0xe8})))
	if _, op, p, err := readFrame(c.br); err != nil || op != 8 || closeCode(p) != 1000 {
		t.Fatalf("close echo: got op %d code %d %v; want Close 1000", op, closeCode(p), err)
	}
	// The proxy then closes its side first (RFC 6455 7.1.1: the server
	// closes the TCP connection), and the client closes its own.
	if _, _, _, err := readFrame(c.br); err == nil {
		t.Fatal("a frame after the closing handshake; want EOF")
	}
	c.Close()
	elapsed := time.Since(start)
	line := g.waitLog("/ws/log", 5*time.Second)
	if line == "" {
		t.Fatalf("no log line for the session; log:\n%s", strings.Join(g.logLines(), "\n"))
	}
	f := strings.Split(line, "|")
	if len(f) != 9 {
		t.Fatalf("log line %q: got %d fields; want 9", line, len(f))
	}
	want := map[int]string{
		0: "GET /ws/log HTTP/1.1", 1: "101", 2: "215",
		4: "227", 5: "215", 6: "client", 7: "1000", 8: be.Addr,
	}
	names := []string{"request", "status", "body_bytes_sent", "ws_duration", "ws_bytes_in", "ws_bytes_out", "ws_closed_by", "ws_close_code", "upstream_addr"}
	for i, w := range want {
		if f[i] != w {
			t.Errorf("$%s: got %q; want %q (line %q)", names[i], f[i], w, line)
		}
	}
	d, err := strconv.ParseFloat(f[3], 64)
	if err != nil || d < 0.3 || d > elapsed.Seconds()+1 {
		t.Errorf("$ws_duration: got %q; want between 0.3 and %.3f", f[3], elapsed.Seconds()+1)
	}
	if n := len(g.logLines()); n != 1 {
		t.Errorf("got %d log lines; want 1", n)
	}
}

// TestLeastConnCountsTunnels: least_conn counts open tunnels, so with
// tunnels held on one backend the next handshakes go to the other.
func TestLeastConnCountsTunnels(t *testing.T) {
	a, b := newCtlBackend(t), newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{
		"WS":         "pool",
		"EXTRA_HTTP": "upstream pool { least_conn; server " + a.Addr + "; server " + b.Addr + "; }",
	})
	which := func() (*ctlBackend, func()) {
		na, nb := a.openConns(), b.openConns()
		c := dial(t, g.url("/ws/lc"), nil)
		var got *ctlBackend
		proxytest.Eventually(t, 5*time.Second, func() bool {
			switch {
			case a.openConns() > na:
				got = a
			case b.openConns() > nb:
				got = b
			}
			return got != nil
		}, "tunnel reached neither backend")
		return got, func() { c.CloseNow() }
	}
	// Ten tunnels, then close those on b: a holds its share.
	var onB []func()
	for i := 0; i < 10; i++ {
		if be, closeIt := which(); be == b {
			onB = append(onB, closeIt)
		}
	}
	for _, f := range onB {
		f()
	}
	waitFor(t, "tunnels on b to end", func() bool { return b.openConns() == 0 })
	held := a.openConns()
	if held == 0 {
		t.Fatal("no tunnels held on a")
	}
	for i := 0; i < held; i++ {
		if be, _ := which(); be != b {
			t.Fatalf("handshake %d with %d tunnels on a and %d on b went to a; want b", i, a.openConns()-1, b.openConns())
		}
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	proxytest.Eventually(t, 10*time.Second, cond, "timed out waiting for %s", what)
}

func openFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// TestTunnelLeaks opens and closes 10,000 tunnels in batches; goroutines
// and open files return to their baseline.
func TestTunnelLeaks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	one := func(i int) error {
		c := upgradeRaw(t, g, "/ws/leak")
		defer c.Close()
		c.send(t, string(frame(true, 1, []byte("x"))))
		if _, _, _, err := readFrame(c.br); err != nil {
			return err
		}
		c.send(t, string(frame(true, 8, []byte{0x03, 0xe8})))
		_, _, _, err := readFrame(c.br)
		return err
	}
	one(0)
	waitFor(t, "the first tunnel to end", func() bool { return g.srv.Tunnels().Len() == 0 })
	baseG, baseFD := runtime.NumGoroutine(), openFDs()
	const total, batch = 10000, 500
	for done := 0; done < total; done += batch {
		parallelDo(batch, 64, func(i int) {
			if err := one(done + i); err != nil {
				t.Errorf("tunnel %d: %v", done+i, err)
			}
		})
		if t.Failed() {
			t.FailNow()
		}
	}
	var gs, fds int
	proxytest.Poll(15*time.Second, func() bool {
		gs, fds = runtime.NumGoroutine(), openFDs()
		return gs <= baseG+5 && fds <= baseFD+5 && g.srv.Tunnels().Len() == 0
	})
	t.Logf("goroutines %d (baseline %d), fds %d (baseline %d), live tunnels %d", gs, baseG, fds, baseFD, g.srv.Tunnels().Len())
	if gs > baseG+5 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutines: got %d; want at most %d\n%s", gs, baseG+5, buf[:min(n, 20000)])
	}
	if fds > baseFD+5 {
		t.Errorf("open fds: got %d; want at most %d", fds, baseFD+5)
	}
	if n := g.srv.Tunnels().Len(); n != 0 {
		t.Errorf("live tunnels: got %d; want 0", n)
	}
}
