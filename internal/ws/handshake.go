// Package ws holds the pieces of RFC 6455 that a proxy needs: handshake
// checks on both sides of an upgrade, a frame header codec, Close frame
// building and a streaming Tracker that follows frame boundaries in a byte
// stream without unmasking or buffering payloads.
package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

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

// IsWebSocketUpgrade reports whether h asks for a WebSocket upgrade: the
// Upgrade token list holds "websocket" and the Connection token list holds
// "upgrade", both case-insensitively (RFC 6455 4.1 items 5 and 6).
func IsWebSocketUpgrade(h http.Header) bool {
	return HasToken(h, "Upgrade", "websocket") && HasToken(h, "Connection", "upgrade")
}

// validKey reports whether key is the base64 encoding of 16 bytes
// (RFC 6455 4.1 item 7, 4.2.1 item 5).
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], []byte(key))
	return err == nil && n == 16
}

// ValidKey is validKey for a header value held as bytes; it does not
// allocate.
func ValidKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], key)
	return err == nil && n == 16
}

// CheckClientHandshake checks an opening handshake as a server must
// (RFC 6455 4.2.1): method GET, HTTP/1.1 or later, Upgrade: websocket,
// Connection: upgrade, exactly one Sec-WebSocket-Key that is the base64 of
// 16 bytes, and Sec-WebSocket-Version 13. It returns nil or a
// *HandshakeError whose Status is 400, or 426 for a version other than 13
// (RFC 6455 4.2.2, 4.4). The Host header is left to the HTTP layer.
func CheckClientHandshake(method string, protoMajor, protoMinor int, h http.Header) error {
	if method != http.MethodGet {
		return refuse(http.StatusBadRequest, "websocket handshake with method %s; want GET", method)
	}
	if protoMajor < 1 || protoMajor == 1 && protoMinor < 1 {
		return refuse(http.StatusBadRequest, "websocket handshake over HTTP/%d.%d; want HTTP/1.1", protoMajor, protoMinor)
	}
	if !HasToken(h, "Upgrade", "websocket") {
		return refuse(http.StatusBadRequest, "websocket handshake without Upgrade: websocket")
	}
	if !HasToken(h, "Connection", "upgrade") {
		return refuse(http.StatusBadRequest, "websocket handshake without Connection: upgrade")
	}
	keys := h.Values("Sec-WebSocket-Key")
	switch {
	case len(keys) == 0:
		return refuse(http.StatusBadRequest, "websocket handshake without Sec-WebSocket-Key")
	case len(keys) > 1:
		return refuse(http.StatusBadRequest, "websocket handshake with %d Sec-WebSocket-Key headers; want 1", len(keys))
	case !validKey(keys[0]):
		return refuse(http.StatusBadRequest, "invalid Sec-WebSocket-Key %q: want base64 of 16 bytes", keys[0])
	}
	versions := h.Values("Sec-WebSocket-Version")
	if len(versions) != 1 || strings.TrimSpace(versions[0]) != Version {
		return refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version %q; want %s", strings.Join(versions, ", "), Version)
	}
	return nil
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
