package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// What wsgate does with malformed WebSocket traffic in a frame-aware tunnel
// (a WebSocket upgrade, internal/tunnel with FrameAware set):
//
// wsgate relays it, byte for byte, as nginx does. The tunnel's frame
// tracker (ws.Tracker) reads frame headers only to know where frames end;
// it does not police the protocol. It accepts unmasked client frames,
// reserved opcodes and RSV bits without comment (ws.ParseHeader checks none
// of them), and on a header it cannot follow (a 64-bit length with its most
// significant bit set, a fragmented control frame, a control frame longer
// than 125 bytes) it becomes "lost": it keeps relaying but can no longer
// place a Close frame at a frame boundary, so a reload or shutdown ends that
// tunnel by closing the sockets instead of with a Close frame. The endpoint
// judges the frame: a conforming server (here coder/websocket) answers with
// Close 1002 Protocol Error and closes, wsgate relays that Close to the
// client and ends the tunnel. A server that drops the connection without a
// Close (coder/websocket does so for a 2^63 length and for an unmasked
// frame) gets the client Close 1014 Bad Gateway from wsgate, as any upstream
// that goes away without a Close does. Nothing is buffered: a 2^63-byte
// length costs wsgate no memory.
//
// A tunnel for another allowed upgrade (ws_allow_upgrade) is a plain byte
// tunnel: the same bytes are relayed untouched and never parsed.

// wsLocations proxies /ws/ to a WebSocket backend and the rest to a
// recording backend, with the seed's upgrade headers.
func wsLocations(wsAddr, httpAddr string) string {
	return fmt.Sprintf(`location /ws/ {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 30s;
        }
        location / { proxy_pass http://%s; }`, wsAddr, httpAddr)
}

func TestMalformedWebSocketFrames(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", wsLocations(wsb.Addr, rec.Addr))

	huge := []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	huge = append(huge, bytes.Repeat([]byte{'x'}, 64)...)
	ctrlLong := frame(ws.OpPing, true, bytes.Repeat([]byte{'p'}, 200), false)
	rsv := frame(ws.OpText, true, []byte("rsv"), false)
	rsv[0] |= 0x40 // RSV1 without a negotiated extension
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"length 2^63", huge},
		{"unmasked client frame", frame(ws.OpText, true, []byte("hello"), true)},
		{"reserved data opcode", frame(ws.Opcode(0x3), true, []byte("op3"), false)},
		{"reserved control opcode", frame(ws.Opcode(0xB), true, []byte("opB"), false)},
		{"fragmented ping", frame(ws.OpPing, false, []byte("p"), false)},
		{"control frame over 125 bytes", ctrlLong},
		{"rsv1 without extension", rsv},
		{"continuation without start", frame(ws.OpContinuation, true, []byte("c"), false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := g.dialWS("/ws/echo")
			w.echo(t, "before")
			if err := w.send(tc.bytes); err != nil {
				t.Fatalf("sending: %v", err)
			}
			code, closed := w.closeOutcome(10 * time.Second)
			if !closed {
				t.Fatalf("tunnel still open 10s after a malformed frame")
			}
			t.Logf("outcome: Close %d", code)
			if code != 0 && code != ws.CloseProtocolError && code != ws.CloseBadGateway {
				t.Fatalf("got Close %d; want 1002 (the backend's verdict, relayed), 1014 (the backend left without a Close) or none", code)
			}
			t0 := time.Now()
			w.c.Close()
			if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
				t.Fatalf("got %d live tunnels after the close; want 0", g.srv.Tunnels().Len())
			}
			t.Logf("tunnel gone %v after the client closed", time.Since(t0))
			w2 := g.dialWS("/ws/echo")
			w2.echo(t, "after "+tc.name)
			w2.c.Close()
			g.mustServe("/after", 200)
		})
	}
}

// TestPlainTunnelRelays checks that a non-WebSocket upgrade allowed with
// ws_allow_upgrade is a plain byte tunnel: bytes that would be malformed
// WebSocket frames go through untouched both ways.
func TestPlainTunnelRelays(t *testing.T) {
	be := proxytest.NewRecording(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\n")
	g := startGate(t, "", fmt.Sprintf(`location / {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            ws_allow_upgrade custom;
        }`, be.Addr))
	c, br := g.dial()
	io.WriteString(c, "GET /tun HTTP/1.1\r\nHost: a\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\n")
	resp, err := proxytest.ReadResponse(br, "GET")
	if err != nil || resp.Status != 101 {
		t.Fatalf("got %v, %v; want 101", resp, err)
	}
	payload := []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x05, 'p', 'i', 'n', 'g', '!'}
	var lenHdr [8]byte
	binary.BigEndian.PutUint64(lenHdr[:], 1<<63)
	payload = append(payload, lenHdr[:]...)
	c.Write(payload)
	got := make([]byte, len(payload))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("reading echo: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("echo: got % x; want % x", got, payload)
	}
	c.Close()
	if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
		t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
	}
	if r := be.Requests(); len(r) != 1 || !strings.HasPrefix(r[0].Line, "GET /tun ") {
		t.Fatalf("backend requests: got %d; want the one upgrade", len(r))
	}
}

