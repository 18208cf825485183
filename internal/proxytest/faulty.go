package proxytest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// NewSlow starts a backend that accepts, reads and records one request per
// connection, then waits: for delay before writing response ("" means
// DefaultResponse) and closing, or, when delay is 0, until Close without
// ever answering. It stands in for an upstream that times out
// (proxy_read_timeout) or answers late.
func NewSlow(t testing.TB, delay time.Duration, response string) *Backend {
	t.Helper()
	if response == "" {
		response = DefaultResponse
	}
	return start(t, func(b *Backend, c net.Conn, id int) {
		br := bufio.NewReader(c)
		seq := 0
		if b.readNext(br, id, &seq) == nil {
			return
		}
		if delay <= 0 {
			<-b.done
			return
		}
		select {
		case <-b.done:
			return
		case <-time.After(delay):
		}
		c.Write([]byte(response))
	})
}

// NewSilent starts a backend that accepts connections and never reads or
// writes a byte until Close: a peer whose accept queue works but whose
// application hangs.
func NewSilent(t testing.TB) *Backend {
	t.Helper()
	return start(t, func(b *Backend, c net.Conn, id int) { <-b.done })
}

// AbruptMode says how an abrupt backend fails.
type AbruptMode int

const (
	// CloseOnAccept closes each connection (FIN) as soon as it is
	// accepted, before reading anything.
	CloseOnAccept AbruptMode = iota
	// ResetOnAccept resets each connection (RST, SO_LINGER 0) as soon as
	// it is accepted.
	ResetOnAccept
	// CloseAfterRequest reads and records the request, then closes
	// without answering (nginx: "upstream prematurely closed connection").
	CloseAfterRequest
	// ResetMidResponse reads and records the request, writes a response
	// head announcing "Content-Length: 100" and 10 body bytes, then resets.
	ResetMidResponse
	// ResetMidMessage completes a WebSocket handshake (101 with the right
	// Sec-WebSocket-Accept), writes the first 5 bytes of an unmasked text
	// frame that announces 10 payload bytes, then resets.
	ResetMidMessage
	// ResetAfterClose completes a WebSocket handshake, echoes every data
	// frame (unmasked, opcode and FIN kept), answers the first Close with
	// the same payload and then resets: a server that closes with
	// SO_LINGER 0 once the closing handshake is done.
	ResetAfterClose
)

// Bytes an abrupt backend writes before failing.
const (
	abruptPartialResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789"
	abruptPartialFrame    = "\x81\x0ahell"
)

// NewAbrupt starts a backend that fails every connection as mode says.
func NewAbrupt(t testing.TB, mode AbruptMode) *Backend {
	t.Helper()
	return start(t, func(b *Backend, c net.Conn, id int) {
		switch mode {
		case CloseOnAccept:
			c.Close()
			return
		case ResetOnAccept:
			reset(c)
			return
		}
		br := bufio.NewReader(c)
		seq := 0
		req := b.readNext(br, id, &seq)
		if req == nil {
			return
		}
		switch mode {
		case CloseAfterRequest:
			c.Close()
		case ResetMidResponse:
			c.Write([]byte(abruptPartialResponse))
			time.Sleep(20 * time.Millisecond) // let the partial bytes leave before the RST
			reset(c)
		case ResetMidMessage:
			key, _ := req.Get("Sec-WebSocket-Key")
			fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", AcceptKey(key))
			c.Write([]byte(abruptPartialFrame))
			time.Sleep(20 * time.Millisecond)
			reset(c)
		case ResetAfterClose:
			key, _ := req.Get("Sec-WebSocket-Key")
			fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", AcceptKey(key))
			for {
				b0, payload, err := readClientFrame(br)
				if err != nil {
					return
				}
				switch b0 & 0x0F {
				case 0x0, 0x1, 0x2: // continuation, text, binary
					c.Write(appendServerFrame(nil, b0, payload))
				case 0x8:
					c.Write(appendServerFrame(nil, b0, payload))
					reset(c)
					return
				}
			}
		}
	})
}

// readClientFrame reads one WebSocket frame of at most 1 MiB (RFC 6455
// 5.2) and returns its first byte (FIN, RSV, opcode) and its unmasked
// payload.
func readClientFrame(br *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return 0, nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return h[0], p, nil
}

// appendServerFrame appends an unmasked frame with first byte b0.
func appendServerFrame(dst []byte, b0 byte, payload []byte) []byte {
	dst = append(dst, b0)
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
	return append(dst, payload...)
}

// AcceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key
// (RFC 6455 §4.2.2: base64 of SHA-1 of key + the protocol GUID).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// NewNonUpgrade starts a recording backend that answers every request,
// upgrade or not, with status (for example 200 or 400 or 426) and a short
// text body naming it, and never switches protocols. The connection
// follows NewRecordingFunc's keep-alive rules.
func NewNonUpgrade(t testing.TB, status int) *Backend {
	t.Helper()
	body := fmt.Sprintf("no upgrade: %d\n", status)
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
		status, statusText(status), len(body), body)
	return NewRecording(t, resp)
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 426:
		return "Upgrade Required"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	}
	return "Status"
}

// Unsolicited101Tail is what an unsolicited-101 backend writes right after
// its 101 head.
const Unsolicited101Tail = "after-101\n"

// NewUnsolicited101 starts a backend that answers every request with
// "101 Switching Protocols" (Upgrade: websocket, Connection: Upgrade, no
// Sec-WebSocket-Accept), whether or not the request asked to upgrade,
// then writes Unsolicited101Tail and echoes whatever it receives until the
// peer closes. Requests are recorded.
func NewUnsolicited101(t testing.TB) *Backend {
	t.Helper()
	return NewRecordingFunc(t, func(*Request) []byte {
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + Unsolicited101Tail)
	})
}

// DefaultGarbage is what NewGarbage writes when given nil.
var DefaultGarbage = []byte("this is not http\r\n\x00\xff\r\n")

// NewGarbage starts a backend that reads and records one request per
// connection, writes payload (nil means DefaultGarbage) and closes.
func NewGarbage(t testing.TB, payload []byte) *Backend {
	t.Helper()
	if payload == nil {
		payload = DefaultGarbage
	}
	return start(t, func(b *Backend, c net.Conn, id int) {
		br := bufio.NewReader(c)
		seq := 0
		if b.readNext(br, id, &seq) == nil {
			return
		}
		c.Write(payload)
	})
}
