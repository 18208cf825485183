package conformance

import (
	"strconv"
	"strings"
)

var itoa = strconv.Itoa

// This file holds groups 1 to 5: framing, pings and pongs, reserved
// bits, opcodes and fragmentation (RFC 6455 5.2 to 5.5).

// framingCases (1.x): text and binary messages of every length encoding
// (7-bit, 16-bit, 64-bit; 5.2), one write each or chopped.
func framingCases() []Case {
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536, 65536}
	var out []Case
	for g, op := range []byte{opText, opBinary} {
		for i, n := range sizes {
			c := Case{ID: id("1."+string(rune('1'+g)), i+1), Desc: opName(op) + " message of " + itoa(n) + " bytes"}
			if i == len(sizes)-1 {
				c.Chop, c.Desc = 997, c.Desc+", written in pieces of 997 bytes"
			}
			fill := byte('*')
			ev := evText
			if op == opBinary {
				fill, ev = 0xfe, evBinary
			}
			p := repeat(fill, n)
			c.script = fixed(seq(msg(op, p)), echoed(ev(p)))
			out = append(out, c)
		}
	}
	hello := []byte("Hello")
	long := func(n int, f Frame) Frame { f.LenBytes = n; return f }
	unmasked := func(f Frame) Frame { f.Unmasked = true; return f }
	topBit := []byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 'H', 'e', 'l', 'l', 'o'}
	out = append(out,
		Case{ID: "1.3.1", Desc: "text of 5 bytes, its length in 16 bits", script: fixed(seq(long(2, text("Hello"))), failed(1002))},
		Case{ID: "1.3.2", Desc: "text of 5 bytes, its length in 64 bits", script: fixed(seq(long(8, text("Hello"))), failed(1002))},
		Case{ID: "1.3.3", Desc: "text, then text of 126 bytes with its length in 64 bits", script: fixed(seq(text("Hello"), long(8, msg(opText, repeat('*', 126)))), failed(1002, evText(hello)))},
		Case{ID: "1.3.4", Desc: "Ping of 5 bytes, its length in 16 bits", script: fixed(seq(long(2, ping("Hello"))), failed(1002))},
		Case{ID: "1.3.5", Desc: "a 64-bit length with its most significant bit set", script: fixed(seq(Frame{Raw: topBit}), failed(1002))},
		Case{ID: "1.4.1", Desc: "unmasked text", script: fixed(seq(unmasked(text("Hello"))), failed(1002))},
		Case{ID: "1.4.2", Desc: "text, then unmasked text", script: fixed(seq(text("Hello"), unmasked(text("Hello"))), failed(1002, evText(hello)))},
		Case{ID: "1.4.3", Desc: "unmasked Ping", script: fixed(seq(unmasked(ping("Hello"))), failed(1002))},
		Case{ID: "1.4.4", Desc: "unmasked Close", script: fixed(seq(unmasked(closeFrame(1000))), failed(1002))},
	)
	return out
}

// pingCases (2.x): Pings are answered with their payload (5.5.2, 5.5.3),
// up to the control frames' 125 bytes (5.5); unsolicited Pongs are not
// answered.
func pingCases() []Case {
	p125 := string(repeat(0xfe, 125))
	var tenPings []Frame
	var tenPongs []string
	for i := range 10 {
		s := "payload-" + itoa(i)
		tenPings = append(tenPings, ping(s))
		tenPongs = append(tenPongs, evPong([]byte(s)))
	}
	bin := string([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff})
	return []Case{
		{ID: "2.1", Desc: "Ping without payload", script: fixed(seq(ping("")), echoed(evPong(nil)))},
		{ID: "2.2", Desc: "Ping with a text payload", script: fixed(seq(ping("Hello, world!")), echoed(evPong([]byte("Hello, world!"))))},
		{ID: "2.3", Desc: "Ping with a binary payload", script: fixed(seq(ping(bin)), echoed(evPong([]byte(bin))))},
		{ID: "2.4", Desc: "Ping with 125 bytes", script: fixed(seq(ping(p125)), echoed(evPong([]byte(p125))))},
		{ID: "2.5", Desc: "Ping with 126 bytes: fail", script: fixed(seq(ping(p125+"x")), failed(1002))},
		{ID: "2.6", Desc: "Ping with 125 bytes, written byte by byte", Chop: 1, script: fixed(seq(ping(p125)), echoed(evPong([]byte(p125))))},
		{ID: "2.7", Desc: "unsolicited Pong without payload", script: fixed(seq(pong("")), echoed())},
		{ID: "2.8", Desc: "unsolicited Pong with payload", script: fixed(seq(pong("unsolicited pong payload")), echoed())},
		{ID: "2.9", Desc: "unsolicited Pong, then a Ping", script: fixed(seq(pong("unsolicited"), ping("ping")), echoed(evPong([]byte("ping"))))},
		{ID: "2.10", Desc: "10 Pings", script: fixed(tenPings, echoed(tenPongs...))},
		{ID: "2.11", Desc: "10 Pings, written byte by byte", Chop: 1, script: fixed(tenPings, echoed(tenPongs...))},
	}
}

