// Package faults_test holds wsgate's bad-input and fault suites: request
// smuggling attempts, head and body limits, slow and stalled clients,
// malformed WebSocket traffic, misbehaving backends, descriptor exhaustion
// and reload faults. Each case runs wsgate in-process (gatetest) on
// loopback, except the descriptor case, which runs it as a child process,
// the graceful stop case and the cases of binary_test.go, which run the
// wsgate binary (its descriptors after bursts, files it must not read
// without end at a start or a reload), and checks the status or Close code,
// that nothing of a bad request reached a backend, and that wsgate keeps
// serving. TestMain checks that
// goroutines and descriptors are back to their baseline after all cases.
package faults_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
	"wsgate/internal/server"
	"wsgate/internal/ws"
)

// gate is an in-process wsgate (gatetest) serving a config written to a
// temporary directory, with its error log in Log and its access log in a
// file. Its cleanup is a graceful stop.
type gate struct {
	t      *testing.T
	gg     *gatetest.Gate
	srv    *server.Server
	Addr   string
	Conf   string
	Log    *proxytest.SyncBuffer
	access string
}

// confText renders a whole configuration: events, an http block with the
// access log in dir, extra http-level lines, and one server listening on addr
// whose body is server.
func confText(dir, addr, httpExtra, server string) string {
	return fmt.Sprintf(`events {}
http {
    access_log %s;
    %s
    server {
        listen %s;
        %s
    }
}
`, filepath.Join(dir, "access.log"), httpExtra, addr, server)
}

// startGate writes the configuration and starts wsgate on a free port.
func startGate(t *testing.T, httpExtra, block string) *gate {
	t.Helper()
	log := &proxytest.SyncBuffer{}
	gg := gatetest.Start(t, confText("{{dir}}", "{{listen}}", httpExtra, block),
		gatetest.Options{Log: log, Level: slog.LevelDebug, Graceful: true})
	return &gate{t: t, gg: gg, srv: gg.Server, Addr: gg.Addr, Conf: gg.Conf, Log: log, access: filepath.Join(gg.Dir, "access.log")}
}

