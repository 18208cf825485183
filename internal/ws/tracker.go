package ws

import "encoding/binary"

// Tracker follows the frames in one direction of a WebSocket stream. It is
// fed the bytes as they pass, in chunks of any size, and always knows
// whether the stream sits at a frame boundary, what remains of the current
// frame and how many frames, messages and payload bytes went by. It never
// unmasks or keeps payload: it holds at most MaxHeaderLen bytes of a header
// split across chunks, and the two code bytes of a Close frame, which it
// unmasks to learn the code (RFC 6455 5.5.1).
//
// The zero Tracker is ready at a boundary. It is not safe for concurrent use.
type Tracker struct {
	hdr  [MaxHeaderLen]byte // a header split across chunks
	hn   int                // bytes in hdr
	cur  Header             // header of the frame in progress or last one
	left uint64             // payload bytes of cur still to come
	off  uint64             // payload bytes of cur already seen

	frames, messages, payload, total uint64

	closeSeen, closeDone bool
	closeBuf             [2]byte
	closeCode            uint16
	closeText            *closeText // the first Close's reason, once it has one

	err error
}

// Feed consumes all of p. It returns the first framing error, after which
// the Tracker is lost: it ignores further input and never reports a
// boundary again.
func (t *Tracker) Feed(p []byte) error {
	_, err := t.advance(p, false)
	return err
}

// FeedFrame consumes p up to the end of the current frame and returns how
// many bytes it took. When it returns n < len(p) the stream is at a frame
// boundary after p[:n]. At a boundary it consumes the next whole frame (or
// all of p when the frame continues past it). A zero-length frame whose
// header is complete ends at once.
func (t *Tracker) FeedFrame(p []byte) (int, error) {
	return t.advance(p, true)
}

func (t *Tracker) advance(p []byte, stopAtEnd bool) (int, error) {
	if t.err != nil {
		return len(p), t.err
	}
	consumed := 0
	for len(p) > 0 {
		if t.left > 0 {
			n := uint64(len(p))
			if n > t.left {
				n = t.left
			}
			if t.cur.Opcode == OpClose {
				t.captureClose(p[:n])
			}
			t.left -= n
			t.off += n
			t.total += n
			p = p[n:]
			consumed += int(n)
			if t.left == 0 {
				t.endFrame()
				if stopAtEnd {
					return consumed, nil
				}
			}
			continue
		}
		// A header, whole in p or split across chunks.
		var h Header
		var n int
		var err error
		if t.hn == 0 {
			h, n, err = ParseHeader(p)
			if err == ErrShortHeader {
				t.hn = copy(t.hdr[:], p)
				t.total += uint64(len(p))
				return consumed + len(p), nil
			}
		} else {
			k := copy(t.hdr[t.hn:], p)
			h, n, err = ParseHeader(t.hdr[:t.hn+k])
			if err == ErrShortHeader {
				t.hn += k
				t.total += uint64(len(p))
				return consumed + len(p), nil
			}
			if err == nil {
				n -= t.hn // n > t.hn: the old prefix was short
				t.hn = 0
			}
		}
		if err != nil {
			t.err = err
			return consumed, err
		}
		t.total += uint64(n)
		p = p[n:]
		consumed += n
		t.startFrame(h)
		if t.left == 0 {
			t.endFrame()
			if stopAtEnd {
				return consumed, nil
			}
		}
	}
	return consumed, nil
}

func (t *Tracker) startFrame(h Header) {
	t.cur = h
	t.left = h.Length
	t.off = 0
	if h.Opcode == OpClose && !t.closeSeen {
		t.closeSeen = true
		t.closeCode = CloseNoStatus
	}
}

func (t *Tracker) endFrame() {
	t.frames++
	t.payload += t.cur.Length
	if t.cur.Fin && !t.cur.Opcode.IsControl() {
		t.messages++
	}
	if t.cur.Opcode == OpClose && t.closeSeen && !t.closeDone {
		t.closeDone = true
	}
}

// closeText is the reason of a Close frame (RFC 6455 5.5.1), unmasked.
type closeText struct {
	b [MaxControlPayload - 2]byte
	n uint8
}

// captureClose records the payload of the first Close frame: its code,
// and its reason in closeText, allocated at the reason's first byte.
func (t *Tracker) captureClose(b []byte) {
	if t.closeDone {
		return
	}
	if t.off+uint64(len(b)) > 2 {
		start := 0
		if t.off < 2 {
			start = int(2 - t.off)
		}
		if t.closeText == nil {
			t.closeText = new(closeText)
		}
		ct := t.closeText
		for i := start; i < len(b); i++ {
			c := b[i]
			if t.cur.Masked {
				c ^= t.cur.MaskKey[(t.off+uint64(i))&3]
			}
			if int(ct.n) < len(ct.b) {
				ct.b[ct.n] = c
				ct.n++
			}
		}
	}
	for i := 0; i < len(b) && t.off+uint64(i) < 2; i++ {
		j := t.off + uint64(i)
		c := b[i]
		if t.cur.Masked {
			c ^= t.cur.MaskKey[j&3]
		}
		t.closeBuf[j] = c
		if j == 1 {
			t.closeCode = binary.BigEndian.Uint16(t.closeBuf[:])
		}
	}
}

// AtBoundary reports whether the bytes fed so far end exactly between two
// frames, where a new frame (such as a Close) may be inserted. A lost
// Tracker is never at a boundary.
func (t *Tracker) AtBoundary() bool { return t.err == nil && t.hn == 0 && t.left == 0 }

// InHeader reports whether the bytes fed so far end inside a frame header:
// the frame has begun but its header is not complete yet.
func (t *Tracker) InHeader() bool { return t.err == nil && t.hn > 0 }

// Remaining returns the payload bytes of the current frame still to come
// (0 at a boundary or inside a header).
func (t *Tracker) Remaining() uint64 { return t.left }

// Opcode returns the opcode of the current frame, or of the last one at a
// boundary.
func (t *Tracker) Opcode() Opcode { return t.cur.Opcode }

// Header returns the header of the current frame, or of the last one at
// a boundary; the zero Header before the first.
func (t *Tracker) Header() Header { return t.cur }

// Frames returns the number of complete frames.
func (t *Tracker) Frames() uint64 { return t.frames }

// Messages returns the number of complete data messages (a text, binary or
// continuation frame with FIN ends one); control frames are not counted.
func (t *Tracker) Messages() uint64 { return t.messages }

// PayloadBytes returns the payload bytes of complete frames.
func (t *Tracker) PayloadBytes() uint64 { return t.payload }

// Bytes returns all bytes consumed, headers included.
func (t *Tracker) Bytes() uint64 { return t.total }

// CloseSeen reports whether a Close frame header went by; code is its
// status code once both code bytes went by, CloseNoStatus before that or
// when the Close has no body. done reports that the whole Close frame went
// by.
func (t *Tracker) CloseSeen() (code uint16, seen, done bool) {
	return t.closeCode, t.closeSeen, t.closeDone
}

// CloseReason returns the reason text of the first Close frame, as sent
// (RFC 6455 7.1.6; UTF-8 is not checked), "" when it had none or has not
// gone by whole.
func (t *Tracker) CloseReason() string {
	if !t.closeDone || t.closeText == nil {
		return ""
	}
	return string(t.closeText.b[:t.closeText.n])
}

// Err returns the framing error that lost the Tracker, or nil.
func (t *Tracker) Err() error { return t.err }
