// Package ws holds the pieces of RFC 6455 that a proxy needs: for the
// handshake, a client's request checked on its parsed head lines
// (CheckClientRequest, which the request pipeline's access phase runs),
// key validity, the Accept value and a client's check of the server's
// answer; a location's handshake policy (Policy: the Origins it accepts,
// its subprotocol allowlist, what it does with permessage-deflate); a
// frame header codec, Close frame building and a streaming Tracker that
// follows frame boundaries in a byte stream without unmasking or
// buffering payloads.
package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"

	"wsgate/internal/exchange"
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
// case-insensitively (exchange.TokenIn). Empty list elements are skipped.
func HasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		if exchange.TokenIn([]byte(v), token) {
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

// CheckClientRequest validates a client's WebSocket handshake (RFC 6455
// 4.2.1). nginx passes any handshake on and lets the backend judge; wsgate
// answers the malformed ones itself, so that nothing half-valid reaches a
// backend: 400 for a bad method, version of HTTP or key, 426 with
// "Sec-WebSocket-Version: 13" for another WebSocket version. status 0
// means the handshake is valid. It reads the request's header lines
// without building anything and allocates only for a reason.
func CheckClientRequest(req *exchange.Request) (status int, reason string) {
	// Read straight from the request's header lines: no http.Header is
	// built. Upgrade and Connection are token lists that may span lines.
	if string(req.Method) != http.MethodGet {
		return 400, fmt.Sprintf("websocket handshake with method %s; want GET", req.Method)
	}
	if req.ProtoMajor < 1 || req.ProtoMajor == 1 && req.ProtoMinor < 1 {
		return 400, fmt.Sprintf("websocket handshake over HTTP/%d.%d; want HTTP/1.1", req.ProtoMajor, req.ProtoMinor)
	}
	var upgrade, connection bool
	var key, version []byte
	keys, versions := 0, 0
	for i := range req.Headers {
		hd := &req.Headers[i]
		switch {
		case exchange.EqualFold(hd.Name, "Upgrade"):
			upgrade = upgrade || exchange.TokenIn(hd.Value, "websocket")
		case exchange.EqualFold(hd.Name, "Connection"):
			connection = connection || exchange.TokenIn(hd.Value, "upgrade")
		case exchange.EqualFold(hd.Name, "Sec-WebSocket-Key"):
			keys++
			key = hd.Value
		case exchange.EqualFold(hd.Name, "Sec-WebSocket-Version"):
			versions++
			version = hd.Value
		}
	}
	switch {
	case !upgrade:
		return 400, "websocket handshake without Upgrade: websocket"
	case !connection:
		return 400, "websocket handshake without Connection: upgrade"
	case keys == 0:
		return 400, "websocket handshake without Sec-WebSocket-Key"
	case keys > 1:
		return 400, fmt.Sprintf("websocket handshake with %d Sec-WebSocket-Key headers; want 1", keys)
	case !ValidKey(key):
		return 400, fmt.Sprintf("invalid Sec-WebSocket-Key %q: want base64 of 16 bytes", key)
	case versions != 1 || string(exchange.TrimOWS(version)) != Version:
		return 426, fmt.Sprintf("unsupported Sec-WebSocket-Version %q; want %s", joinValues(req, "Sec-WebSocket-Version"), Version)
	}
	return 0, ""
}

// joinValues returns the values of the header lines named name, joined
// with ", " (error messages only).
func joinValues(req *exchange.Request, name string) string {
	var b []byte
	for _, hd := range req.Headers {
		if exchange.EqualFold(hd.Name, name) {
			if b != nil {
				b = append(b, ", "...)
			}
			b = append(b, hd.Value...)
		}
	}
	return string(b)
}
