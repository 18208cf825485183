package conformance

// utf8Cases (6.x): text messages must be UTF-8 (RFC 6455 8.1, RFC 3629):
// valid text in one frame or split anywhere, a code point across
// fragments included, is echoed; invalid text fails the connection with
// 1007, as soon as it cannot be valid.
func utf8Cases() []Case {
	hello := "Hello-µ@ßöäüàá-UTF-8!!"
	kosme := "κόσμε"
	var out []Case
	add := func(group string, desc string, chop int, frames []Frame, want []string) {
		n := 1
		for _, c := range out {
			if len(c.ID) > len(group) && c.ID[:len(group)+1] == group+"." {
				n++
			}
		}
		out = append(out, Case{ID: id(group, n), Desc: desc, Chop: chop, script: fixed(frames, want)})
	}
	// 6.1: empty text.
	add("6.1", "empty text", 0, seq(text("")), echoed(evText(nil)))
	add("6.1", "empty text in 3 fragments", 0, seq(frag(opText, false, ""), frag(opCont, false, ""), frag(opCont, true, "")), echoed(evText(nil)))
	add("6.1", "text in 3 fragments, the first and last empty", 0, seq(frag(opText, false, ""), frag(opCont, false, "middle"), frag(opCont, true, "")), echoed(evText([]byte("middle"))))
	// 6.2: valid text, split at and between code points.
	add("6.2", "valid UTF-8 in one frame", 0, seq(text(hello)), echoed(evText([]byte(hello))))
	add("6.2", "valid UTF-8 in 2 fragments at a code point's end", 0, seq(frag(opText, false, hello[:7]), frag(opCont, true, hello[7:])), echoed(evText([]byte(hello))))
	add("6.2", "valid UTF-8, one byte per fragment", 0, fragments(opText, []byte(hello), 1), echoed(evText([]byte(hello))))
	add("6.2", "κόσμε, one byte per fragment", 0, fragments(opText, []byte(kosme), 1), echoed(evText([]byte(kosme))))
	add("6.2", "κόσμε in 2 fragments inside a code point, byte by byte", 1, seq(frag(opText, false, kosme[:3]), frag(opCont, true, kosme[3:])), echoed(evText([]byte(kosme))))
	// 6.3 and 6.4: invalid text, in one frame and across fragments.
	bad := kosme + "\xed\xa0\x80" + "edited"
	add("6.3", "invalid UTF-8 (a surrogate) in one frame", 0, seq(text(bad)), failed(1007))
	add("6.3", "invalid UTF-8, one byte per fragment", 0, fragments(opText, []byte(bad), 1), failed(1007))
	add("6.4", "3 fragments, the second invalid: fail fast", 0, seq(frag(opText, false, kosme), frag(opCont, false, "\xf4\x90\x80\x80"), frag(opCont, true, "edited")), failed(1007))
	add("6.4", "3 fragments, the invalid code point split between them", 0, seq(frag(opText, false, kosme+"\xf4"), frag(opCont, false, "\x90"), frag(opCont, true, "\x80\x80edited")), failed(1007))
	add("6.4", "3 fragments, the second invalid, byte by byte", 1, seq(frag(opText, false, kosme), frag(opCont, false, "\xf4\x90\x80\x80"), frag(opCont, true, "edited")), failed(1007))
	add("6.4", "text ending inside a code point", 0, seq(frag(opText, false, kosme+"\xce"), frag(opCont, true, "")), failed(1007))
	// 6.5 and 6.6: the boundary code points, whole and split byte by byte.
	valid := []string{"\x00", "\x7f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\ufffd", "\uffff", "\U00010000", "\U0010ffff"}
	for _, v := range valid {
		add("6.5", "code point "+quote(v), 0, seq(text(v)), echoed(evText([]byte(v))))
	}
	for _, v := range valid {
		if len(v) > 1 {
			add("6.6", "code point "+quote(v)+", one byte per fragment", 0, fragments(opText, []byte(v), 1), echoed(evText([]byte(v))))
		}
	}
	// 6.7 and 6.8: invalid sequences alone, and inside a fragmented text.
	invalid := []string{
		"\x80", "\xbf", "\x80\xbf\x80", // continuation bytes with no lead
		"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", // overlong
		"\xed\xa0\x80", "\xed\xbf\xbf", // surrogates
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", // above U+10FFFF
		"\xfe", "\xff", "\xfe\xfe\xff\xff", // never in UTF-8
		"\xce", "\xe0\xa0", "\xf0\x90\x80", // a code point cut short at the end
		"\xc2\x41", "\xe0\xa0\x41", // a lead byte followed by ASCII
	}
	for _, v := range invalid {
		add("6.7", "invalid "+quote(v), 0, seq(text(v)), failed(1007))
	}
	for _, v := range invalid {
		add("6.8", "invalid "+quote(v)+" in the middle of 3 fragments", 0, seq(frag(opText, false, "pre-"), frag(opCont, false, v), frag(opCont, true, "-post")), failed(1007))
	}
	return out
}

// quote renders s's bytes as Go escapes.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 4*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, '\\', 'x', hex[s[i]>>4], hex[s[i]&0xF])
	}
	return string(b)
}
