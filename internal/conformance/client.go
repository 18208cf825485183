package conformance

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// The events Run records, in the order the client observed them.
const (
	evEOF   = "eof"   // the connection ended (TCP FIN)
	evReset = "reset" // the connection was reset
	evSync  = "sync"  // the Pong to the client's closing Ping
)

// syncPayload is the payload of the Ping the client sends after a case's
// frames: its Pong says every frame before it was answered.
var syncPayload = []byte("conformance sync")

// evText and the others render the events of received frames: a
// message's kind, length and the start of its SHA-256, so that 16 MiB
// echoes compare as short strings. A message that came compressed
// (RSV1, RFC 7692) is named "ztext" or "zbinary" and digested after
// decompression.
func evText(p []byte) string   { return evData("text", p) }
func evBinary(p []byte) string { return evData("binary", p) }
func evPong(p []byte) string   { return evData("pong", p) }
func evZText(p []byte) string  { return evData("ztext", p) }
func evZBin(p []byte) string   { return evData("zbinary", p) }
func evData(kind string, p []byte) string {
	sum := sha256.Sum256(p)
	return fmt.Sprintf("%s %d %x", kind, len(p), sum[:6])
}

// evClose is a Close frame received: its code, "-" for none, "bad" for
// a one-byte body.
func evClose(code int) string {
	if code == 0 {
		return "close -"
	}
	return fmt.Sprintf("close %d", code)
}

// evHandshake is the handshake's answer: the status and the extensions
// the server accepted.
func evHandshake(status int, ext string) string {
	if ext == "" {
		return fmt.Sprint(status)
	}
	return fmt.Sprintf("%d %s", status, ext)
}

// Target is where a run goes: the address and the handshake's path.
type Target struct {
	Addr, Path string
	// Timeout bounds the whole run (a case that hangs ends with the
	// event "timeout"); 0 means a minute.
	Timeout time.Duration
}

