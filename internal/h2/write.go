package h2

import (
	"errors"
	"os"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// This file sends frames: one writer at a time under wmu, each frame
// flushed as it is written, bounded by send_timeout; DATA within the
// client's flow-control windows.

var (
	errConnClosed  = errors.New("http2: connection closed")
	errStreamReset = errors.New("http2: stream reset")
	errStreamDone  = errors.New("http2: stream already ended")
)

// writeFrame runs write with the framer under wmu and flushes. A failed
// or timed-out write breaks the connection: it is closed.
func (sc *serverConn) writeFrame(write func(fr *http2.Framer) error) error {
	return sc.write(write, true)
}

// writeControl is writeFrame for the read loop's answers (SETTINGS and
// PING acknowledgements): they are flushed only when no whole frame
// waits in the read buffer, so that a burst of control frames costs one
// write, and a client that does not read them stops being read (its
// flood is then bounded by send_timeout, not by memory).
func (sc *serverConn) writeControl(write func(fr *http2.Framer) error) error {
	return sc.write(write, !sc.frameBuffered())
}

// frameBuffered reports whether a whole frame waits in the read buffer;
// the read loop only.
func (sc *serverConn) frameBuffered() bool {
	n := sc.br.Buffered()
	if n < 9 {
		return false
	}
	h, _ := sc.br.Peek(9)
	return n >= 9+(int(h[0])<<16|int(h[1])<<8|int(h[2]))
}

func (sc *serverConn) write(write func(fr *http2.Framer) error, flush bool) error {
	sc.wmu.Lock()
	if sc.wbroken {
		sc.wmu.Unlock()
		return errConnClosed
	}
	if t := sc.cfg.Limits.SendTimeout; t > 0 {
		sc.nc.SetWriteDeadline(time.Now().Add(t))
	}
	err := write(sc.fr)
	if err == nil && flush {
		err = sc.bw.Flush()
	}
	if err != nil {
		sc.wbroken = true
	}
	sc.wmu.Unlock()
	if err != nil {
		sc.logf("writing to client", "error", err)
		sc.closeConn()
	}
	return err
}

// writeHeaders encodes fields and sends them as HEADERS and CONTINUATION
// frames of the client's frame size; it returns the bytes sent.
func (sc *serverConn) writeHeaders(id uint32, fields []hpack.HeaderField, end bool) (int, error) {
	n := 0
	err := sc.writeFrame(func(fr *http2.Framer) error {
		sc.hbuf.Reset()
		for _, f := range fields {
			sc.henc.WriteField(f)
		}
		block := sc.hbuf.Bytes()
		max := int(sc.maxFrame)
		first := true
		for first || len(block) > 0 {
			frag := block
			if len(frag) > max {
				frag = frag[:max]
			}
			block = block[len(frag):]
			n += 9 + len(frag)
			var err error
			if first {
				err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag,
					EndStream: end, EndHeaders: len(block) == 0})
				first = false
			} else {
				err = fr.WriteContinuation(id, len(block) == 0, frag)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// resetStream sends RST_STREAM.
func (sc *serverConn) resetStream(id uint32, code http2.ErrCode) {
	sc.writeFrame(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

// abandon resets st with code: its handler's reads and writes fail from
// now on, and its frames are no longer taken.
func (sc *serverConn) abandon(st *stream, code http2.ErrCode) {
	sc.mu.Lock()
	already := st.reset
	st.reset = true
	if sc.streams[st.id] == st {
		delete(sc.streams, st.id)
	}
	st.cond.Broadcast()
	sc.mu.Unlock()
	if !already {
		sc.resetStream(st.id, code)
	}
}

// writeData sends p as DATA frames of at most http2_chunk_size, each
// within the stream's and the connection's send windows, waiting for
// WINDOW_UPDATE (under the stream's write deadline) when they are
// spent; end sets END_STREAM on the last. It returns the bytes of p sent
// and the frame bytes around them.
func (st *stream) writeData(p []byte, end bool) (n, framing int, err error) {
	sc := st.sc
	for len(p) > 0 || end {
		chunk, err := st.reserve(len(p))
		if err != nil {
			return n, framing, err
		}
		data := p[:chunk]
		p = p[chunk:]
		last := end && len(p) == 0
		if err := sc.writeFrame(func(fr *http2.Framer) error { return fr.WriteData(st.id, last, data) }); err != nil {
			return n, framing, err
		}
		n += chunk
		framing += 9
		if last {
			sc.mu.Lock()
			st.localClosed = true
			sc.mu.Unlock()
			break
		}
	}
	return n, framing, nil
}

// reserve takes up to want bytes of the send windows for one DATA frame,
// waiting while either is spent; want 0 (an empty END_STREAM frame)
// takes nothing and does not wait.
func (st *stream) reserve(want int) (int, error) {
	sc := st.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for {
		switch {
		case sc.closed:
			return 0, errConnClosed
		case st.reset:
			return 0, errStreamReset
		case st.localClosed:
			return 0, errStreamDone
		case !st.wdeadline.IsZero() && !time.Now().Before(st.wdeadline):
			return 0, os.ErrDeadlineExceeded
		}
		if want == 0 {
			return 0, nil
		}
		chunk := st.chunk
		if chunk <= 0 {
			chunk = sc.cfg.ChunkSize
		}
		if chunk <= 0 {
			chunk = 8 << 10
		}
		n := min(int64(want), st.sendWin, sc.sendWin, int64(chunk), int64(sc.frameSize()))
		if n > 0 {
			st.sendWin -= n
			sc.sendWin -= n
			return int(n), nil
		}
		st.waiting = true
		st.cond.Wait()
		st.waiting = false
	}
}

// frameSize is the largest DATA payload the client takes; sc.mu is held
// (maxFrame only grows from its 16384 floor, RFC 9113 6.5.2).
func (sc *serverConn) frameSize() uint32 {
	sc.wmu.Lock()
	n := sc.maxFrame
	sc.wmu.Unlock()
	return n
}
