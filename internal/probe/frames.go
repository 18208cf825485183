package probe

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"

	"wsgate/internal/ws"
)

// frameConn is the client side of an upgraded connection: it writes masked
// frames (RFC 6455 5.3) and reads whole messages, answering pings and the
// closing handshake itself. It is used by one goroutine.
type frameConn struct {
	c     net.Conn
	br    *bufio.Reader
	limit int64 // largest message accepted, in bytes
	// closeSent is set once our Close frame is out; a Close received
	// after it completes the closing handshake and is not answered.
	closeSent bool
}

// frame is one message (fragments joined) or one control frame.
type frame struct {
	op         ws.Opcode
	payload    []byte
	compressed bool // RSV1 on the first frame (RFC 7692 6)
}

// closeError is the peer's Close frame (RFC 6455 5.5.1).
type closeError struct {
	code   uint16
	reason string
}

func (e *closeError) Error() string {
	if e.reason == "" {
		return fmt.Sprintf("closed by the server with code %d", e.code)
	}
	return fmt.Sprintf("closed by the server with code %d (%s)", e.code, e.reason)
}

func (fc *frameConn) writeFrame(op ws.Opcode, payload []byte) error {
	h := ws.Header{Fin: true, Opcode: op, Masked: true, Length: uint64(len(payload))}
	rand.Read(h.MaskKey[:])
	b := ws.AppendHeader(make([]byte, 0, ws.MaxHeaderLen+len(payload)), h)
	start := len(b)
	b = append(b, payload...)
	ws.Mask(b[start:], h.MaskKey, 0)
	_, err := fc.c.Write(b)
	return err
}

func (fc *frameConn) writeClose(code uint16) error {
	if fc.closeSent {
		return nil
	}
	fc.closeSent = true
	_, err := fc.c.Write(ws.AppendClose(nil, code, "", true))
	return err
}

// readFrame reads one frame with its unmasked payload.
func (fc *frameConn) readFrame() (ws.Header, []byte, error) {
	var hb [ws.MaxHeaderLen]byte
	if _, err := io.ReadFull(fc.br, hb[:2]); err != nil {
		return ws.Header{}, nil, err
	}
	n := 2
	for {
		h, _, err := ws.ParseHeader(hb[:n])
		if errors.Is(err, ws.ErrShortHeader) {
			need := 2
			switch hb[1] & 0x7F {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			if hb[1]&0x80 != 0 {
				need += 4
			}
			if need <= n {
				return h, nil, err
			}
			if _, err := io.ReadFull(fc.br, hb[n:need]); err != nil {
				return h, nil, err
			}
			n = need
			continue
		}
		if err != nil {
			return h, nil, fmt.Errorf("reading a frame from the server: %w", err)
		}
		if h.Length > uint64(fc.limit) {
			return h, nil, fmt.Errorf("reading a frame from the server: payload of %d bytes is over the limit of %d", h.Length, fc.limit)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(fc.br, p); err != nil {
			return h, nil, err
		}
		if h.Masked {
			ws.Mask(p, h.MaskKey, 0)
		}
		return h, p, nil
	}
}

// readMessage returns the next data message or pong. Pings are answered
// with a pong (RFC 6455 5.5.3); a Close frame is answered with a Close
// (RFC 6455 5.5.1) and returned as a *closeError.
func (fc *frameConn) readMessage() (frame, error) {
	var msg *frame
	for {
		h, p, err := fc.readFrame()
		if err != nil {
			return frame{}, err
		}
		switch h.Opcode {
		case ws.OpPing:
			if err := fc.writeFrame(ws.OpPong, p); err != nil {
				return frame{}, err
			}
			continue
		case ws.OpPong:
			return frame{op: ws.OpPong, payload: p}, nil
		case ws.OpClose:
			code, reason, perr := ws.ParseClosePayload(p)
			if perr != nil {
				code = ws.CloseProtocolError
			}
			fc.writeClose(code)
			return frame{}, &closeError{code: code, reason: reason}
		case ws.OpText, ws.OpBinary:
			msg = &frame{op: h.Opcode, payload: p, compressed: h.Rsv&0x4 != 0}
		case ws.OpContinuation:
			if msg == nil {
				return frame{}, errors.New("reading a frame from the server: continuation without a message")
			}
			if int64(len(msg.payload)+len(p)) > fc.limit {
				return frame{}, fmt.Errorf("reading a message from the server: over the limit of %d bytes", fc.limit)
			}
			msg.payload = append(msg.payload, p...)
		default:
			return frame{}, fmt.Errorf("reading a frame from the server: reserved opcode %#x", byte(h.Opcode))
		}
		if h.Fin {
			return *msg, nil
		}
	}
}

// drainUntilClose reads until the server's Close frame or an error, after
// our Close was sent (RFC 6455 7.1.2).
func (fc *frameConn) drainUntilClose() {
	for {
		if _, err := fc.readMessage(); err != nil {
			return
		}
	}
}