// rsvCases (3.x): a reserved bit no extension defines fails the
// connection (5.2), after what came before it was answered.
func rsvCases() []Case {
	hello := evText([]byte("Hello"))
	with := func(f Frame, rsv byte) Frame { f.RSV = rsv; return f }
	return []Case{
		{ID: "3.1", Desc: "RSV1 on a text frame", script: fixed(seq(with(text("Hello"), rsv1)), failed(1002))},
		{ID: "3.2", Desc: "text, text with RSV2, Ping", script: fixed(seq(text("Hello"), with(text("Hello"), rsv2), ping("")), failed(1002, hello))},
		{ID: "3.3", Desc: "text, text with RSV3, Ping, byte by byte", Chop: 1, script: fixed(seq(text("Hello"), with(text("Hello"), rsv3), ping("")), failed(1002, hello))},
		{ID: "3.4", Desc: "text, text with RSV1 and RSV2, Ping, byte by byte", Chop: 1, script: fixed(seq(text("Hello"), with(text("Hello"), rsv1|rsv2), ping("")), failed(1002, hello))},
		{ID: "3.5", Desc: "RSV1 and RSV3 on a binary frame", script: fixed(seq(with(bin(repeat(0xff, 8)), rsv1|rsv3)), failed(1002))},
		{ID: "3.6", Desc: "RSV2 and RSV3 on a Ping", script: fixed(seq(with(ping("Hello"), rsv2|rsv3)), failed(1002))},
		{ID: "3.7", Desc: "all reserved bits on a Close", script: fixed(seq(with(closeFrame(1000), rsv1|rsv2|rsv3)), failed(1002))},
	}
}

// opcodeCases (4.x): reserved data (3-7) and control (11-15) opcodes
// fail the connection (5.2).
func opcodeCases() []Case {
	hello := evText([]byte("Hello"))
	var out []Case
	for g, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		group := "4." + itoa(g+1)
		for i, op := range ops {
			c := Case{ID: id(group, i+1), Desc: "reserved opcode " + itoa(int(op))}
			switch i {
			case 0:
				c.script = fixed(seq(msg(op, nil)), failed(1002))
			case 1:
				c.Desc += " with payload"
				c.script = fixed(seq(msg(op, []byte("reserved opcode payload"))), failed(1002))
			default:
				c.Desc = "text, " + c.Desc + ", Ping"
				if i == 4 {
					c.Chop, c.Desc = 1, c.Desc+", byte by byte"
				}
				c.script = fixed(seq(text("Hello"), msg(op, []byte("reserved")), ping("")), failed(1002, hello))
			}
			out = append(out, c)
		}
	}
	return out
}

