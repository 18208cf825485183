package ws

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// stream builds frames and remembers the offsets at which each frame ends.
type stream struct {
	b        []byte
	ends     map[int]bool
	messages uint64
	frames   uint64
}

func (s *stream) add(h Header, payload []byte) {
	if s.ends == nil {
		s.ends = map[int]bool{0: true}
	}
	h.Length = uint64(len(payload))
	s.b = AppendHeader(s.b, h)
	start := len(s.b)
	s.b = append(s.b, payload...)
	if h.Masked {
		Mask(s.b[start:], h.MaskKey, 0)
	}
	s.ends[len(s.b)] = true
	s.frames++
	if h.Fin && !h.Opcode.IsControl() {
		s.messages++
	}
}

func randomStream(r *rand.Rand, masked bool, closeCode uint16) *stream {
	s := &stream{}
	for i := 0; i < 40; i++ {
		key := [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
		n := []int{0, 1, 125, 126, 300, 65535, 65536, 70000}[r.IntN(8)]
		switch r.IntN(4) {
		case 0: // fragmented message with a ping in between
			s.add(Header{Opcode: OpText, Masked: masked, MaskKey: key}, make([]byte, n))
			s.add(Header{Fin: true, Opcode: OpPing, Masked: masked, MaskKey: key}, []byte("p"))
			s.add(Header{Fin: true, Opcode: OpContinuation, Masked: masked, MaskKey: key}, make([]byte, 3))
		default:
			s.add(Header{Fin: true, Opcode: OpBinary, Masked: masked, MaskKey: key}, make([]byte, n))
		}
	}
	if closeCode != 0 {
		body := binary.BigEndian.AppendUint16(nil, closeCode)
		s.add(Header{Fin: true, Opcode: OpClose, Masked: masked, MaskKey: [4]byte{9, 8, 7, 6}}, append(body, "bye"...))
	}
	return s
}

func TestTrackerChunks(t *testing.T) {
	tests := []struct {
		desc     string
		masked   bool
		maxChunk int
	}{
		{desc: "unmasked bytewise", masked: false, maxChunk: 1},
		{desc: "masked bytewise", masked: true, maxChunk: 1},
		{desc: "masked small chunks", masked: true, maxChunk: 7},
		{desc: "unmasked big chunks", masked: false, maxChunk: 20000},
	}
	for i, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 7))
			s := randomStream(r, tt.masked, CloseGoingAway)
			var tr Tracker
			off := 0
			for off < len(s.b) {
				n := 1 + r.IntN(tt.maxChunk)
				if off+n > len(s.b) {
					n = len(s.b) - off
				}
				if tt.maxChunk == 1 || r.IntN(2) == 0 {
					if err := tr.Feed(s.b[off : off+n]); err != nil {
						t.Fatalf("Feed at %d: %v", off, err)
					}
				} else {
					k, err := tr.FeedFrame(s.b[off : off+n])
					if err != nil {
						t.Fatalf("FeedFrame at %d: %v", off, err)
					}
					if k < n && !s.ends[off+k] {
						t.Fatalf("FeedFrame stopped at %d, not a frame end", off+k)
					}
					n = k
				}
				off += n
				if got, want := tr.AtBoundary(), s.ends[off]; got != want {
					t.Fatalf("AtBoundary at %d = %v; want %v", off, got, want)
				}
			}
			if tr.Frames() != s.frames || tr.Messages() != s.messages || tr.Bytes() != uint64(len(s.b)) {
				t.Fatalf("got frames %d messages %d bytes %d; want %d %d %d",
					tr.Frames(), tr.Messages(), tr.Bytes(), s.frames, s.messages, len(s.b))
			}
			code, seen, done := tr.CloseSeen()
			if code != CloseGoingAway || !seen || !done {
				t.Fatalf("CloseSeen = %d %v %v; want %d true true", code, seen, done, CloseGoingAway)
			}
		})
	}
}

