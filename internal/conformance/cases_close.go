package conformance

import "strings"

// This file holds group 7: close handling.

// closeCases (7.x): the closing handshake (5.5.1, 7.1): nothing is
// answered after a Close, a Close's body is a code that may be sent
// (7.4) and a UTF-8 reason (5.5.1), all within 125 bytes (5.5).
func closeCases() []Case {
	hello := evText([]byte("Hello"))
	big := repeat('*', 256<<10)
	closeRaw := func(p []byte) Frame { return msg(opClose, p) }
	out := []Case{
		{ID: "7.1.1", Desc: "text, then Close", script: fixed(seq(text("Hello"), closeFrame(1000)), failed(1000, hello))},
		{ID: "7.1.2", Desc: "Close, then Close again", script: fixed(seq(closeFrame(1000), closeFrame(1000)), failed(1000))},
		{ID: "7.1.3", Desc: "Close, then Ping: not answered", script: fixed(seq(closeFrame(1000), ping("Hello")), failed(1000))},
		{ID: "7.1.4", Desc: "Close, then text: not echoed", script: fixed(seq(closeFrame(1000), text("Hello")), failed(1000))},
		{ID: "7.1.5", Desc: "a fragment, Close, the last fragment", script: fixed(seq(frag(opText, false, "fragment1"), closeFrame(1000), frag(opCont, true, "fragment2")), failed(1000))},
		{ID: "7.1.6", Desc: "256 KiB of text, then Close", script: fixed(seq(msg(opText, big), closeFrame(1000)), failed(1000, evText(big)))},
		{ID: "7.3.1", Desc: "Close without a body", script: fixed(seq(closeRaw(nil)), failed(0))},
		{ID: "7.3.2", Desc: "Close with a one-byte body", script: fixed(seq(closeRaw([]byte{0x03})), failed(1002))},
		{ID: "7.3.3", Desc: "Close 1000 without a reason", script: fixed(seq(closeFrame(1000)), failed(1000))},
		{ID: "7.3.4", Desc: "Close 1000 with a reason", script: fixed(seq(closeRaw(closePayload(1000, "Hello World!"))), failed(1000))},
		{ID: "7.3.5", Desc: "Close 1000 with a 123-byte reason (125 in all)", script: fixed(seq(closeRaw(closePayload(1000, strings.Repeat("*", 123)))), failed(1000))},
		{ID: "7.3.6", Desc: "Close 1000 with a 124-byte reason (126 in all)", script: fixed(seq(closeRaw(closePayload(1000, strings.Repeat("*", 124)))), failed(1002))},
		{ID: "7.5.1", Desc: "Close 1000 with a reason that is not UTF-8", script: fixed(seq(closeRaw(closePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"))), failed(1007))},
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		out = append(out, Case{ID: id("7.7", i+1), Desc: "Close with the valid code " + itoa(code), script: fixed(seq(closeFrame(code)), failed(code))})
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		p := []byte{byte(code >> 8), byte(code)}
		out = append(out, Case{ID: id("7.9", i+1), Desc: "Close with the invalid code " + itoa(code), script: fixed(seq(closeRaw(p)), failed(1002))})
	}
	return out
}
