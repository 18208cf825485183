package conformance

import (
	"bytes"
	"fmt"
)

// Case is one conformance case, numbered after Autobahn|Testsuite's
// groups.
type Case struct {
	ID, Desc string
	// Offer is the handshake's Sec-WebSocket-Extensions; "" for none.
	Offer string
	// Chop, when above 0, writes the frames in pieces of that many bytes.
	Chop int
	// Limited sends the case to wsgate's location with ws_max_frame_size
	// LimitFrame and ws_max_message_size LimitMessage; Script's Gate is
	// what the client sees through wsgate there.
	Limited bool
	// UpstreamLimited sends it to the location with the same limits on
	// what the upstream sends (the echo), instead.
	UpstreamLimited bool
	// Big cases move 4 MiB or more: the test gives them more time, and
	// leaves them out under the race detector, which makes them slow
	// without racing anything the smaller ones do not.
	Big bool

	script func() Script
}

// Script is a case's frames and the events the client must observe
// straight from a strict server (Want) and, for a Limited case, through
// wsgate (Gate; otherwise what the strict server gave).
type Script struct {
	Frames     []Frame
	Want, Gate []string
}

// Script builds the case's frames and expected events; big cases build
// their payloads here rather than when the list is made.
func (c *Case) Script() Script { return c.script() }

// The sizes of wsgate's limits on the Limited location.
const (
	LimitFrame   = 16 << 10
	LimitMessage = 64 << 10
)

// Cases returns every case, in order.
func Cases() []Case {
	var all []Case
	for _, g := range [][]Case{
		framingCases(), pingCases(), rsvCases(), opcodeCases(), fragmentCases(),
		utf8Cases(), closeCases(), bigCases(), limitCases(), deflateCases(), negotiationCases(),
	} {
		all = append(all, g...)
	}
	return all
}

// Frame builders.

func msg(op byte, p []byte) Frame { return Frame{Fin: true, Op: op, Payload: p} }
func text(s string) Frame         { return msg(opText, []byte(s)) }
func bin(p []byte) Frame          { return msg(opBinary, p) }
func ping(s string) Frame         { return msg(opPing, []byte(s)) }
func pong(s string) Frame         { return msg(opPong, []byte(s)) }
func closeFrame(code int) Frame   { return msg(opClose, closePayload(code, "")) }
func frag(op byte, fin bool, s string) Frame {
	return Frame{Fin: fin, Op: op, Payload: []byte(s)}
}

// fragments splits p into a message of frames of at most size bytes.
func fragments(op byte, p []byte, size int) []Frame {
	var out []Frame
	for first := true; first || len(p) > 0; first = false {
		n := min(size, len(p))
		f := Frame{Op: opCont, Payload: p[:n]}
		if first {
			f.Op = op
		}
		p = p[n:]
		f.Fin = len(p) == 0
		out = append(out, f)
	}
	return out
}

// Expected events.

const hs = "101"

// echoed is a case the server answers in full: the events, then the Pong
// to the client's Ping and the closing handshake the client starts.
func echoed(events ...string) []string {
	return append(append([]string{hs}, events...), evSync, evClose(1000), evEOF)
}

// failed is a case the server fails with code after the events (7.1.7),
// or ends with code answering the client's own Close.
func failed(code int, events ...string) []string {
	return append(append([]string{hs}, events...), evClose(code), evEOF)
}

// repeat is n bytes of b.
func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// fixed returns a script of fixed frames and expectations.
func fixed(frames []Frame, want []string) func() Script {
	return func() Script { return Script{Frames: frames, Want: want} }
}

// seq is a list of frames.
func seq(f ...Frame) []Frame { return f }

// id formats a case number.
func id(group string, n int) string { return fmt.Sprintf("%s.%d", group, n) }