func TestTrackerCloseCodePartial(t *testing.T) {
	frame := AppendClose(nil, CloseServiceRestart, "reload", true)
	var tr Tracker
	hdrLen := 6
	if err := tr.Feed(frame[:hdrLen+1]); err != nil {
		t.Fatal(err)
	}
	if code, seen, done := tr.CloseSeen(); code != CloseNoStatus || !seen || done {
		t.Fatalf("after 1 code byte: CloseSeen = %d %v %v; want %d true false", code, seen, done, CloseNoStatus)
	}
	if tr.AtBoundary() || tr.Remaining() != uint64(len(frame)-hdrLen-1) {
		t.Fatalf("AtBoundary %v Remaining %d; want false %d", tr.AtBoundary(), tr.Remaining(), len(frame)-hdrLen-1)
	}
	if err := tr.Feed(frame[hdrLen+1:]); err != nil {
		t.Fatal(err)
	}
	if code, seen, done := tr.CloseSeen(); code != CloseServiceRestart || !seen || !done {
		t.Fatalf("CloseSeen = %d %v %v; want %d true true", code, seen, done, CloseServiceRestart)
	}
	if !tr.AtBoundary() || tr.Opcode() != OpClose {
		t.Fatalf("AtBoundary %v Opcode %v; want true close", tr.AtBoundary(), tr.Opcode())
	}
}

func TestTrackerInvalid(t *testing.T) {
	var tr Tracker
	if err := tr.Feed([]byte{0x82, 0x01, 0x00}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Feed([]byte{0x89, 0x7E, 0x00}); err != nil {
		t.Fatalf("split invalid header reported early: %v", err)
	}
	if err := tr.Feed([]byte{0xFF}); err != ErrControlTooLong {
		t.Fatalf("got %v; want ErrControlTooLong", err)
	}
	if tr.AtBoundary() {
		t.Fatalf("lost tracker reports a boundary")
	}
	if err := tr.Feed([]byte{0x82, 0x00}); err != ErrControlTooLong {
		t.Fatalf("after loss got %v; want ErrControlTooLong", err)
	}
}

// FuzzTracker: feeding the same bytes whole or split in two gives the same
// counts, boundary state and error.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x88, 0x02, 0x03, 0xe9}, 3)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		if cut < 0 || cut > len(b) {
			return
		}
		var whole, split Tracker
		errW := whole.Feed(b)
		errS := split.Feed(b[:cut])
		if errS == nil {
			errS = split.Feed(b[cut:])
		}
		if errW != errS {
			t.Fatalf("errors differ: whole %v, split %v", errW, errS)
		}
		if errW != nil {
			return
		}
		if whole.Frames() != split.Frames() || whole.Messages() != split.Messages() ||
			whole.AtBoundary() != split.AtBoundary() || whole.Remaining() != split.Remaining() ||
			whole.Bytes() != uint64(len(b)) || split.Bytes() != uint64(len(b)) {
			t.Fatalf("whole and split trackers differ")
		}
		c1, s1, d1 := whole.CloseSeen()
		c2, s2, d2 := split.CloseSeen()
		if c1 != c2 || s1 != s2 || d1 != d2 {
			t.Fatalf("close state differs: %d %v %v vs %d %v %v", c1, s1, d1, c2, s2, d2)
		}
	})
}

func BenchmarkTracker16KiB(b *testing.B) {
	h := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: 16384})
	msg := append(h, make([]byte, 16384)...)
	var tr Tracker
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := tr.Feed(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrackerCloseReason: the reason of the first Close frame, masked or
// not, fed whole or a byte at a time.
func TestTrackerCloseReason(t *testing.T) {
	for _, masked := range []bool{false, true} {
		f := AppendClose(nil, 1008, "too many messages", masked)
		second := AppendClose(nil, 1000, "later", masked)
		for _, step := range []int{len(f), 1, 3} {
			var tr Tracker
			all := append(append([]byte(nil), f...), second...)
			for i := 0; i < len(all); i += step {
				tr.Feed(all[i:min(i+step, len(all))])
			}
			code, _, done := tr.CloseSeen()
			if got := tr.CloseReason(); got != "too many messages" || code != 1008 || !done {
				t.Errorf("masked %v, step %d: got %d %q; want 1008 \"too many messages\"", masked, step, code, got)
			}
		}
	}
	var tr Tracker
	tr.Feed(AppendClose(nil, 1000, "", false))
	if got := tr.CloseReason(); got != "" {
		t.Errorf("no reason: got %q", got)
	}
}
