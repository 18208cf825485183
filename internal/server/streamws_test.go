package server

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// streamWS is a client WebSocket over one stream of an HTTP/2 or HTTP/3
// connection (dialWS, dialH3WS): out carries the client's frames (Close
// ends the stream's sending half), br the server's.
type streamWS struct {
	out io.WriteCloser
	br  *bufio.Reader
}

// send writes one masked frame.
func (w *streamWS) send(op ws.Opcode, p []byte) error {
	h := ws.Header{Fin: true, Opcode: op, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(p))}
	b := ws.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	ws.Mask(b[start:], h.MaskKey, 0)
	_, err := w.out.Write(b)
	return err
}

// recv reads one unmasked frame.
func (w *streamWS) recv() (ws.Opcode, []byte, error) {
	var hb [14]byte
	if _, err := io.ReadFull(w.br, hb[:2]); err != nil {
		return 0, nil, err
	}
	n := 2
	switch hb[1] & 0x7f {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	if _, err := io.ReadFull(w.br, hb[2:n]); err != nil {
		return 0, nil, err
	}
	h, _, err := ws.ParseHeader(hb[:n])
	if err != nil {
		return 0, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(w.br, p)
	return h.Opcode, p, err
}

// echo sends msg as a text frame and wants it back.
func (w *streamWS) echo(t *testing.T, msg string) {
	t.Helper()
	if err := w.send(ws.OpText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if op, p, err := w.recv(); err != nil || op != ws.OpText || string(p) != msg {
		t.Fatalf("echo: %v %q %v; want text %q", op, p, err, msg)
	}
}

// closeNormally runs the closing handshake from the client: its Close
// 1000 reaches the backend, whose Close 1000 comes back, and once the
// client ends its half the stream ends (end names how: END_STREAM, FIN).
func (w *streamWS) closeNormally(t *testing.T, end string) {
	t.Helper()
	if err := w.send(ws.OpClose, []byte{0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	op, p, err := w.recv()
	if err != nil || op != ws.OpClose || len(p) < 2 || int(p[0])<<8|int(p[1]) != 1000 {
		t.Fatalf("after Close: got %v %v %v; want Close 1000", op, p, err)
	}
	w.out.Close()
	if _, err := w.br.ReadByte(); err != io.EOF {
		t.Errorf("after the closing handshake: read %v; want EOF (%s)", err, end)
	}
}

// checkHandshakes wants each handshake the backend saw to be an
// HTTP/1.1 Upgrade to websocket with a fresh Sec-WebSocket-Key: an
// extended CONNECT has no key of its own (RFC 8441 section 5).
func checkHandshakes(t *testing.T, rs []proxytest.Request) {
	t.Helper()
	keys := map[string]bool{}
	for _, r := range rs {
		k, _ := r.Get("Sec-WebSocket-Key")
		up, _ := r.Get("Upgrade")
		if k == "" || keys[k] || up != "websocket" {
			t.Errorf("backend handshake %q: Upgrade %q, key %q (repeated: %v); want websocket and a fresh key", r.Line, up, k, keys[k])
		}
		keys[k] = true
	}
}

// answerShutdown starts a graceful stop of srv, wants Close 1001 on w
// (at a frame boundary), answers it and ends the client's half; the
// channel gets what Shutdown returned.
func (w *streamWS) answerShutdown(t *testing.T, srv *Server) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	op, p, err := w.recv()
	if err != nil || op != ws.OpClose || len(p) < 2 || int(p[0])<<8|int(p[1]) != 1001 {
		t.Fatalf("at shutdown: got %v %v %v; want Close 1001", op, p, err)
	}
	w.send(ws.OpClose, p[:2])
	w.out.Close()
	return done
}
