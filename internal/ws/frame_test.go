package ws

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		desc    string
		in      []byte
		want    Header
		wantN   int
		wantErr error
	}{
		{desc: "empty", in: nil, wantErr: ErrShortHeader},
		{desc: "one byte", in: []byte{0x81}, wantErr: ErrShortHeader},
		{desc: "text hello unmasked", in: []byte{0x81, 0x05, 'H'}, want: Header{Fin: true, Opcode: OpText, Length: 5}, wantN: 2},
		{desc: "masked text (RFC 6455 5.7)", in: []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, want: Header{Fin: true, Opcode: OpText, Masked: true, MaskKey: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}, wantN: 6},
		{desc: "masked short key", in: []byte{0x81, 0x85, 0x37, 0xfa}, wantErr: ErrShortHeader},
		{desc: "256 bytes", in: []byte{0x82, 0x7E, 0x01, 0x00}, want: Header{Fin: true, Opcode: OpBinary, Length: 256}, wantN: 4},
		{desc: "16-bit short", in: []byte{0x82, 0x7E, 0x01}, wantErr: ErrShortHeader},
		{desc: "64 KiB", in: []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, want: Header{Fin: true, Opcode: OpBinary, Length: 65536}, wantN: 10},
		{desc: "64-bit short", in: []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0}, wantErr: ErrShortHeader},
		{desc: "64-bit MSB", in: []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, wantErr: ErrLengthMSB},
		{desc: "rsv and fragment", in: []byte{0x71, 0x00}, want: Header{Rsv: 7, Opcode: OpText}, wantN: 2},
		{desc: "ping 125", in: []byte{0x89, 125}, want: Header{Fin: true, Opcode: OpPing, Length: 125}, wantN: 2},
		{desc: "ping 126", in: []byte{0x89, 0x7E, 0, 126}, wantErr: ErrControlTooLong},
		{desc: "fragmented close", in: []byte{0x08, 0x02}, wantErr: ErrControlFragmented},
		{desc: "non-minimal length accepted", in: []byte{0x82, 0x7E, 0x00, 0x05}, want: Header{Fin: true, Opcode: OpBinary, Length: 5}, wantN: 4},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h, n, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if h != tt.want || n != tt.wantN {
				t.Fatalf("got %+v, %d; want %+v, %d", h, n, tt.want, tt.wantN)
			}
		})
	}
}

func randomHeader(r *rand.Rand) Header {
	h := Header{
		Fin:    r.IntN(2) == 0,
		Rsv:    byte(r.IntN(8)),
		Opcode: Opcode(r.IntN(16)),
		Masked: r.IntN(2) == 0,
	}
	switch r.IntN(4) {
	case 0:
		h.Length = uint64(r.IntN(126))
	case 1:
		h.Length = uint64(126 + r.IntN(0x10000-126))
	case 2:
		h.Length = uint64(r.Int64()) // below 2^63
	default:
		h.Length = []uint64{0, 125, 126, 65535, 65536, 1<<63 - 1}[r.IntN(6)]
	}
	if h.Opcode.IsControl() {
		h.Fin = true
		h.Length %= MaxControlPayload + 1
	}
	if h.Masked {
		h.MaskKey = [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	}
	return h
}

// TestHeaderRoundTrip: ParseHeader(AppendHeader(h)) == h for every valid h,
// the size is h.Len(), and every strict prefix is ErrShortHeader.
func TestHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		h := randomHeader(r)
		b := AppendHeader(nil, h)
		if len(b) != h.Len() {
			t.Fatalf("len(AppendHeader(%+v)) = %d; want %d", h, len(b), h.Len())
		}
		got, n, err := ParseHeader(append(b, 0xAA, 0xBB))
		if err != nil || n != len(b) || got != h {
			t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v, %d, %v; want the same header, %d, nil", h, got, n, err, len(b))
		}
		for k := 0; k < len(b); k++ {
			if _, _, err := ParseHeader(b[:k]); err != ErrShortHeader {
				t.Fatalf("ParseHeader(%x) err = %v; want ErrShortHeader", b[:k], err)
			}
		}
	}
}

func TestAppendClose(t *testing.T) {
	long := string(bytes.Repeat([]byte("é"), 100)) // 200 bytes, 2 per rune
	tests := []struct {
		desc       string
		code       uint16
		reason     string
		mask       bool
		wantReason string
	}{
		{desc: "going away unmasked", code: CloseGoingAway, reason: "idle", wantReason: "idle"},
		{desc: "restart masked", code: CloseServiceRestart, reason: "reload", mask: true, wantReason: "reload"},
		{desc: "no code", code: 0, reason: "ignored"},
		{desc: "long reason cut at rune", code: CloseBadGateway, reason: long, mask: true, wantReason: long[:122]},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			b := AppendClose([]byte("prefix"), tt.code, tt.reason, tt.mask)
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("AppendClose lost dst prefix")
			}
			b = b[len("prefix"):]
			h, n, err := ParseHeader(b)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if h.Opcode != OpClose || !h.Fin || h.Masked != tt.mask {
				t.Fatalf("got header %+v; want fin close masked=%v", h, tt.mask)
			}
			body := append([]byte(nil), b[n:]...)
			if uint64(len(body)) != h.Length {
				t.Fatalf("got body of %d bytes; want %d", len(body), h.Length)
			}
			if h.Masked {
				Mask(body, h.MaskKey, 0)
			}
			code, reason, err := ParseClosePayload(body)
			wantCode := tt.code
			if wantCode == 0 {
				wantCode = CloseNoStatus
			}
			if err != nil || code != wantCode || reason != tt.wantReason {
				t.Fatalf("got %d %q %v; want %d %q nil", code, reason, err, wantCode, tt.wantReason)
			}
		})
	}
}

func TestMaskIncremental(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	data := []byte("the quick brown fox jumps")
	whole := append([]byte(nil), data...)
	Mask(whole, key, 0)
	parts := append([]byte(nil), data...)
	pos := 0
	for _, cut := range [][2]int{{0, 3}, {3, 4}, {4, 11}, {11, len(data)}} {
		pos = Mask(parts[cut[0]:cut[1]], key, pos)
	}
	if !bytes.Equal(whole, parts) {
		t.Fatalf("masking in pieces = %x; want %x", parts, whole)
	}
}

// FuzzParseHeader: ParseHeader never panics, never reports more bytes than
// given, and re-encoding a parsed header parses to the same header.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v; want 0", n, err)
			}
			return
		}
		if n < 2 || n > MaxHeaderLen || n > len(b) {
			t.Fatalf("n = %d for %d input bytes", n, len(b))
		}
		enc := AppendHeader(nil, h)
		h2, n2, err := ParseHeader(enc)
		if err != nil || h2 != h || n2 != len(enc) || n2 > n {
			t.Fatalf("re-parse of %x = %+v, %d, %v; want %+v, %d, nil", enc, h2, n2, err, h, len(enc))
		}
		if n2 == n && !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding of minimal %x = %x", b[:n], enc)
		}
	})
}

func BenchmarkParseHeader(b *testing.B) {
	inputs := [][]byte{
		AppendHeader(nil, Header{Fin: true, Opcode: OpText, Length: 100}),
		AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: 16384}),
		AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: 1 << 20}),
	}
	b.ReportAllocs()
	var total uint64
	for i := 0; b.Loop(); i++ {
		h, _, err := ParseHeader(inputs[i%len(inputs)])
		if err != nil {
			b.Fatal(err)
		}
		total += h.Length
	}
	_ = total
}

func BenchmarkAppendClose(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendClose(buf[:0], CloseGoingAway, "idle timeout", true)
	}
}
