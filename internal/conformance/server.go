package conformance

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxMessage is the largest message (after decompression) the echo
// server takes; a larger one fails the connection with 1009 (7.4.1).
const MaxMessage = 32 << 20

// CaseHeader names the case (and run) of a handshake, for the echo
// server's record of the frames it read.
const CaseHeader = "X-Conformance-Case"

// drainTimeout bounds how long the echo server waits for the client to
// close after its own Close.
const drainTimeout = 10 * time.Second

// EchoServer is a strict RFC 6455 echo server on a loopback port.
type EchoServer struct {
	Addr string
	ln   net.Listener
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[string]*serverConn // by CaseHeader
}

// Received is what the echo server read on one connection: the frames
// it parsed (as on the wire, masks included), counted and digested.
// Bytes it drained after its Close are not in it.
type Received struct {
	Frames int
	Digest string
}

type serverConn struct {
	done   chan struct{}
	frames int
	digest hash.Hash
}

// NewEchoServer starts an echo server on a free loopback port.
func NewEchoServer() (*EchoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &EchoServer{Addr: ln.Addr().String(), ln: ln, conns: map[string]*serverConn{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops accepting and waits for the connections to end.
func (s *EchoServer) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *EchoServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c.(*net.TCPConn))
		}()
	}
}

// Received waits, up to timeout, for the connection of the case named
// key to end and returns what it read; ok is false when there was none
// or it did not end.
func (s *EchoServer) Received(key string, timeout time.Duration) (r Received, ok bool) {
	s.mu.Lock()
	sc := s.conns[key]
	s.mu.Unlock()
	if sc == nil {
		return r, false
	}
	select {
	case <-sc.done:
	case <-time.After(timeout):
		return r, false
	}
	return Received{Frames: sc.frames, Digest: fmt.Sprintf("%x", sc.digest.Sum(nil))}, true
}

// echoConn is one WebSocket connection of the echo server.
type echoConn struct {
	c       *net.TCPConn
	br      *bufio.Reader
	rec     *serverConn
	deflate bool // permessage-deflate was negotiated
}

func (s *EchoServer) serve(c *net.TCPConn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	c.SetDeadline(time.Now().Add(time.Minute))
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 ||
		req.Method != http.MethodGet || !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") ||
		!headerHas(req.Header, "Connection", "upgrade") || req.Header.Get("Sec-WebSocket-Version") != "13" {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	e := &echoConn{c: c, br: br, rec: &serverConn{done: make(chan struct{}), digest: sha256.New()}}
	defer close(e.rec.done)
	if name := req.Header.Get(CaseHeader); name != "" {
		s.mu.Lock()
		s.conns[name] = e.rec
		s.mu.Unlock()
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
	if offersDeflate(req.Header) {
		e.deflate = true
		head += "Sec-WebSocket-Extensions: " + deflateAccept + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n"); err != nil {
		return
	}
	code := e.run()
	e.close(code)
}

// headerHas reports whether the comma-separated header name has token.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// offersDeflate reports whether the handshake offers permessage-deflate
// (RFC 7692 5); any parameters are answered with deflateAccept.
func offersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.TrimSpace(name) == "permessage-deflate" {
				return true
			}
		}
	}
	return false
}

// closeWith is the Close the server ends with: a code to fail the
// connection with, or the peer's Close payload to echo.
type closeWith struct {
	code  int
	echo  []byte
	reply bool // echo the peer's Close
}

// Errors of run, as the Close codes they fail the connection with.
func fail(code int) closeWith { return closeWith{code: code} }

// run reads and answers frames until a Close or a protocol error.
func (e *echoConn) run() closeWith {
	var (
		msg        []byte
		inMsg      bool
		msgOp      byte
		compressed bool
		text       utf8Stream
		raw        []byte
	)
	for {
		e.c.SetDeadline(time.Now().Add(time.Minute))
		h, hdr, err := readHeader(e.br, raw[:0])
		raw = hdr
		switch {
		case errors.Is(err, errBadLength):
			return fail(1002)
		case err != nil:
			return closeWith{code: -1} // the peer left: no Close to send
		case !h.masked: // 5.1: a client's frames are masked
			return fail(1002)
		case reservedOp(h.op):
			return fail(1002)
		case isControl(h.op) && (!h.fin || h.length > 125): // 5.5
			return fail(1002)
		case h.rsv != 0 && !(h.rsv == rsv1 && e.deflate && (h.op == opText || h.op == opBinary)): // 5.2, RFC 7692 6
			return fail(1002)
		case h.op == opCont && !inMsg, (h.op == opText || h.op == opBinary) && inMsg: // 5.4
			return fail(1002)
		case !isControl(h.op) && uint64(len(msg))+h.length > MaxMessage:
			return fail(1009)
		}
		payload := make([]byte, h.length)
		if _, err := io.ReadFull(e.br, payload); err != nil {
			return closeWith{code: -1}
		}
		e.rec.frames++
		e.rec.digest.Write(raw)
		e.rec.digest.Write(payload)
		mask(payload, h.key)
		switch h.op {
		case opPing:
			if err := e.write(opPong, 0, payload); err != nil {
				return closeWith{code: -1}
			}
			continue
		case opPong:
			continue
		case opClose:
			return checkClose(payload)
		case opText, opBinary:
			inMsg, msgOp, compressed, msg, text = true, h.op, h.rsv == rsv1, nil, utf8Stream{}
		}
		msg = append(msg, payload...)
		if msgOp == opText && !compressed && !text.write(payload) {
			return fail(1007) // 8.1: fail fast
		}
		if !h.fin {
			continue
		}
		inMsg = false
		rsv := byte(0)
		if compressed {
			plain, err := inflate(msg, MaxMessage)
			switch {
			case errors.Is(err, errTooBig):
				return fail(1009)
			case err != nil:
				return fail(1007)
			}
			if msgOp == opText && !utf8.Valid(plain) {
				return fail(1007)
			}
			msg, rsv = deflate(plain), rsv1
		} else if msgOp == opText && !text.end() {
			return fail(1007)
		}
		if err := e.write(msgOp, rsv, msg); err != nil {
			return closeWith{code: -1}
		}
	}
}

// checkClose validates a Close frame's body (5.5.1, 7.4): none, or a
// code that may be sent and a UTF-8 reason; it is echoed.
func checkClose(p []byte) closeWith {
	switch {
	case len(p) == 0:
		return closeWith{reply: true}
	case len(p) == 1 || !validCloseCode(int(binary.BigEndian.Uint16(p))):
		return fail(1002)
	case !utf8.Valid(p[2:]):
		return fail(1007)
	}
	return closeWith{reply: true, echo: p[:2]}
}

// write sends one unmasked frame (5.1: a server never masks).
func (e *echoConn) write(op, rsv byte, p []byte) error {
	b := appendFrame(make([]byte, 0, len(p)+14), Frame{Fin: true, RSV: rsv, Op: op, Payload: p}, false, [4]byte{})
	_, err := e.c.Write(b)
	return err
}

// close sends the Close cw says (none when the peer left), then ends
// the connection as 7.1.1 asks of a server: its side of TCP first, then
// whatever the client still sends is read and dropped until it closes,
// so that no unread byte turns the close into a reset.
func (e *echoConn) close(cw closeWith) {
	if cw.code < 0 {
		return
	}
	p := cw.echo
	if !cw.reply {
		p = closePayload(cw.code, "")
	}
	e.write(opClose, 0, p)
	e.c.CloseWrite()
	e.c.SetDeadline(time.Now().Add(drainTimeout))
	io.Copy(io.Discard, e.br)
}
