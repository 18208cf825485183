package proxyproto

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// v2 builds a version 2 header: command, family and transport byte, and
// the body after the length.
func v2(cmd, famTrans byte, body string) string {
	n := len(body)
	return v2Sig + string([]byte{0x20 | cmd, famTrans, byte(n >> 8), byte(n)}) + body
}

const (
	v4Body = "\xc0\x00\x02\x01\xc0\x00\x02\x02\x04\xd2\x16\x2e"                   // 192.0.2.1 192.0.2.2 1234 5678
	v6Body = "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" + // 2001:db8::1
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01" + // ::ffff:127.0.0.1
		"\x00\x50\x01\xbb" // 80 443
)

// TestParse checks headers against what ngx_proxy_protocol_read makes of
// them: the addresses, where the connection's bytes begin, the headers
// that carry no address, and the ones nginx calls broken.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *Header
		n        int
		err      string // substring; "short" for ErrShort
	}{
		{name: "v1 TCP4", in: "PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\nGET", want: &Header{SrcAddr: "192.0.2.1", DstAddr: "192.0.2.2", SrcPort: 1234, DstPort: 5678}, n: 42},
		{name: "v1 TCP6", in: "PROXY TCP6 2001:DB8::1 ::1 0 65535\r\n", want: &Header{SrcAddr: "2001:DB8::1", DstAddr: "::1", SrcPort: 0, DstPort: 65535}, n: 36},
		{name: "v1 unknown", in: "PROXY UNKNOWN\r\nGET", n: 15},
		{name: "v1 unknown with addresses", in: "PROXY UNKNOWN 1 2 3 4\r\n", n: 23},
		{name: "v1 not a header", in: "GET / HTTP/1.1\r\n\r\n", err: `broken header: "GET / HTTP/1.1"`},
		{name: "v1 bad family", in: "PROXY UDP4 1.1.1.1 2.2.2.2 1 2\r\n", err: "broken header"},
		{name: "v1 bad address", in: "PROXY TCP4 1.1.1.x 2.2.2.2 1 2\r\n", err: "broken header"},
		{name: "v1 port too large", in: "PROXY TCP4 1.1.1.1 2.2.2.2 65536 2\r\n", err: "broken header"},
		{name: "v1 empty port", in: "PROXY TCP4 1.1.1.1 2.2.2.2  2\r\n", err: "broken header"},
		{name: "v1 LF without CR", in: "PROXY TCP4 1.1.1.1 2.2.2.2 1 2\n", err: "broken header"},
		{name: "v1 too long", in: "PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n", err: "broken header"},
		{name: "v1 incomplete", in: "PROXY TCP4 1.1.1.1", n: 1, err: "short"},
		{name: "v1 prefix", in: "PRO", n: 1, err: "short"},
		{name: "v2 TCP over IPv4", in: v2(1, 0x11, v4Body) + "GET", want: &Header{SrcAddr: "192.0.2.1", DstAddr: "192.0.2.2", SrcPort: 1234, DstPort: 5678}, n: 28},
		{name: "v2 TCP over IPv6", in: v2(1, 0x21, v6Body), want: &Header{SrcAddr: "2001:db8::1", DstAddr: "::ffff:127.0.0.1", SrcPort: 80, DstPort: 443}, n: 52},
		{name: "v2 TLVs kept", in: v2(1, 0x11, v4Body+"\x04\x00\x01x"), want: &Header{SrcAddr: "192.0.2.1", DstAddr: "192.0.2.2", SrcPort: 1234, DstPort: 5678, TLVs: []byte("\x04\x00\x01x")}, n: 32},
		{name: "v2 LOCAL", in: v2(0, 0x00, ""), n: 16},
		{name: "v2 UDP", in: v2(1, 0x12, v4Body), n: 28},
		{name: "v2 unix family", in: v2(1, 0x31, strings.Repeat("\x00", 216)), n: 232},
		{name: "v2 short addresses", in: v2(1, 0x11, "\x01\x02"), err: "too short"},
		{name: "v2 version 3", in: v2Sig + "\x31\x11\x00\x00", err: "unknown PROXY protocol version: 3"},
		{name: "v2 too large", in: v2Sig + "\x21\x11\x10\x00", err: "too large"},
		{name: "v2 incomplete fixed part", in: v2Sig[:5], n: 11, err: "short"},
		{name: "v2 incomplete body", in: v2(1, 0x11, v4Body)[:20], n: 8, err: "short"},
		{name: "v2 bad signature", in: "\r\n\r\nX", err: "broken header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := Parse([]byte(tc.in))
			switch {
			case tc.err == "short":
				if !errors.Is(err, ErrShort) || n != tc.n {
					t.Fatalf("got n %d, err %v; want n %d, ErrShort", n, err, tc.n)
				}
				return
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got err %v; want one with %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatalf("got err %v", err)
			}
			if n != tc.n {
				t.Errorf("got length %d; want %d", n, tc.n)
			}
			if (h == nil) != (tc.want == nil) || h != nil && (h.SrcAddr != tc.want.SrcAddr || h.DstAddr != tc.want.DstAddr ||
				h.SrcPort != tc.want.SrcPort || h.DstPort != tc.want.DstPort || string(h.TLVs) != string(tc.want.TLVs)) {
				t.Errorf("got %+v; want %+v", h, tc.want)
			}
		})
	}
}

