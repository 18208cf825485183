package wse2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// messageSizes are the payload lengths at the frame header's boundaries
// (RFC 6455 5.2: 7-bit, 16-bit and 64-bit lengths) and one large message.
var messageSizes = []int{0, 125, 126, 65535, 65536, 16 << 20}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i+int(seed))%26
	}
	return b
}

// TestGoClient drives coder/websocket through the seed's /ws/ location.
func TestGoClient(t *testing.T) {
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("sizes", func(t *testing.T) {
		c := dial(t, g.url("/ws/echo"), nil)
		for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
			for _, n := range messageSizes {
				p := payload(n, byte(n))
				if err := c.Write(ctx, typ, p); err != nil {
					t.Fatalf("writing %v %d B: %v", typ, n, err)
				}
				gt, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("reading %v %d B: %v", typ, n, err)
				}
				if gt != typ || !bytes.Equal(got, p) {
					t.Fatalf("%v %d B: got %v of %d B (equal %v); want the same message back", typ, n, gt, len(got), bytes.Equal(got, p))
				}
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("fragmented", func(t *testing.T) {
		c := dial(t, g.url("/ws/echo"), nil)
		w, err := c.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for i := 0; i < 5; i++ {
			p := payload(1000*(i+1), byte(i))
			want = append(want, p...)
			w.Write(p) // each Write is one frame (RFC 6455 5.4)
		}
		w.Close()
		_, got, err := c.Read(ctx)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("fragmented: got %d B, %v; want %d B equal", len(got), err, len(want))
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("ping", func(t *testing.T) {
		c := dial(t, g.url("/ws/echo"), nil)
		c.CloseRead(ctx) // reads the pong
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		defer pcancel()
		if err := c.Ping(pctx); err != nil {
			t.Fatalf("ping through the tunnel: %v", err)
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("client close code", func(t *testing.T) {
		// The earlier subtests' tunnels report their ends before they
		// count out: once none is open, every end of theirs is queued.
		waitFor(t, "earlier tunnels to end", func() bool { return be.openConns() == 0 })
		for len(be.ends) > 0 {
			<-be.ends
		}
		c := dial(t, g.url("/ws/echo"), nil)
		if err := c.Close(4000, "client bye"); err != nil {
			t.Fatalf("closing: %v", err)
		}
		e := be.nextEnd(t, 5*time.Second)
		if e.Code != 4000 || e.Reason != "client bye" {
			t.Errorf("backend saw close %d %q; want 4000 \"client bye\"", e.Code, e.Reason)
		}
	})
	t.Run("server close code", func(t *testing.T) {
		c := dial(t, g.url("/ws/echo"), nil)
		c.Write(ctx, websocket.MessageText, []byte("close:4001:server bye"))
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != 4001 || closeReason(err) != "server bye" {
			t.Errorf("client saw close %d %q (%v); want 4001 \"server bye\"", got, closeReason(err), err)
		}
	})
	t.Run("subprotocol", func(t *testing.T) {
		c := dial(t, g.url("/ws/echo"), &websocket.DialOptions{Subprotocols: []string{"superchat", "chat"}})
		if got := c.Subprotocol(); got != "chat" {
			t.Errorf("subprotocol: got %q; want \"chat\" (the backend's preference)", got)
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("permessage-deflate", func(t *testing.T) {
		ctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
		defer cancel2()
		c, resp, err := websocket.Dial(ctx2, g.url("/ws/echo?deflate"), &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
			t.Errorf("client got extensions %q; want permessage-deflate", ext)
		}
		p := bytes.Repeat([]byte("compressible "), 5000)
		c.Write(ctx, websocket.MessageText, p)
		_, got, err := c.Read(ctx)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("deflate echo: got %d B, %v; want %d B", len(got), err, len(p))
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
}

// TestNodeClient runs e2e/ws/client.mjs (Node's ws) through the gate.
func TestNodeClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	wsMod := filepath.Join("..", "node_modules", "ws")
	if _, err := os.Stat(wsMod); err != nil {
		t.Skip("e2e/node_modules/ws missing (npm install --prefix e2e)")
	}
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	runClient(t, node, "client.mjs", g.url("/ws/echo"))
}

// TestPythonClient runs e2e/ws/client.py (Python websockets, Debian's
// /usr/bin/python3) through the gate.
func TestPythonClient(t *testing.T) {
	py := "/usr/bin/python3"
	if runtime.GOOS != "linux" {
		t.Skip("Debian python3 only")
	}
	if err := exec.Command(py, "-c", "import websockets").Run(); err != nil {
		t.Skip("python3-websockets not installed")
	}
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	runClient(t, py, "client.py", g.url("/ws/echo"))
}

func runClient(t *testing.T, prog, script, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, script, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, script, err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		t.Log(line)
	}
	if !strings.Contains(string(out), "ALL OK") {
		t.Fatalf("%s did not finish:\n%s", script, out)
	}
}

// TestNodeClientNative runs e2e/ws/native.mjs (Node's ws) against
// wsgate's Pings, a message limit and an Origin allowlist.
func TestNodeClientNative(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join("..", "node_modules", "ws")); err != nil {
		t.Skip("e2e/node_modules/ws missing (npm install --prefix e2e)")
	}
	be := newCtlBackend(t)
	locs := strings.NewReplacer("BE", be.Addr).Replace(`
        location /limited/ { proxy_pass http://BE; ws_max_message_size 10; }
        location /origin/ { proxy_pass http://BE; ws_allow_origins https://app.example; }`)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr, "READ_TIMEOUT": "300ms",
		"EXTRA_WS": "ws_ping_interval 50ms; ws_pong_timeout 200ms;", "LOCS": locs})
	runClient(t, node, "native.mjs", strings.TrimSuffix(g.url("/"), "/"))
}