// TestFramesAfterRefusedUpgrade: the client pipelines WebSocket frames
// right behind its handshake, and the backend refuses the upgrade (403).
// The connection stays HTTP, so wsgate reads the frame bytes as a request
// head: 400, connection closed, and the backend sees only the handshake.
func TestFramesAfterRefusedUpgrade(t *testing.T) {
	be := proxytest.NewNonUpgrade(t, 403)
	g := startGate(t, "", wsLocations(be.Addr, be.Addr))
	c, br := g.dial()
	io.WriteString(c, "GET /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	c.Write(frame(ws.OpText, true, []byte("GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"), false))
	r1, err := proxytest.ReadResponse(br, "GET")
	if err != nil || r1.Status != 403 {
		t.Fatalf("first response: got %v, %v; want 403", r1, err)
	}
	r2, err := proxytest.ReadResponse(br, "GET")
	if err == nil && r2.Status != 400 {
		t.Fatalf("second response: got %d; want 400 for frame bytes read as a head", r2.Status)
	}
	expectClosed(t, c, br, 10*time.Second)
	// Nothing to wait for: no second request may reach the backend for a
	// while after the connection ended.
	proxytest.Consistently(t, 50*time.Millisecond, func() bool { return len(be.Requests()) == 1 },
		"backend got a request besides the handshake")
	if reqs := be.Requests(); len(reqs) != 1 {
		t.Fatalf("backend got %d requests; want only the handshake", len(reqs))
	}
}

// TestWebSocketClientNeverReads: the backend floods a tunnel whose client
// reads nothing. The tunnel must apply backpressure (the backend's writes
// stall after socket buffers fill, wsgate's heap stays bounded), and a
// graceful shutdown must still end within its bound although the Close
// frame cannot be delivered.
func TestWebSocketClientNeverReads(t *testing.T) {
	var written atomic.Int64
	be := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		req, err := proxytest.ReadRequest(br)
		if err != nil {
			return
		}
		key, _ := req.Get("Sec-WebSocket-Key")
		fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", ws.AcceptKey(key))
		msg := ws.AppendHeader(nil, ws.Header{Fin: true, Opcode: ws.OpBinary, Length: 32 << 10})
		msg = append(msg, make([]byte, 32<<10)...)
		for {
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			n, err := c.Write(msg)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", wsLocations(be.Addr, rec.Addr))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 4; i++ {
		g.dialWS("/ws/flood") // never read
	}
	var last int64 = -1
	proxytest.Poll(20*time.Second, func() bool {
		time.Sleep(300 * time.Millisecond) // stalled: no progress over a 300 ms sample
		n := written.Load()
		stalled := n == last
		last = n
		return stalled
	})
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("backend wrote %d MiB into 4 unread tunnels; heap in use %d -> %d MiB", written.Load()>>20, before.HeapInuse>>20, after.HeapInuse>>20)
	if w := written.Load(); w > 256<<20 {
		t.Fatalf("backend wrote %d MiB; want it stalled by backpressure (< 256 MiB)", w>>20)
	}
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
		t.Fatalf("heap grew by %d MiB; want under 64 MiB", grow>>20)
	}
	g.mustServe("/after", 200)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	g.srv.Shutdown(ctx)
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("graceful shutdown took %v with 3 s bound; want it bounded", d)
	}
	if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
		t.Fatalf("got %d live tunnels after shutdown; want 0", g.srv.Tunnels().Len())
	}
}

// TestBadHandshakes: wsgate checks a client's WebSocket handshake itself
// (RFC 6455 4.2.1) where nginx passes it on, so that nothing half-valid
// reaches a backend: 400 for a bad method, HTTP version or key, 426 with
// "Sec-WebSocket-Version: 13" for another version.
func TestBadHandshakes(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", wsLocations(wsb.Addr, rec.Addr))
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	cases := []struct {
		name, raw string
		want      int
	}{
		{"no key", "GET /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"short key", "GET /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"version 8", "GET /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 8\r\n\r\n", 426},
		{"post", "POST /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", 400},
		{"http/1.0", "GET /ws/x HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, _ := g.roundTrip(tc.raw, "GET")
			if resp.Status != tc.want {
				t.Fatalf("got status %d; want %d", resp.Status, tc.want)
			}
			if tc.want == 426 {
				if v, _ := resp.Get("Sec-WebSocket-Version"); v != "13" {
					t.Fatalf("426 without Sec-WebSocket-Version: 13:\n%s", resp.Raw)
				}
			}
			if n := wsb.Accepted(); n != 0 {
				t.Fatalf("backend accepted %d connections; want 0", n)
			}
		})
	}
	w := g.dialWS("/ws/ok")
	w.echo(t, "still serving")
}
