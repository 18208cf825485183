package proxyproto

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Header is what a PROXY protocol header says of a proxied connection
// (ngx_proxy_protocol_t).
type Header struct {
	// SrcAddr and DstAddr are the client's and the server's address as
	// text: a v1 header's as the line gives them, a v2 header's printed
	// as nginx prints a socket address (IPv6 without brackets).
	// $proxy_protocol_addr and $proxy_protocol_server_addr.
	SrcAddr, DstAddr string
	// SrcPort and DstPort are the ports, 0 to 65535.
	SrcPort, DstPort int
	// TLVs are a v2 header's type-length-value bytes after the
	// addresses, unparsed (nginx 1.22 keeps them and reads none; the
	// $proxy_protocol_tlv_* variables are nginx 1.23.2's).
	TLVs []byte
}

// Limits of a header, nginx's NGX_PROXY_PROTOCOL_V1_MAX_HEADER and
// NGX_PROXY_PROTOCOL_MAX_HEADER: a v1 line ends within 107 bytes (the
// specification's limit), a v2 header with its TLVs within 4096.
const (
	V1MaxHeader = 107
	MaxHeader   = 4096
)

// v2Sig starts a version 2 header.
const v2Sig = "\r\n\r\n\x00\r\nQUIT\n"

// v2HeaderLen is the fixed part of a v2 header: the signature, the
// version and command, the family and transport, the length.
const v2HeaderLen = 16

// ErrShort says that the bytes given are the start of a header that
// continues: Parse's n is then how many more bytes it needs at least.
var ErrShort = errors.New("proxy protocol: header incomplete")

// Parse reads the header at the start of b. It returns the header, or
// nil for one that carries no addresses nginx uses ("PROXY UNKNOWN", a
// v2 LOCAL command, a transport other than a stream, a family other than
// IPv4 and IPv6: the connection keeps its own address), and n, the
// header's length, where the connection's own bytes begin. A header that
// nginx refuses is an error whose text is nginx's log line ("broken
// header: ..."); the connection is then closed. When b is a valid start
// of a longer header the error is ErrShort and n the bytes still needed
// at least.
func Parse(b []byte) (h *Header, n int, err error) {
	if len(b) > 0 && b[0] == '\r' {
		k := min(len(b), len(v2Sig))
		if string(b[:k]) == v2Sig[:k] {
			return parseV2(b)
		}
		return nil, 0, broken(b)
	}
	return parseV1(b)
}

// parseV1 is ngx_proxy_protocol_read's text header:
// "PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT\r\n" or "PROXY UNKNOWN ...\r\n".
// Addresses are taken as written (hexadecimal digits, '.' and ':', as
// nginx checks them), ports are decimal up to 65535.
func parseV1(b []byte) (*Header, int, error) {
	k := min(len(b), 6)
	if string(b[:k]) != "PROXY "[:k] {
		return nil, 0, broken(b)
	}
	end := bytes.IndexByte(b[:min(len(b), V1MaxHeader)], '\n')
	if end < 0 {
		if len(b) >= V1MaxHeader {
			return nil, 0, broken(b)
		}
		return nil, 1, ErrShort
	}
	line := b[:end+1]
	if len(line) < 8 {
		return nil, 0, broken(b)
	}
	p := line[6:]
	if bytes.HasPrefix(p, []byte("UNKNOWN")) {
		// nginx skips to the first CRLF.
		if i := bytes.Index(p[7:], []byte("\r\n")); i >= 0 {
			return nil, 6 + 7 + i + 2, nil
		}
		return nil, 0, broken(b)
	}
	if len(p) < 5 || string(p[:3]) != "TCP" || p[3] != '4' && p[3] != '6' || p[4] != ' ' {
		return nil, 0, broken(b)
	}
	p = p[5:]
	h := &Header{}
	var ok bool
	if h.SrcAddr, p, ok = v1Addr(p); !ok {
		return nil, 0, broken(b)
	}
	if h.DstAddr, p, ok = v1Addr(p); !ok {
		return nil, 0, broken(b)
	}
	if h.SrcPort, p, ok = v1Port(p, ' '); !ok {
		return nil, 0, broken(b)
	}
	if h.DstPort, p, ok = v1Port(p, '\r'); !ok {
		return nil, 0, broken(b)
	}
	if len(p) != 1 || p[0] != '\n' {
		return nil, 0, broken(b)
	}
	return h, len(line), nil
}

// v1Addr is ngx_proxy_protocol_read_addr: the text up to a space.
func v1Addr(p []byte) (string, []byte, bool) {
	for i, c := range p {
		switch {
		case c == ' ':
			return string(p[:i]), p[i+1:], true
		case c == ':' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// v1Port is ngx_proxy_protocol_read_port: decimal digits up to sep.
func v1Port(p []byte, sep byte) (int, []byte, bool) {
	i := bytes.IndexByte(p, sep)
	if i <= 0 {
		return 0, nil, false
	}
	n := 0
	for _, c := range p[:i] {
		if c < '0' || c > '9' {
			return 0, nil, false
		}
		if n = n*10 + int(c-'0'); n > 65535 {
			return 0, nil, false
		}
	}
	return n, p[i+1:], true
}

// parseV2 is ngx_proxy_protocol_v2_read.
func parseV2(b []byte) (*Header, int, error) {
	if len(b) < v2HeaderLen {
		return nil, v2HeaderLen - len(b), ErrShort
	}
	if v := b[12] >> 4; v != 2 {
		return nil, 0, fmt.Errorf("unknown PROXY protocol version: %d", v)
	}
	total := v2HeaderLen + (int(b[14])<<8 | int(b[15]))
	if total > MaxHeader {
		return nil, 0, errors.New("PROXY protocol v2 header is too large")
	}
	if len(b) < total {
		return nil, total - len(b), ErrShort
	}
	body := b[v2HeaderLen:total]
	if cmd := b[12] & 0x0f; cmd != 1 {
		// LOCAL (0): a health check of the balancer; nginx goes on with
		// the connection's own address.
		return nil, total, nil
	}
	if transport := b[13] & 0x0f; transport != 1 {
		return nil, total, nil
	}
	h := &Header{}
	switch family := b[13] >> 4; family {
	case 1:
		if len(body) < 12 {
			return nil, 0, errors.New("PROXY protocol v2 header is too short for IPv4 addresses")
		}
		h.SrcAddr = netip.AddrFrom4([4]byte(body[0:4])).String()
		h.DstAddr = netip.AddrFrom4([4]byte(body[4:8])).String()
		h.SrcPort = int(body[8])<<8 | int(body[9])
		h.DstPort = int(body[10])<<8 | int(body[11])
		body = body[12:]
	case 2:
		if len(body) < 36 {
			return nil, 0, errors.New("PROXY protocol v2 header is too short for IPv6 addresses")
		}
		h.SrcAddr = netip.AddrFrom16([16]byte(body[0:16])).String()
		h.DstAddr = netip.AddrFrom16([16]byte(body[16:32])).String()
		h.SrcPort = int(body[32])<<8 | int(body[33])
		h.DstPort = int(body[34])<<8 | int(body[35])
		body = body[36:]
	default:
		return nil, total, nil
	}
	if len(body) > 0 {
		h.TLVs = bytes.Clone(body)
	}
	return h, total, nil
}

// broken is nginx's error for a header it cannot read: its first line.
func broken(b []byte) error {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	return fmt.Errorf("broken header: %s", strconv.Quote(string(b)))
}
