package conformance

// This file holds groups 9 and 10: big payloads and wsgate's own size
// limits.

// bigCases (9.x): messages up to 16 MiB, in one frame or many, and many
// messages in a row. Their payloads are built when they run.
func bigCases() []Case {
	var out []Case
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	for g, op := range []byte{opText, opBinary} {
		for i, n := range sizes {
			out = append(out, Case{ID: id("9."+itoa(g+1), i+1), Desc: opName(op) + " message of " + size(n) + " in one frame", Big: n >= 4<<20,
				script: func() Script { return oneMessage(op, n, n) }})
		}
	}
	frags := []int{64, 4 << 10, 64 << 10, 1 << 20}
	for g, op := range []byte{opText, opBinary} {
		for i, f := range frags {
			out = append(out, Case{ID: id("9."+itoa(g+3), i+1), Desc: opName(op) + " message of 4 MiB in frames of " + size(f), Big: true,
				script: func() Script { return oneMessage(op, 4<<20, f) }})
		}
	}
	for g, op := range []byte{opText, opBinary} {
		for i, n := range []int{64, 4 << 10} {
			out = append(out, Case{ID: id("9."+itoa(g+7), i+1), Desc: "1000 " + opName(op) + " messages of " + size(n),
				script: func() Script {
					p := payload(op, n)
					var frames []Frame
					var events []string
					for range 1000 {
						frames = append(frames, msg(op, p))
						events = append(events, dataEvent(op, p))
					}
					return Script{Frames: frames, Want: echoed(events...)}
				}})
		}
	}
	return out
}

// oneMessage is a message of n bytes of op in frames of at most f bytes.
func oneMessage(op byte, n, f int) Script {
	p := payload(op, n)
	return Script{Frames: fragments(op, p, f), Want: echoed(dataEvent(op, p))}
}

// payload is n bytes: ASCII text for a text message, every byte value
// for a binary one.
func payload(op byte, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		if op == opText {
			p[i] = byte('a' + i%26)
		} else {
			p[i] = byte(i * 7)
		}
	}
	return p
}

func dataEvent(op byte, p []byte) string {
	if op == opText {
		return evText(p)
	}
	return evBinary(p)
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " B"
}

// limitCases (10.x): wsgate's ws_max_frame_size and ws_max_message_size
// (LimitFrame, LimitMessage) on the client's side. Straight to the echo
// server every message is echoed; through wsgate one at a limit is
// echoed and one past it gets wsgate's Close 1009 (Message Too Big) and
// is not relayed. On the upstream's side (10.8, 10.9) the echo is what
// breaks the limit: the client gets 1001, and its answer is awaited.
func limitCases() []Case {
	over := []string{hs, evClose(1009), evEOF}
	c := func(id, desc string, op byte, n, f int, past bool) Case {
		return Case{ID: id, Desc: desc, Limited: true, script: func() Script {
			s := oneMessage(op, n, f)
			if past {
				s.Gate = over
			}
			return s
		}}
	}
	return []Case{
		c("10.1", "text frame at ws_max_frame_size", opText, LimitFrame, LimitFrame, false),
		c("10.2", "text frame one byte past ws_max_frame_size", opText, LimitFrame+1, LimitFrame+1, true),
		c("10.3", "binary message at ws_max_message_size in frames at ws_max_frame_size", opBinary, LimitMessage, LimitFrame, false),
		c("10.4", "binary message one byte past ws_max_message_size in frames within ws_max_frame_size", opBinary, LimitMessage+1, LimitFrame, true),
		c("10.5", "text message one byte past ws_max_message_size in 1 KiB frames", opText, LimitMessage+1, 1<<10, true),
		{ID: "10.6", Desc: "binary message at ws_max_message_size, Pings of 125 bytes between its frames", Limited: true, script: func() Script {
			p := payload(opBinary, LimitMessage)
			var frames []Frame
			var pongs []string
			p125 := string(repeat('p', 125))
			for i, f := range fragments(opBinary, p, LimitFrame) {
				frames = append(frames, f)
				if i < LimitMessage/LimitFrame-1 {
					frames = append(frames, ping(p125))
					pongs = append(pongs, evPong([]byte(p125)))
				}
			}
			return Script{Frames: frames, Want: echoed(append(pongs, evBinary(p))...)}
		}},
		{ID: "10.7", Desc: "two text messages at ws_max_message_size, one after the other", Limited: true, script: func() Script {
			p := payload(opText, LimitMessage)
			frames := append(fragments(opText, p, LimitFrame), fragments(opText, p, LimitFrame)...)
			return Script{Frames: frames, Want: echoed(evText(p), evText(p))}
		}},
		{ID: "10.8", Desc: "the echo of a text frame at ws_max_frame_size on the upstream's side", UpstreamLimited: true,
			script: func() Script { return oneMessage(opText, LimitFrame, LimitFrame) }},
		{ID: "10.9", Desc: "the echo of a text frame one byte past ws_max_frame_size on the upstream's side: 1001 to the client", UpstreamLimited: true,
			script: func() Script {
				s := oneMessage(opText, LimitFrame+1, LimitFrame+1)
				s.Gate = []string{hs, evClose(1001), evEOF}
				return s
			}},
	}
}