// TestRead checks that Read takes exactly the header from a socket,
// whether it arrives whole or in pieces, and leaves the bytes after it.
func TestRead(t *testing.T) {
	hdr1 := "PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\n"
	hdr2 := v2(1, 0x11, v4Body)
	for _, tc := range []struct {
		name   string
		pieces []string
		addr   string
		err    bool
	}{
		{"v1 whole", []string{hdr1 + "rest"}, "192.0.2.1", false},
		{"v1 in pieces", []string{hdr1[:9], hdr1[9:20], hdr1[20:] + "rest"}, "192.0.2.1", false},
		{"v2 whole", []string{hdr2 + "rest"}, "192.0.2.1", false},
		{"v2 in pieces", []string{hdr2[:3], hdr2[3:18], hdr2[18:] + "rest"}, "192.0.2.1", false},
		{"not a header", []string{"GET / HTTP/1.1\r\n\r\n"}, "", true},
		{"closed early", []string{hdr1[:10]}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				for _, p := range tc.pieces {
					io.WriteString(c, p)
					time.Sleep(10 * time.Millisecond) // lets each piece arrive alone; not asserted
				}
			}()
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			h, err := Read(c)
			if tc.err {
				if err == nil {
					t.Fatalf("got header %+v; want an error", h)
				}
				return
			}
			if err != nil || h == nil || h.SrcAddr != tc.addr {
				t.Fatalf("got %+v, %v; want source %s", h, err, tc.addr)
			}
			rest, _ := io.ReadAll(c)
			if string(rest) != "rest" {
				t.Errorf("after the header: got %q; want %q", rest, "rest")
			}
		})
	}
}

// FuzzParse checks that no input makes Parse panic or claim more bytes
// than it was given.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\n", "PROXY UNKNOWN\r\n", v2(1, 0x11, v4Body), v2(1, 0x21, v6Body), v2(0, 0, "")} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err == nil && (n > len(b) || n <= 0) {
			t.Fatalf("length %d of %d bytes", n, len(b))
		}
		if err != nil && h != nil {
			t.Fatalf("a header with an error")
		}
	})
}

// BenchmarkParse measures what a PROXY protocol header costs a
// connection, past the system calls.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"v1", "PROXY TCP4 192.0.2.1 192.0.2.2 51000 443\r\nGET / HTTP/1.1\r\n"},
		{"v2", v2(1, 0x11, v4Body) + "GET / HTTP/1.1\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
