package wsframe

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name string
		n    int
		mask *[4]byte
	}{
		{"empty", 0, nil},
		{"small masked", 125, &mask},
		{"16-bit", 126, nil},
		{"16 KiB masked", 16 << 10, &mask},
		{"64-bit", 70000, &mask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("abcdefg"), tt.n/7+1)[:tt.n]
			frame := AppendFrame(nil, OpBinary, payload, tt.mask)
			if got, want := len(frame), HeaderLen(tt.n, tt.mask != nil)+tt.n; got != want {
				t.Fatalf("frame length = %d; want %d", got, want)
			}
			r := bufio.NewReader(bytes.NewReader(frame))
			h, err := ReadHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			if h.Length != int64(tt.n) || h.Opcode != OpBinary || !h.Fin || h.Masked != (tt.mask != nil) {
				t.Fatalf("header = %+v; want length %d binary fin masked=%v", h, tt.n, tt.mask != nil)
			}
			got := make([]byte, h.Length)
			if _, err := io.ReadFull(r, got); err != nil {
				t.Fatal(err)
			}
			if h.Masked {
				// Unmask in two pieces to exercise the offset.
				p := Mask(got[:len(got)/3], h.Mask, 0)
				Mask(got[len(got)/3:], h.Mask, p)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("payload after unmasking differs from the original")
			}
		})
	}
}

func TestAcceptKey(t *testing.T) {
	// RFC 6455 section 1.3's example.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey = %q; want %q", got, want)
	}
}
