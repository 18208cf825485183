// Package ws holds the pieces of RFC 6455 that a proxy needs: for the
// handshake, key validity, the Accept value and a client's check of the
// server's answer (the proxy checks a client's handshake on its parsed
// head lines); a frame header codec, Close frame building and a streaming
// Tracker that follows frame boundaries in a byte stream without unmasking
// or buffering payloads.
package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"

	"wsgate/internal/http1"
)

// Version is the only protocol version wsgate speaks (RFC 6455 4.1). A 426
// answer to a client handshake must carry "Sec-WebSocket-Version: 13"
// (RFC 6455 4.2.2, 4.4).
const Version = "13"

// acceptGUID is the fixed GUID of RFC 6455 1.3 / 4.2.2.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// HandshakeError explains why a handshake was refused. Status is the HTTP
// status a server answers with: 400 Bad Request, or 426 Upgrade Required
// for an unsupported Sec-WebSocket-Version (the answer must then carry
// Sec-WebSocket-Version: 13). For CheckServerResponse Status is 0.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string { return e.Reason }

func refuse(status int, format string, args ...any) *HandshakeError {
	return &HandshakeError{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// HasToken reports whether any value of the header name in h, read as a
// comma-separated token list (RFC 9110 5.6.1), holds token, compared ASCII
// case-insensitively (http1.TokenIn). Empty list elements are skipped.
func HasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		if http1.TokenIn([]byte(v), token) {
			return true
		}
	}
	return false
}

// ValidKey reports whether key is the base64 encoding of 16 bytes
// (RFC 6455 4.1 item 7, 4.2.1 item 5); it does not allocate.
func ValidKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], key)
	return err == nil && n == 16
}

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key: base64(SHA-1(key + GUID)) (RFC 6455 4.2.2 item 5.4).
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// CheckServerResponse checks a server's answer to a handshake sent with
// Sec-WebSocket-Key key as a client must (RFC 6455 4.1, "the client MUST
// validate the server's response"): status 101, Upgrade: websocket,
// Connection: upgrade and the matching Sec-WebSocket-Accept. It returns nil
// or a *HandshakeError with Status 0.
func CheckServerResponse(status int, h http.Header, key string) error {
	if status != http.StatusSwitchingProtocols {
		return refuse(0, "websocket handshake answered with status %d; want 101", status)
	}
	if !HasToken(h, "Upgrade", "websocket") {
		return refuse(0, "websocket handshake answer without Upgrade: websocket")
	}
	if !HasToken(h, "Connection", "upgrade") {
		return refuse(0, "websocket handshake answer without Connection: upgrade")
	}
	got, want := h.Get("Sec-WebSocket-Accept"), AcceptKey(key)
	if got != want {
		return refuse(0, "websocket handshake answer with Sec-WebSocket-Accept %q; want %q", got, want)
	}
	return nil
}
