package conformance

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes (RFC 6455 5.2); 0x3-0x7 and 0xB-0xF are reserved.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// Reserved bits (RFC 6455 5.2), as Frame.RSV holds them.
const (
	rsv1 = 4
	rsv2 = 2
	rsv3 = 1
)

// Frame is one frame as the client sends it: any opcode, any reserved
// bits, any payload, so that cases can break the protocol on purpose.
// Client frames are always masked (5.3).
type Frame struct {
	Fin     bool
	RSV     byte // rsv1|rsv2|rsv3
	Op      byte // 4 bits
	Payload []byte
	// LenBytes, when 2 or 8, encodes the payload length in that many
	// extended bytes even where fewer would do (5.2 asks for the
	// fewest); 0 is the minimal encoding.
	LenBytes int
	// Unmasked sends the frame without a mask, which 5.1 forbids a
	// client.
	Unmasked bool
	// Raw, when set, is written instead: a frame no field above can
	// describe.
	Raw []byte
}

// header is a decoded frame header.
type header struct {
	fin    bool
	rsv    byte
	op     byte
	masked bool
	key    [4]byte
	length uint64
}

// appendFrame appends f's encoding to dst: the minimal length encoding
// (5.2), masked with key when masked.
func appendFrame(dst []byte, f Frame, masked bool, key [4]byte) []byte {
	if f.Raw != nil {
		return append(dst, f.Raw...)
	}
	b0 := f.RSV<<4 | f.Op&0xF
	if f.Fin {
		b0 |= 0x80
	}
	var m byte
	if masked {
		m = 0x80
	}
	n := len(f.Payload)
	switch {
	case f.LenBytes == 2:
		dst = append(dst, b0, m|126, byte(n>>8), byte(n))
	case f.LenBytes == 8:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	case n <= 125:
		dst = append(dst, b0, m|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, m|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !masked {
		return append(dst, f.Payload...)
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, f.Payload...)
	mask(dst[start:], key)
	return dst
}

// mask XORs p with key (5.3), from the key's first byte.
func mask(p []byte, key [4]byte) {
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// errBadLength is a header whose 64-bit length has its top bit set, or
// a length not in the fewest bytes (5.2).
var errBadLength = errors.New("frame length with the most significant bit set or not minimal")

// readHeader reads a frame header from br, appending its bytes to raw.
func readHeader(br *bufio.Reader, raw []byte) (header, []byte, error) {
	var b [14]byte
	if _, err := io.ReadFull(br, b[:2]); err != nil {
		return header{}, raw, err
	}
	h := header{fin: b[0]&0x80 != 0, rsv: b[0] >> 4 & 7, op: b[0] & 0xF, masked: b[1]&0x80 != 0}
	n := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if _, err := io.ReadFull(br, b[2:4]); err != nil {
			return h, raw, err
		}
		h.length, n = uint64(binary.BigEndian.Uint16(b[2:4])), 4
		if h.length < 126 {
			return h, raw, errBadLength
		}
	case 127:
		if _, err := io.ReadFull(br, b[2:10]); err != nil {
			return h, raw, err
		}
		h.length, n = binary.BigEndian.Uint64(b[2:10]), 10
		if h.length>>63 != 0 || h.length <= 0xFFFF {
			return h, raw, errBadLength
		}
	default:
		h.length = uint64(l)
	}
	if h.masked {
		if _, err := io.ReadFull(br, b[n:n+4]); err != nil {
			return h, raw, err
		}
		h.key = [4]byte(b[n : n+4])
		n += 4
	}
	return h, append(raw, b[:n]...), nil
}

// isControl reports whether op is a control opcode (5.5).
func isControl(op byte) bool { return op&0x8 != 0 }

// reservedOp reports whether op is reserved (5.2).
func reservedOp(op byte) bool {
	switch op {
	case opCont, opText, opBinary, opClose, opPing, opPong:
		return false
	}
	return true
}

// validCloseCode reports whether code may be sent in a Close frame (RFC
// 6455 7.4.1, 7.4.2 and the IANA registry, 11.7): 1000-1003, 1007-1011
// (1012-1014 are registered since), 3000-4999. 1004-1006 and 1015 are
// never on the wire.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// closePayload is a Close frame's body: code (none when 0) and reason.
func closePayload(code int, reason string) []byte {
	if code == 0 {
		return nil
	}
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func opName(op byte) string {
	switch op {
	case opCont:
		return "cont"
	case opText:
		return "text"
	case opBinary:
		return "binary"
	case opClose:
		return "close"
	case opPing:
		return "ping"
	case opPong:
		return "pong"
	}
	return fmt.Sprintf("op%d", op)
}