// Run performs c against t and returns the events the client observed.
// name goes to the echo server in CaseHeader. The client sends c's
// frames (chopped into writes of c.Chop bytes when set) while it reads,
// then a Ping; at its Pong it sends Close 1000; at a Close from the
// server it answers with the same code unless it sent a Close itself;
// then it reads to the connection's end.
func Run(t Target, c *Case, frames []Frame, name string) ([]string, error) {
	timeout := t.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	conn, err := net.DialTimeout("tcp", t.Addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	var key [16]byte
	copy(key[:], "wsgate-conformce")
	wsKey := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + t.Path + " HTTP/1.1\r\nHost: conformance.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + wsKey + "\r\nSec-WebSocket-Version: 13\r\n" + CaseHeader + ": " + name + "\r\n"
	if c.Offer != "" {
		req += "Sec-WebSocket-Extensions: " + c.Offer + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the handshake's answer: %w", err)
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	events := []string{evHandshake(resp.StatusCode, ext)}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return events, nil
	}
	sum := sha1.Sum([]byte(wsKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		return events, fmt.Errorf("Sec-WebSocket-Accept %q does not match the key", got)
	}
	cl := &client{conn: conn, br: br, deflate: ext != ""}
	return cl.run(frames, c.Chop, events), nil
}

type client struct {
	conn    net.Conn
	br      *bufio.Reader
	deflate bool
	n       int // frames of the case written, for their mask keys
	// wmu keeps whole frames together on the wire: Pings are answered
	// while the case's frames are being written.
	wmu   sync.Mutex
	pongs chan []byte
	// closed is set, under wmu, once a Close frame was written: no Pong
	// goes after it, where a peer that has closed its side would find it
	// unread and answer with a reset.
	closed bool
}

// maskKey is the key of the client's i-th frame: fixed, so that two runs
// of a case send the same bytes (5.3 asks for unpredictable keys of a
// browser, not of a test client).
func maskKey(i int) [4]byte { return [4]byte{byte(i), 0x5a, byte(i >> 8), 0xa5} }

func (cl *client) encode(f Frame) []byte {
	b := appendFrame(make([]byte, 0, len(f.Payload)+14), f, !f.Unmasked, maskKey(cl.n))
	cl.n++
	return b
}

// pong answers a Ping with its payload, from a goroutine of its own
// (pongs), so that the reader never waits for the writer: the writer may
// wait for the peer, which may wait for the reader to make room. A Ping
// that comes while one is being answered is dropped; a later one is
// answered. A Pong does not count as one of the case's frames, whose
// mask keys stay as they would be without it.
func (cl *client) pong(p []byte) {
	select {
	case cl.pongs <- bytes.Clone(p):
	default:
	}
}

func (cl *client) answerPings() {
	for p := range cl.pongs {
		b := appendFrame(make([]byte, 0, len(p)+14), Frame{Fin: true, Op: opPong, Payload: p}, true, [4]byte{1, 2, 3, 4})
		cl.wmu.Lock()
		if !cl.closed {
			cl.writeLocked(b, 0)
		}
		cl.wmu.Unlock()
	}
}

// send writes frames, chopped into writes of chop bytes when chop > 0;
// it stops at the first error (the server may have closed). A Pong may
// go between two frames, never inside one.
func (cl *client) send(frames []Frame, chop int) error {
	for _, f := range frames {
		if err := cl.write(cl.encode(f), chop, f.Op == opClose && f.Raw == nil); err != nil {
			return err
		}
	}
	return nil
}

// write writes b, one whole frame of the case's, in pieces of chop
// bytes when chop > 0; isClose marks a Close frame.
func (cl *client) write(b []byte, chop int, isClose bool) error {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	cl.closed = cl.closed || isClose
	return cl.writeLocked(b, chop)
}

// writeLocked is write with wmu held.
func (cl *client) writeLocked(b []byte, chop int) error {
	for len(b) > 0 {
		n := len(b)
		if chop > 0 {
			n = min(n, chop)
		}
		if _, err := cl.conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (cl *client) run(frames []Frame, chop int, events []string) []string {
	sentClose := false
	for _, f := range frames {
		if f.Op == opClose {
			sentClose = true
		}
	}
	cl.pongs = make(chan []byte, 1)
	go cl.answerPings()
	defer close(cl.pongs)
	wrote := make(chan error, 1)
	go func() {
		err := cl.send(frames, chop)
		if err == nil && !sentClose {
			err = cl.send([]Frame{{Fin: true, Op: opPing, Payload: syncPayload}}, 0)
		}
		wrote <- err
	}()
	writerDone := false
	waitWriter := func() {
		if !writerDone {
			<-wrote
			writerDone = true
		}
	}
	var msg []byte
	var msgOp, msgRSV byte
	for {
		h, _, err := readHeader(cl.br, nil)
		var p []byte
		if err == nil && h.length > MaxMessage {
			events = append(events, fmt.Sprintf("frame of %d bytes", h.length))
			cl.conn.Close()
			waitWriter()
			return events
		}
		if err == nil {
			p = make([]byte, h.length)
			_, err = io.ReadFull(cl.br, p)
		}
		if err != nil {
			events = append(events, endEvent(err))
			cl.conn.Close() // unblocks a writer stuck on a peer that left
			waitWriter()
			return events
		}
		if h.masked { // 5.1: a server never masks
			events = append(events, "masked "+opName(h.op))
			mask(p, h.key)
		}
		switch {
		case h.op == opPong && string(p) == string(syncPayload):
			events = append(events, evSync)
			waitWriter()
			if !sentClose {
				sentClose = true
				cl.send([]Frame{{Fin: true, Op: opClose, Payload: closePayload(1000, "")}}, 0)
			}
		case h.op == opPong:
			events = append(events, evPong(p))
		case h.op == opPing:
			// Pings are answered and not recorded: a proxy may send its
			// own (ws_ping_interval), and must consume their Pongs.
			if !sentClose {
				cl.pong(p)
			}
		case h.op == opClose:
			code := 0
			switch {
			case len(p) == 1:
				events = append(events, "close bad")
			case len(p) >= 2:
				code = int(binary.BigEndian.Uint16(p))
				fallthrough
			default:
				events = append(events, evClose(code))
			}
			waitWriter()
			if !sentClose {
				sentClose = true
				cl.send([]Frame{{Fin: true, Op: opClose, Payload: closePayload(code, "")}}, 0)
			}
		case h.rsv != 0 && !(h.rsv == rsv1 && cl.deflate && h.op != opCont) || reservedOp(h.op):
			events = append(events, fmt.Sprintf("frame rsv=%d %s", h.rsv, opName(h.op)))
		default:
			if h.op != opCont {
				msg, msgOp, msgRSV = nil, h.op, h.rsv
			}
			msg = append(msg, p...)
			if h.fin {
				events = append(events, cl.message(msgOp, msgRSV, msg))
			}
		}
	}
}

// message renders a whole message received.
func (cl *client) message(op, rsv byte, p []byte) string {
	kind := opName(op)
	if rsv == rsv1 {
		plain, err := inflate(p, MaxMessage)
		if err != nil {
			return "z" + kind + " undecodable"
		}
		kind, p = "z"+kind, plain
	}
	return evData(kind, p)
}

// endEvent names how the connection ended.
func endEvent(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return evEOF
	case errors.Is(err, syscall.ECONNRESET):
		return evReset
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "error " + err.Error()
}
