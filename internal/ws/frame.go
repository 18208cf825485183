package ws

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Opcode is a frame opcode (RFC 6455 5.2, 11.8).
type Opcode byte

// Opcodes of RFC 6455 5.2. 0x3-0x7 and 0xB-0xF are reserved; the codec
// carries them through unchanged.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (high bit set, RFC 6455 5.5).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved"
}

// Close status codes (RFC 6455 7.4.1 and the IANA registry, 11.7) that wsgate
// sends or recognises:
//
//   - CloseGoingAway 1001: the tunnel's idle timeout (proxy_read_timeout)
//     expired, the client went away (sent to the upstream), or wsgate is
//     shutting down.
//   - CloseServiceRestart 1012: the route changed at reload (the default of
//     ws_reload_close_code); clients may reconnect.
//   - CloseBadGateway 1014: the upstream died or could not be reached (sent
//     to the client).
//   - CloseInternalError 1011: wsgate itself failed.
//
// CloseNoStatus 1005 and CloseAbnormal 1006 are never sent on the wire; they
// name "Close without a code" and "no Close at all".
const (
	CloseNormal         uint16 = 1000
	CloseGoingAway      uint16 = 1001
	CloseProtocolError  uint16 = 1002
	CloseNoStatus       uint16 = 1005
	CloseAbnormal       uint16 = 1006
	CloseInternalError  uint16 = 1011
	CloseServiceRestart uint16 = 1012
	CloseBadGateway     uint16 = 1014
)

// MaxHeaderLen is the longest frame header: 2 bytes, 8 of extended length
// and 4 of masking key (RFC 6455 5.2).
const MaxHeaderLen = 14

// MaxControlPayload is the largest payload of a control frame (RFC 6455 5.5).
const MaxControlPayload = 125

// Errors of ParseHeader. ErrShortHeader means more bytes are needed; every
// other error means the bytes can never form a valid header.
var (
	ErrShortHeader       = errors.New("incomplete frame header")
	ErrLengthMSB         = errors.New("frame payload length has its most significant bit set")
	ErrControlTooLong    = errors.New("control frame payload longer than 125 bytes")
	ErrControlFragmented = errors.New("fragmented control frame")
)

// Header is a decoded frame header (RFC 6455 5.2).
type Header struct {
	Fin bool
	// Rsv holds RSV1, RSV2, RSV3 as bits 0x4, 0x2, 0x1.
	Rsv     byte
	Opcode  Opcode
	Masked  bool
	MaskKey [4]byte // meaningful only when Masked
	Length  uint64  // payload length in bytes
}

// Len returns the encoded size of h in bytes (2 to 14), as AppendHeader
// writes it: the minimal length encoding.
func (h Header) Len() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// ParseHeader decodes the frame header at the start of b and returns it
// with its encoded size. It returns ErrShortHeader when b holds only a
// prefix of a header, and ErrLengthMSB, ErrControlTooLong or
// ErrControlFragmented for bytes that break RFC 6455 5.2 / 5.5. Non-minimal
// length encodings are accepted (a proxy passes them on). It does not
// allocate.
func ParseHeader(b []byte) (Header, int, error) {
	var h Header
	if len(b) < 2 {
		return h, 0, ErrShortHeader
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] >> 4) & 0x7
	h.Opcode = Opcode(b[0] & 0xF)
	h.Masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return h, 0, ErrShortHeader
		}
		h.Length = uint64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, ErrShortHeader
		}
		h.Length = binary.BigEndian.Uint64(b[2:10])
		if h.Length>>63 != 0 {
			return h, 0, ErrLengthMSB
		}
		n = 10
	default:
		h.Length = uint64(l)
	}
	if h.Opcode.IsControl() {
		if h.Length > MaxControlPayload {
			return h, 0, ErrControlTooLong
		}
		if !h.Fin {
			return h, 0, ErrControlFragmented
		}
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrShortHeader
		}
		copy(h.MaskKey[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// AppendHeader appends the encoding of h to dst, with the minimal length
// encoding (RFC 6455 5.2). It does not check h; Length must be below 2^63.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode&0xF) | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length > 0xFFFF:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, h.Length)
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.MaskKey[:]...)
	}
	return dst
}

// Mask XORs b in place with key, starting at key offset pos (the number of
// payload bytes already masked), and returns the offset for the next call
// (RFC 6455 5.3). Masking and unmasking are the same operation.
func Mask(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// AppendClose appends a complete Close frame (RFC 6455 5.5.1) to dst. A
// code of 0 sends no body; otherwise the body is the code followed by
// reason, cut to fit 125 bytes at a UTF-8 boundary. With mask set the frame
// is masked with a fresh random key, as every frame a client (here: wsgate
// talking to an upstream) sends must be (RFC 6455 5.3).
func AppendClose(dst []byte, code uint16, reason string, mask bool) []byte {
	if code == 0 {
		reason = ""
	}
	if len(reason) > MaxControlPayload-2 {
		cut := MaxControlPayload - 2
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	h := Header{Fin: true, Opcode: OpClose, Masked: mask}
	if code != 0 {
		h.Length = uint64(2 + len(reason))
	}
	if mask {
		rand.Read(h.MaskKey[:])
	}
	dst = AppendHeader(dst, h)
	if code == 0 {
		return dst
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, code)
	dst = append(dst, reason...)
	if mask {
		Mask(dst[start:], h.MaskKey, 0)
	}
	return dst
}

// ParseClosePayload decodes an unmasked Close frame body (RFC 6455 5.5.1):
// an empty body yields CloseNoStatus; a 1-byte body is invalid.
func ParseClosePayload(p []byte) (code uint16, reason string, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", errors.New("close frame body of 1 byte")
	}
	return binary.BigEndian.Uint16(p), string(p[2:]), nil
}
