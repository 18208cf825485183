package conformance

import (
	"testing"
	"unicode/utf8"
)

// TestUTF8Stream checks the streaming validator against utf8.Valid for
// every way of cutting each input in two and in single bytes: the text
// is valid exactly when utf8.Valid says so, and an invalid one is caught
// no later than its end.
func TestUTF8Stream(t *testing.T) {
	inputs := []string{
		"", "Hello-µ@ßöäüàá-UTF-8!!", "κόσμε", "\U0010ffff\U00010000\uffff\u0800\u07ff\u0080\x7f",
		"κόσμε\xed\xa0\x80edited", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xce", "\xe0\xa0", "\xf0\x90\x80",
		"a\xffb", "\xc2\x41", "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xf5", "\x80",
	}
	for _, in := range inputs {
		want := utf8.Valid([]byte(in))
		for cut := 0; cut <= len(in); cut++ {
			var s utf8Stream
			got := s.write([]byte(in[:cut])) && s.write([]byte(in[cut:])) && s.end()
			if got != want {
				t.Errorf("%s cut at %d: got valid %v; want %v", quote(in), cut, got, want)
			}
		}
		var s utf8Stream
		got := true
		for i := 0; i < len(in) && got; i++ {
			got = s.write([]byte{in[i]})
		}
		if got = got && s.end(); got != want {
			t.Errorf("%s byte by byte: got valid %v; want %v", quote(in), got, want)
		}
	}
}