// fragmentCases (5.x): fragmented messages (5.4), control frames between
// fragments, and the fragmentations that fail: fragmented control frames,
// continuations with no message, a new message inside one.
func fragmentCases() []Case {
	f12 := evText([]byte("fragment1fragment2"))
	two := seq(frag(opText, false, "fragment1"), frag(opCont, true, "fragment2"))
	withPing := seq(frag(opText, false, "fragment1"), ping("pongme!"), frag(opCont, true, "fragment2"))
	pongMe := evPong([]byte("pongme!"))
	var manyPings []Frame
	var manyPongs []string
	for i, p := range []string{"a", "b", "c", "d"} {
		op := byte(opCont)
		if i == 0 {
			op = opBinary
		}
		manyPings = append(manyPings, frag(op, i == 3, strings.Repeat(p, 10)), ping(p))
		manyPongs = append(manyPongs, evPong([]byte(p)))
	}
	abcd := []byte(strings.Repeat("a", 10) + strings.Repeat("b", 10) + strings.Repeat("c", 10) + strings.Repeat("d", 10))
	return []Case{
		{ID: "5.1", Desc: "Ping in 2 fragments", script: fixed(seq(frag(opPing, false, "fragment1"), frag(opCont, true, "fragment2")), failed(1002))},
		{ID: "5.2", Desc: "Pong in 2 fragments", script: fixed(seq(frag(opPong, false, "fragment1"), frag(opCont, true, "fragment2")), failed(1002))},
		{ID: "5.3", Desc: "text in 2 fragments", script: fixed(two, echoed(f12))},
		{ID: "5.4", Desc: "text in 2 fragments, byte by byte", Chop: 1, script: fixed(two, echoed(f12))},
		{ID: "5.5", Desc: "text in 2 fragments, a Ping between", script: fixed(withPing, echoed(pongMe, f12))},
		{ID: "5.6", Desc: "text in 2 fragments, a Ping between, byte by byte", Chop: 1, script: fixed(withPing, echoed(pongMe, f12))},
		{ID: "5.7", Desc: "text in 2 fragments, an unsolicited Pong between", script: fixed(seq(two[0], pong("unsolicited"), two[1]), echoed(f12))},
		{ID: "5.8", Desc: "binary in 4 fragments, a Ping after each", script: fixed(manyPings, echoed(append(manyPongs[:3:3], evBinary(abcd), manyPongs[3])...))},
		{ID: "5.9", Desc: "continuation with FIN and no message", script: fixed(seq(frag(opCont, true, "non-continuation payload"), text("Hello")), failed(1002))},
		{ID: "5.10", Desc: "continuation with FIN and no message, byte by byte", Chop: 1, script: fixed(seq(frag(opCont, true, "non-continuation payload"), text("Hello")), failed(1002))},
		{ID: "5.11", Desc: "continuation without FIN and no message", script: fixed(seq(frag(opCont, false, "fragment1"), frag(opCont, true, "fragment2"), text("Hello")), failed(1002))},
		{ID: "5.12", Desc: "a text frame inside a fragmented text message", script: fixed(seq(frag(opText, false, "fragment1"), text("fragment2")), failed(1002))},
		{ID: "5.13", Desc: "a binary frame inside a fragmented text message", script: fixed(seq(frag(opText, false, "fragment1"), frag(opBinary, false, "fragment2"), frag(opCont, true, "x")), failed(1002))},
		{ID: "5.14", Desc: "a message, then a continuation without FIN and no message", script: fixed(append(two[:2:2], frag(opCont, false, "fragment3"), frag(opCont, true, "fragment4")), failed(1002, f12))},
		{ID: "5.15", Desc: "a Close between fragments", script: fixed(seq(frag(opText, false, "fragment1"), closeFrame(1000), frag(opCont, true, "fragment2")), failed(1000))},
		{ID: "5.16", Desc: "text of 3 empty fragments", script: fixed(seq(frag(opText, false, ""), frag(opCont, false, ""), frag(opCont, true, "")), echoed(evText(nil)))},
		{ID: "5.17", Desc: "text in 3 fragments, byte by byte, Pings between", Chop: 1,
			script: fixed(seq(frag(opText, false, "frag"), ping("1"), frag(opCont, false, "ment"), ping("2"), frag(opCont, true, "s")),
				echoed(evPong([]byte("1")), evPong([]byte("2")), evText([]byte("fragments"))))},
	}
}
