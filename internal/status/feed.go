package status

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"wsgate/internal/ws"
)

// Bounds of the feed's WebSocket.
const (
	// maxClientFrame is the largest frame the page may send: it sends
	// none, so anything bigger than a control frame is refused with 1009
	// (Message Too Big, RFC 6455 7.4.1).
	maxClientFrame = 4 << 10
	// writeTimeout bounds one write to the page; a page that does not
	// read for this long is closed.
	writeTimeout = 10 * time.Second
	// closeWait bounds the wait for the page's Close after ours.
	closeWait = 2 * time.Second
)

// feed is one page's WebSocket: wsgate is the server, so its frames go
// unmasked and the page's must be masked (RFC 6455 5.1, 5.3).
type feed struct {
	conn net.Conn
	br   *bufio.Reader
	mu   sync.Mutex // one writer at a time: views and Pongs
	wbuf []byte
	// closed is set once a Close was sent; peerClosed once the page's
	// Close or end was read.
	closed     bool
	peerClosed chan struct{}
}

func newFeed(conn net.Conn, rest []byte) *feed {
	var r io.Reader = conn
	if len(rest) > 0 {
		r = io.MultiReader(bytes.NewReader(rest), conn)
	}
	return &feed{conn: conn, br: bufio.NewReaderSize(r, 512), peerClosed: make(chan struct{})}
}

// run sends view() at once and then every interval until the page
// closes, a write fails or stopping is set; then it closes the
// connection.
func (f *feed) run(interval time.Duration, view func() any, stopping *atomic.Bool) {
	defer f.conn.Close()
	go f.read()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if stopping != nil && stopping.Load() {
			f.close(ws.CloseGoingAway, "server stopping")
			break
		}
		text, err := json.Marshal(view())
		if err != nil || f.write(ws.OpText, text) != nil {
			return
		}
		select {
		case <-f.peerClosed:
			return
		case <-tick.C:
		}
	}
	select {
	case <-f.peerClosed:
	case <-time.After(closeWait):
	}
}

// write sends one unfragmented frame; nothing is sent after a Close.
func (f *feed) write(op ws.Opcode, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	if op == ws.OpClose {
		f.closed = true
	}
	f.wbuf = ws.AppendHeader(f.wbuf[:0], ws.Header{Fin: true, Opcode: op, Length: uint64(len(p))})
	f.wbuf = append(f.wbuf, p...)
	f.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := f.conn.Write(f.wbuf)
	return err
}

// close sends a Close frame with code and reason.
func (f *feed) close(code uint16, reason string) {
	p := ws.AppendClose(nil, code, reason, false)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	f.conn.Write(p)
	f.mu.Unlock()
}

// read reads the page's frames: Pings are answered, a Close is answered
// with the same code (RFC 6455 5.5.1) and ends the feed, data is
// discarded. Unmasked or oversized frames end it with 1002 or 1009.
func (f *feed) read() {
	defer close(f.peerClosed)
	var hdr [ws.MaxHeaderLen]byte
	payload := make([]byte, 0, 125)
	for {
		h, err := f.readHeader(hdr[:])
		if err != nil {
			return
		}
		if !h.Masked {
			f.close(ws.CloseProtocolError, "client frames must be masked")
			return
		}
		if h.Length > maxClientFrame {
			f.close(1009, "the status page sends no messages")
			return
		}
		payload = payload[:h.Length]
		if _, err := io.ReadFull(f.br, payload); err != nil {
			return
		}
		ws.Mask(payload, h.MaskKey, 0)
		switch h.Opcode {
		case ws.OpPing:
			f.write(ws.OpPong, payload)
		case ws.OpClose:
			code := ws.CloseNormal
			if c, _, err := ws.ParseClosePayload(payload); err == nil && c != 0 {
				code = c
			}
			f.close(code, "")
			return
		}
	}
}

// readHeader reads one frame header through buf: its first two bytes
// say how long the rest is (RFC 6455 5.2).
func (f *feed) readHeader(buf []byte) (ws.Header, error) {
	if _, err := io.ReadFull(f.br, buf[:2]); err != nil {
		return ws.Header{}, err
	}
	n := 2
	switch buf[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if buf[1]&0x80 != 0 {
		n += 4
	}
	if _, err := io.ReadFull(f.br, buf[2:n]); err != nil {
		return ws.Header{}, err
	}
	h, _, err := ws.ParseHeader(buf[:n])
	return h, err
}
