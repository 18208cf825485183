package conformance

import "strings"

// This file holds groups 12 and 13: permessage-deflate (RFC 7692),
// negotiated by the peers and passed through untouched.

const offer = "permessage-deflate; client_max_window_bits"

// zmsg is a compressed message of op with payload p in one frame (RSV1
// on its first frame, 6.1 of RFC 7692).
func zmsg(op byte, p []byte) Frame { return Frame{Fin: true, RSV: rsv1, Op: op, Payload: deflate(p)} }

// zevent is the event of p echoed compressed.
func zevent(op byte, p []byte) string {
	if op == opText {
		return evZText(p)
	}
	return evZBin(p)
}

// zhs is the handshake event of a negotiated permessage-deflate.
var zhs = evHandshake(101, deflateAccept)

// zechoed and zfailed are echoed and failed on a connection with
// permessage-deflate.
func zechoed(events ...string) []string { return withHandshake(echoed(events...)) }
func zfailed(code int, events ...string) []string {
	return withHandshake(failed(code, events...))
}
func withHandshake(ev []string) []string { ev[0] = zhs; return ev }

// deflateCases (12.x): compressed messages of many sizes, in one frame
// or fragmented, beside uncompressed ones; RSV1 where RFC 7692 does not
// allow it, and compressed data that is not valid, fail.
func deflateCases() []Case {
	var out []Case
	add := func(desc string, chop int, s func() Script) {
		out = append(out, Case{ID: id("12."+itoa(len(out)/8+1), len(out)%8+1), Desc: desc, Offer: offer, Chop: chop, script: s})
	}
	sizes := []int{16, 64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10}
	for _, op := range []byte{opText, opBinary} {
		for _, n := range sizes {
			add("compressed "+opName(op)+" message of "+size(n), 0, func() Script {
				p := payload(op, n)
				return Script{Frames: seq(zmsg(op, p)), Want: zechoed(zevent(op, p))}
			})
		}
	}
	hello := []byte(strings.Repeat("Hello, compressed world! ", 40))
	add("10 compressed text messages", 0, func() Script {
		var s Script
		var ev []string
		for i := range 10 {
			p := append([]byte(itoa(i)), hello...)
			s.Frames = append(s.Frames, zmsg(opText, p))
			ev = append(ev, evZText(p))
		}
		s.Want = zechoed(ev...)
		return s
	})
	fragmented := func() []Frame {
		z := deflate(hello)
		fs := fragments(opText, z, len(z)/3+1)
		fs[0].RSV = rsv1
		return fs
	}
	add("compressed text in 3 fragments, RSV1 on the first", 0, func() Script {
		return Script{Frames: fragmented(), Want: zechoed(evZText(hello))}
	})
	add("compressed text in 3 fragments, byte by byte", 1, func() Script {
		return Script{Frames: fragmented(), Want: zechoed(evZText(hello))}
	})
	add("compressed text in 3 fragments, a Ping between", 0, func() Script {
		fs := fragmented()
		fs = append(fs[:1:1], append([]Frame{ping("between")}, fs[1:]...)...)
		return Script{Frames: fs, Want: zechoed(evPong([]byte("between")), evZText(hello))}
	})
	add("an uncompressed text message", 0, fixed(seq(text("plain")), zechoed(evText([]byte("plain")))))
	add("compressed, uncompressed, compressed", 0, fixed(seq(zmsg(opText, hello), bin([]byte("plain")), zmsg(opBinary, hello)),
		zechoed(evZText(hello), evBinary([]byte("plain")), evZBin(hello))))
	add("RSV1 on a continuation frame", 0, func() Script {
		fs := fragmented()
		fs[1].RSV = rsv1
		return Script{Frames: fs, Want: zfailed(1002)}
	})
	add("RSV1 on a Ping", 0, fixed(seq(Frame{Fin: true, RSV: rsv1, Op: opPing, Payload: deflate([]byte("ping"))}), zfailed(1002)))
	add("compressed text that is not UTF-8", 0, fixed(seq(zmsg(opText, []byte("κόσμε\xed\xa0\x80edited"))), zfailed(1007)))
	add("RSV1 on data that is not DEFLATE", 0, fixed(seq(Frame{Fin: true, RSV: rsv1, Op: opBinary, Payload: repeat(0xff, 32)}), zfailed(1007)))
	add("RSV1 and RSV2 on a text frame", 0, fixed(seq(Frame{Fin: true, RSV: rsv1 | rsv2, Op: opText, Payload: deflate(hello)}), zfailed(1002)))
	return out
}

// negotiationCases (13.x): offers with their parameters, several offers,
// an unknown extension before one: the server's answer reaches the
// client as it gave it, and compressed messages flow both ways.
func negotiationCases() []Case {
	offers := []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; client_max_window_bits=15; server_max_window_bits=15",
		"permessage-deflate; client_max_window_bits, permessage-deflate",
		"x-webkit-deflate-frame, permessage-deflate",
	}
	var out []Case
	for i, o := range offers {
		out = append(out, Case{ID: id("13.1", i+1), Desc: "offer " + o, Offer: o, script: func() Script {
			var s Script
			var ev []string
			for j, n := range []int{16, 1 << 10, 64 << 10} {
				op := []byte{opText, opBinary, opText}[j]
				p := payload(op, n)
				s.Frames = append(s.Frames, zmsg(op, p))
				ev = append(ev, zevent(op, p))
			}
			s.Want = zechoed(ev...)
			return s
		}})
	}
	return out
}
