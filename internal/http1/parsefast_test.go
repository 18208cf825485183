package http1

import "testing"

// fastRequestLines are request lines around the edges of
// requestLineFast: each must parse as the state machine parses it,
// whether the fast path takes it or leaves it.
var fastRequestLines = []string{
	"GET / HTTP/1.1\r\n",
	"GET /static/1k.bin HTTP/1.1\r\n",
	"HEAD /a/b.c/d HTTP/1.0\r\n",
	"GET /a?b=c&d=/e.f/../g%20h+i HTTP/1.1\r\n",
	"GET /a?b#c HTTP/1.1\r\n",
	"GET /a#b HTTP/1.1\r\n",
	"GET /a+b/+c HTTP/1.1\r\n",
	"GET /a//b HTTP/1.1\r\n",
	"GET /a/./b HTTP/1.1\r\n",
	"GET /a/. HTTP/1.1\r\n",
	"GET /a/.. HTTP/1.1\r\n",
	"GET /a%2Fb HTTP/1.1\r\n",
	"GET /a.b./c.. HTTP/1.1\r\n",
	"GET /\x80\xff HTTP/1.1\r\n",
	"GET /a\x01 HTTP/1.1\r\n",
	"GET /a?\x7f HTTP/1.1\r\n",
	"GET /a?b\tc HTTP/1.1\r\n",
	"GET  /a HTTP/1.1\r\n",
	"GET /a  HTTP/1.1\r\n",
	"GET /a HTTP/1.1 \r\n",
	"GET /a HTTP/1.1\n",
	"GET /a HTTP/1.2\r\n",
	"GET /a HTTP/1.10\r\n",
	"GET /a HTTP/2.0\r\n",
	"GET /a HTTP/1.1\r\r\n",
	"GET /a\r\n",
	"GET /a?b\r\n",
	"GET http://h/a HTTP/1.1\r\n",
	"get /a HTTP/1.1\r\n",
	"M-S_X /a HTTP/1.1\r\n",
	"GET ?a HTTP/1.1\r\n",
	"GET /? HTTP/1.1\r\n",
	"GET /a?? HTTP/1.1\r\n",
	" GET /a HTTP/1.1\r\n",
	"GET/a HTTP/1.1\r\n",
	"GET / HTTP/1.1\r\nX",
}

// fastHeaderLines are header lines around the edges of headerLineFast.
var fastHeaderLines = []string{
	"Host: example.com\r\n",
	"Accept-Encoding: gzip, deflate\r\n",
	"A:b\r\n",
	"A:  b  \r\n",
	"A: b \t\r\n",
	"A: \tb\r\n",
	"A: b\tc\r\n",
	"A: \r\n",
	"A:\r\n",
	"A: b\r\r\n",
	"A: b\rc\r\n",
	"A: b\x00\r\n",
	"A: b\n",
	"A_B: c\r\n",
	"A B: c\r\n",
	"A\x01: c\r\n",
	": c\r\n",
	"HTTP/1.1 200 OK\r\n",
	"\r\n",
	"\n",
	"A: \x80\xff\r\n",
	"A",
}

func TestRequestLineFast(t *testing.T) {
	for _, line := range fastRequestLines {
		checkRequestLineFast(t, []byte(line))
	}
	// The common lines take the fast path.
	for _, line := range fastRequestLines[:4] {
		if _, ok := requestLineFast([]byte(line)); !ok {
			t.Errorf("%q: left to the state machine; want the fast path", line)
		}
	}
}

func TestHeaderLineFast(t *testing.T) {
	for _, line := range fastHeaderLines {
		checkHeaderLineFast(t, []byte(line))
	}
	for _, line := range append(fastHeaderLines[:7:7], "\r\n") {
		if _, ok := headerLineFast([]byte(line)); !ok {
			t.Errorf("%q: left to the state machine; want the fast path", line)
		}
	}
}

// checkRequestLineFast fails t when requestLineFast takes line and gives
// other than the state machine gives.
func checkRequestLineFast(t *testing.T, line []byte) {
	t.Helper()
	fast, ok := requestLineFast(line)
	if !ok {
		return
	}
	slow, err := parseRequestLineSlow(line)
	if err != nil || fast != slow {
		t.Errorf("%q: fast path gives %+v; the state machine %+v, %v", line, fast, slow, err)
	}
}

// checkHeaderLineFast is checkRequestLineFast for header lines, as the
// request and the upstream's response parsers read them.
func checkHeaderLineFast(t *testing.T, line []byte) {
	t.Helper()
	fast, ok := headerLineFast(line)
	if !ok {
		return
	}
	for _, c := range []struct{ under, upstream bool }{{false, false}, {true, false}, {false, true}} {
		slow, err := parseHeaderLineSlow(line, c.under, c.upstream)
		if err != nil || fast != slow {
			t.Errorf("%q (underscores %v, upstream %v): fast path gives %+v; the state machine %+v, %v", line, c.under, c.upstream, fast, slow, err)
		}
	}
}

func FuzzRequestLineFast(f *testing.F) {
	for _, line := range fastRequestLines {
		f.Add([]byte(line))
	}
	f.Fuzz(checkRequestLineFast)
}

func FuzzHeaderLineFast(f *testing.F) {
	for _, line := range fastHeaderLines {
		f.Add([]byte(line))
	}
	f.Fuzz(checkHeaderLineFast)
}
