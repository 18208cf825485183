package server

import (
	"bufio"
	"io"
	"testing"

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
