package tunnel

import "wsgate/internal/ws"

// Frame is one WebSocket frame a frame-aware tunnel relayed, as its header
// announced it (RFC 6455 5.2). A data message ends with a frame whose Fin
// is set and whose Opcode is not a control opcode (5.4); Opcode is
// ws.OpContinuation for the frames after a message's first.
type Frame struct {
	FromClient bool // client → upstream; false: upstream → client
	Opcode     ws.Opcode
	Fin        bool
	Length     uint64 // payload bytes
}

// FrameObserver is told of each frame a frame-aware tunnel relays
// (Options.Frames). Frame is called from the goroutine or event loop
// relaying the frame's direction, in that direction's order, once the
// frame's last byte has been read and just before it is written to the
// other side; the two directions may call at once. Frames a tunnel drains
// and drops while closing, and the Close frames wsgate writes itself, are
// not reported (Result.CloseCode has the code of the first Close). Frame
// must be fast and must not block: the direction waits for it.
type FrameObserver interface {
	Frame(Frame)
}

// feed is Tracker.Feed for a chunk about to be relayed. With no
// FrameObserver it costs one nil check per chunk; with one, the chunk is
// fed frame by frame and each frame that ends in it is reported.
func (c *copier) feed(p []byte) {
	if c.t.h.frames == nil {
		c.tr.Feed(p)
		return
	}
	for len(p) > 0 {
		n, err := c.feedFrame(p)
		if err != nil || n == 0 {
			return // a lost Tracker keeps relaying; it reports nothing more
		}
		p = p[n:]
	}
}

// feedFrame is Tracker.FeedFrame for a chunk about to be relayed,
// reporting the frame that ends in p[:n] to the FrameObserver, if any.
func (c *copier) feedFrame(p []byte) (int, error) {
	fn := c.t.h.frames
	if fn == nil {
		return c.tr.FeedFrame(p)
	}
	before := c.tr.Frames()
	n, err := c.tr.FeedFrame(p)
	if c.tr.Frames() != before {
		h := c.tr.Header()
		fn(Frame{FromClient: c.dir == clientToUpstream, Opcode: h.Opcode, Fin: h.Fin, Length: h.Length})
	}
	return n, err
}
