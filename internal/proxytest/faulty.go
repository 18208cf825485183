package proxytest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
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
		}
	})
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