// write replaces the configuration file (no reload). It also serves the
// descriptor case, whose gate is a child process and has no gg.
func (g *gate) write(httpExtra, block string) {
	g.t.Helper()
	if err := os.WriteFile(g.Conf, []byte(confText(filepath.Dir(g.Conf), g.Addr, httpExtra, block)), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// confBody returns the configuration file as it is now.
func (g *gate) confBody() string {
	b, _ := os.ReadFile(g.Conf)
	return string(b)
}

// accessLog returns the access log so far.
func (g *gate) accessLog() string {
	b, _ := os.ReadFile(g.access)
	return string(b)
}

// waitAccess waits up to timeout for the access log to contain s.
func (g *gate) waitAccess(s string, timeout time.Duration) bool {
	return proxytest.Poll(timeout, func() bool { return strings.Contains(g.accessLog(), s) })
}

// dial opens a raw client connection to the gate with a generous deadline.
func (g *gate) dial() (net.Conn, *bufio.Reader) {
	g.t.Helper()
	c, err := net.DialTimeout("tcp", g.Addr, 5*time.Second)
	if err != nil {
		g.t.Fatalf("dialing wsgate: %v", err)
	}
	g.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// roundTrip sends raw on a new connection and reads one response.
func (g *gate) roundTrip(raw, method string) (*proxytest.Response, net.Conn, *bufio.Reader) {
	g.t.Helper()
	c, br := g.dial()
	if _, err := io.WriteString(c, raw); err != nil {
		g.t.Fatalf("writing request: %v", err)
	}
	resp, err := proxytest.ReadResponse(br, method)
	if err != nil {
		g.t.Fatalf("reading response to %q: %v", firstLine(raw), err)
	}
	return resp, c, br
}

// mustServe checks that wsgate still answers a good request on a new
// connection with status want through path.
func (g *gate) mustServe(path string, want int) {
	g.t.Helper()
	resp, _, _ := g.roundTrip("GET "+path+" HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n", "GET")
	if resp.Status != want {
		g.t.Fatalf("good request after the fault: got status %d; want %d", resp.Status, want)
	}
}

// expectClosed reads from c until EOF or an error and fails if the
// connection is still open after within. It returns the bytes read.
func expectClosed(t *testing.T, c net.Conn, br *bufio.Reader, within time.Duration) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v (read %q)", within, b)
	}
	return b
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// wsClient is a raw WebSocket client: it can write any bytes, valid
// frames or not.
type wsClient struct {
	c  net.Conn
	br *bufio.Reader
}

// dialWS performs a WebSocket handshake for path through the gate and
// returns the client once the 101 arrived.
func (g *gate) dialWS(path string) *wsClient {
	g.t.Helper()
	c, br := g.dial()
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, key)
	resp, err := proxytest.ReadResponse(br, "GET")
	if err != nil {
		g.t.Fatalf("reading handshake response: %v", err)
	}
	if resp.Status != 101 {
		g.t.Fatalf("handshake: got status %d; want 101\n%s", resp.Status, resp.Raw)
	}
	if got, _ := resp.Get("Sec-WebSocket-Accept"); got != ws.AcceptKey(key) {
		g.t.Fatalf("handshake: got Sec-WebSocket-Accept %q; want %q", got, ws.AcceptKey(key))
	}
	return &wsClient{c: c, br: br}
}

// frame encodes one client frame, masked unless unmasked is set.
func frame(op ws.Opcode, fin bool, payload []byte, unmasked bool) []byte {
	h := ws.Header{Fin: fin, Opcode: op, Length: uint64(len(payload)), Masked: !unmasked}
	if !unmasked {
		rand.Read(h.MaskKey[:])
	}
	b := ws.AppendHeader(nil, h)
	p := append([]byte(nil), payload...)
	if !unmasked {
		ws.Mask(p, h.MaskKey, 0)
	}
	return append(b, p...)
}

func (w *wsClient) send(b []byte) error {
	w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := w.c.Write(b)
	return err
}

// readFrame reads one server frame (unmasked) within timeout.
func (w *wsClient) readFrame(timeout time.Duration) (ws.Opcode, []byte, error) {
	w.c.SetReadDeadline(time.Now().Add(timeout))
	var hb [2]byte
	if _, err := io.ReadFull(w.br, hb[:]); err != nil {
		return 0, nil, err
	}
	op := ws.Opcode(hb[0] & 0x0f)
	n := uint64(hb[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(w.br, e[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(w.br, e[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if hb[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("server frame is masked")
	}
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.br, p); err != nil {
		return 0, nil, err
	}
	return op, p, nil
}

// echo sends a text message and waits for the same text back.
func (w *wsClient) echo(t testing.TB, msg string) {
	t.Helper()
	if err := w.echoErr(msg); err != nil {
		t.Fatal(err)
	}
}

// echoErr is echo for goroutines other than the test's: it reports a
// failure instead of ending the test.
func (w *wsClient) echoErr(msg string) error {
	if err := w.send(frame(ws.OpText, true, []byte(msg), false)); err != nil {
		return fmt.Errorf("sending %q: %w", msg, err)
	}
	for {
		op, p, err := w.readFrame(10 * time.Second)
		if err != nil {
			return fmt.Errorf("reading echo of %q: %w", msg, err)
		}
		if op == ws.OpPing || op == ws.OpPong {
			continue
		}
		if op != ws.OpText || string(p) != msg {
			return fmt.Errorf("echo: got opcode %d %q; want text %q", op, p, msg)
		}
		return nil
	}
}

// closeOutcome reads until a Close frame or the end of the connection and
// returns the Close code (0 when the connection ended without one).
func (w *wsClient) closeOutcome(within time.Duration) (code uint16, closed bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		op, p, err := w.readFrame(time.Until(deadline))
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return 0, false
			}
			return 0, true
		}
		if op == ws.OpClose {
			// Answer as a client does (RFC 6455 5.5.1), then close.
			c, _, _ := ws.ParseClosePayload(p)
			w.send(frame(ws.OpClose, true, p, false))
			w.c.Close()
			return c, true
		}
	}
	return 0, false
}

// fdCount returns the number of open file descriptors of this process.
func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// settleGoroutines waits up to timeout until the goroutine count is at
// most base+slack and returns the last count seen.
func settleGoroutines(base, slack int, timeout time.Duration) int {
	n := runtime.NumGoroutine()
	proxytest.Poll(timeout, func() bool {
		n = runtime.NumGoroutine()
		return n <= base+slack
	})
	return n
}
