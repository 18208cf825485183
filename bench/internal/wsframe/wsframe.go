// Package wsframe is the minimal RFC 6455 framing the benchmark's echo
// backend and load generator share: frame headers, masking and the opening
// handshake, written for speed over net.Conn rather than completeness.
package wsframe

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// MaxHeader is the largest frame header: 2 bytes, 8 of extended length and
// a 4-byte mask key.
const MaxHeader = 14

// Header is a decoded frame header.
type Header struct {
	Fin    bool
	Opcode byte
	Masked bool
	Mask   [4]byte
	Length int64
}

// ErrTooLarge is returned for frames longer than the caller's limit.
var ErrTooLarge = errors.New("frame too large")

// ReadHeader decodes one frame header from r (RFC 6455 section 5.2).
func ReadHeader(r *bufio.Reader) (Header, error) {
	var h Header
	b0, err := r.ReadByte()
	if err != nil {
		return h, err
	}
	b1, err := r.ReadByte()
	if err != nil {
		return h, unexpected(err)
	}
	h.Fin = b0&0x80 != 0
	h.Opcode = b0 & 0x0F
	h.Masked = b1&0x80 != 0
	var ext [8]byte
	switch n := b1 & 0x7F; n {
	case 126:
		if _, err := io.ReadFull(r, ext[:2]); err != nil {
			return h, unexpected(err)
		}
		h.Length = int64(binary.BigEndian.Uint16(ext[:2]))
	case 127:
		if _, err := io.ReadFull(r, ext[:8]); err != nil {
			return h, unexpected(err)
		}
		h.Length = int64(binary.BigEndian.Uint64(ext[:8]) & (1<<63 - 1))
	default:
		h.Length = int64(n)
	}
	if h.Masked {
		if _, err := io.ReadFull(r, h.Mask[:]); err != nil {
			return h, unexpected(err)
		}
	}
	return h, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// HeaderLen is the encoded size of a header for a payload of n bytes.
func HeaderLen(n int, masked bool) int {
	l := 2
	switch {
	case n > 0xFFFF:
		l += 8
	case n > 125:
		l += 2
	}
	if masked {
		l += 4
	}
	return l
}

// PutHeader writes a final-fragment header for opcode and payload length n
// into dst, which must hold HeaderLen(n, mask != nil) bytes, and returns
// the number of bytes written.
func PutHeader(dst []byte, opcode byte, n int, mask *[4]byte) int {
	dst[0] = 0x80 | opcode
	var mbit byte
	if mask != nil {
		mbit = 0x80
	}
	i := 2
	switch {
	case n > 0xFFFF:
		dst[1] = mbit | 127
		binary.BigEndian.PutUint64(dst[2:], uint64(n))
		i = 10
	case n > 125:
		dst[1] = mbit | 126
		binary.BigEndian.PutUint16(dst[2:], uint16(n))
		i = 4
	default:
		dst[1] = mbit | byte(n)
	}
	if mask != nil {
		copy(dst[i:], mask[:])
		i += 4
	}
	return i
}

// AppendFrame appends a complete final frame, masked when mask is non-nil.
func AppendFrame(dst []byte, opcode byte, payload []byte, mask *[4]byte) []byte {
	var hdr [MaxHeader]byte
	n := PutHeader(hdr[:], opcode, len(payload), mask)
	dst = append(dst, hdr[:n]...)
	start := len(dst)
	dst = append(dst, payload...)
	if mask != nil {
		Mask(dst[start:], *mask, 0)
	}
	return dst
}

// Mask XORs b with key in place (RFC 6455 section 5.3), starting at byte
// offset pos of the payload, and returns the offset after b. Eight bytes
// are done per step.
func Mask(b []byte, key [4]byte, pos int) int {
	k := key
	if r := pos & 3; r != 0 {
		k = [4]byte{key[r&3], key[(r+1)&3], key[(r+2)&3], key[(r+3)&3]}
	}
	k32 := binary.LittleEndian.Uint32(k[:])
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		binary.LittleEndian.PutUint64(b[i:], v^k64)
	}
	for j := 0; i < len(b); i, j = i+1, j+1 {
		b[i] ^= k[j&3]
	}
	return pos + len(b)
}

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	s := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(s[:])
}

// Request is the part of an HTTP/1.x request head the echo backend needs.
type Request struct {
	Method, Target, Proto string
	Upgrade               string // Upgrade header, lower-cased
	Connection            string // Connection header, lower-cased
	Key                   string // Sec-WebSocket-Key
	ContentLength         int64
}

// ReadRequest reads one request head from r.
func ReadRequest(r *bufio.Reader) (Request, error) {
	var req Request
	line, err := readLine(r)
	if err != nil {
		return req, err
	}
	f := strings.SplitN(line, " ", 3)
	if len(f) != 3 {
		return req, fmt.Errorf("parsing request line %q", line)
	}
	req.Method, req.Target, req.Proto = f[0], f[1], f[2]
	for {
		line, err := readLine(r)
		if err != nil {
			return req, unexpected(err)
		}
		if line == "" {
			return req, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "upgrade":
			req.Upgrade = strings.ToLower(value)
		case "connection":
			req.Connection = strings.ToLower(value)
		case "sec-websocket-key":
			req.Key = value
		case "content-length":
			fmt.Sscan(value, &req.ContentLength)
		}
	}
}

// Response is the part of an HTTP/1.x response head the load generator needs.
type Response struct {
	Status        int
	ContentLength int64 // -1 when absent
	Close         bool  // Connection: close was sent
	Chunked       bool  // Transfer-Encoding: chunked
}

// DiscardChunked reads a chunked body (RFC 9112 section 7.1) to its end
// and returns how many body bytes it had; trailers are skipped.
func DiscardChunked(r *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := readLine(r)
		if err != nil {
			return total, unexpected(err)
		}
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%x", &n); err != nil {
			return total, fmt.Errorf("parsing chunk size %q: %w", line, err)
		}
		if n == 0 {
			for {
				t, err := readLine(r)
				if err != nil {
					return total, unexpected(err)
				}
				if t == "" {
					return total, nil
				}
			}
		}
		if _, err := r.Discard(int(n)); err != nil {
			return total, unexpected(err)
		}
		total += n
		if _, err := readLine(r); err != nil {
			return total, unexpected(err)
		}
	}
}

// ReadResponseHead reads a response head from r.
func ReadResponseHead(r *bufio.Reader) (Response, error) {
	resp := Response{ContentLength: -1}
	line, err := readLine(r)
	if err != nil {
		return resp, err
	}
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") {
		return resp, fmt.Errorf("parsing status line %q", line)
	}
	if _, err := fmt.Sscan(line[9:12], &resp.Status); err != nil {
		return resp, fmt.Errorf("parsing status line %q: %w", line, err)
	}
	for {
		line, err := readLine(r)
		if err != nil {
			return resp, unexpected(err)
		}
		if line == "" {
			return resp, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			fmt.Sscan(value, &resp.ContentLength)
		case "connection":
			resp.Close = strings.Contains(strings.ToLower(value), "close")
		case "transfer-encoding":
			resp.Chunked = strings.EqualFold(value, "chunked")
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return string(b), nil
}
