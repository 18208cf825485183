package bodyfilter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// constValue is a Value without variables.
type constValue string

func (v constValue) Append(dst []byte, _ *vars.Ctx) []byte { return append(dst, v...) }
func (v constValue) IsConst() bool                         { return true }

// varValue stands for a value with variables: what it evaluates to is
// its own text.
type varValue string

func (v varValue) Append(dst []byte, _ *vars.Ctx) []byte { return append(dst, v...) }
func (v varValue) IsConst() bool                         { return false }

func compileTest(raw string) (Value, error) {
	if strings.HasPrefix(raw, "$") {
		return varValue(raw[1:]), nil
	}
	return constValue(raw), nil
}

// chunks records each Write as one chunk.
type chunks struct{ bufs [][]byte }

func (c *chunks) Write(p []byte) (int, error) {
	c.bufs = append(c.bufs, append([]byte(nil), p...))
	return len(p), nil
}

func (c *chunks) String() string { return string(bytes.Join(c.bufs, nil)) }

const htmlHead = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 10\r\nLast-Modified: x\r\nConnection: keep-alive\r\nETag: \"abc\"\r\n\r\n"

// run filters body, cut into writes at the offsets in cuts, through a
// location with the given sub_filter pairs ("match=value" each) and
// settings.
func run(t *testing.T, sc config.SubConf, body string, cuts []int) string {
	t.Helper()
	f, err := Compile(&config.LocConf{Sub: sc}, compileTest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b Bound
	b.Bind(f, &vars.Ctx{})
	_, st := b.Start([]byte(htmlHead), 0, 200, 10)
	if st == nil {
		t.Fatal("the filter did not take a text/html body")
	}
	var out chunks
	prev := 0
	for _, c := range append(cuts, len(body)) {
		if err := st.Write(&out, []byte(body[prev:c])); err != nil {
			t.Fatal(err)
		}
		prev = c
	}
	if err := st.End(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func pairs(ps ...string) []config.SubPair {
	var out []config.SubPair
	for _, p := range ps {
		m, v, _ := strings.Cut(p, "=")
		out = append(out, config.SubPair{Match: m, Value: v})
	}
	return out
}

// TestSubMatching: the strings found and replaced as nginx's sub filter
// finds them (the expected bodies are what nginx 1.22 sends for these
// configurations), whole and cut into writes at every offset: a match
// that spans two writes is found.
func TestSubMatching(t *testing.T) {
	tests := []struct {
		desc   string
		pairs  []string
		once   bool
		body   string
		want   string
		noCuts bool // the result depends on where the body is cut (nginx's too)
	}{
		{desc: "once", pairs: []string{"foo=bar"}, once: true, body: "a foo b foo", want: "a bar b foo"},
		{desc: "all", pairs: []string{"foo=bar"}, body: "a foo b foo", want: "a bar b bar"},
		{desc: "case-insensitive", pairs: []string{"FoO=bar"}, body: "a fOO b Foo", want: "a bar b bar"},
		{desc: "non-ASCII bytes compare exactly", pairs: []string{"é=e"}, body: "É é", want: "É e"},
		{desc: "no overlap", pairs: []string{"aa=b"}, body: "aaaaa", want: "bba"},
		{desc: "several strings, once each", pairs: []string{"a=1", "bb=2", "ccc=3"}, once: true, body: "ccc bb a a bb ccc", want: "3 2 1 a bb ccc"},
		{desc: "several strings, all", pairs: []string{"a=1", "bb=2", "ccc=3"}, body: "ccc bb a a bb ccc", want: "3 2 1 1 2 3"},
		{desc: "earliest position wins", pairs: []string{"bcd=X", "abcz=Y"}, body: "abcd", want: "aX"},
		{desc: "first configured at one position", pairs: []string{"abc=1", "abcd=2"}, body: "abcd", want: "1d"},
		{desc: "longer first configured", pairs: []string{"abcd=2", "abc=1"}, body: "abcd abce", want: "2 1e"},
		{desc: "empty replacement", pairs: []string{"<script>=", "</script>="}, body: "a<script>b</script>c", want: "abc"},
		{desc: "one-byte string", pairs: []string{"a=xyz"}, body: "banana", want: "bxyznxyznxyz"},
		{desc: "no match", pairs: []string{"zzz=1"}, body: "zz z zz", want: "zz z zz"},
		{desc: "match at the end", pairs: []string{"end=E"}, body: "the end", want: "the E"},
		{desc: "cut pending at the end goes out as is", pairs: []string{"endx=E"}, body: "the end", want: "the end"},
		{desc: "pending string hides a shorter later one (as nginx)", pairs: []string{"abcd=1", "bc=2"}, body: "xabc", want: "xabc"},
		{desc: "variable search string", pairs: []string{"$HOST=h"}, body: "a host b HOST", want: "a h b h"},
		{desc: "empty variable search string drops out", pairs: []string{"$=x", "b=y"}, body: "abc", want: "ayc"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			sc := config.SubConf{Pairs: pairs(tt.pairs...), Once: tt.once}
			if got := run(t, sc, tt.body, nil); got != tt.want {
				t.Fatalf("whole: got %q; want %q", got, tt.want)
			}
			for i := 1; i < len(tt.body); i++ {
				if got := run(t, sc, tt.body, []int{i}); got != tt.want {
					t.Errorf("cut at %d: got %q; want %q", i, got, tt.want)
				}
			}
			var every []int
			for i := 1; i < len(tt.body); i++ {
				every = append(every, i)
			}
			if got := run(t, sc, tt.body, every); got != tt.want {
				t.Errorf("byte by byte: got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestSubHolds: between two writes the filter keeps only a possible
// match's bytes, never more than the longest string minus one, and
// passes a write with no replacement on as one piece.
func TestSubHolds(t *testing.T) {
	sc := config.SubConf{Pairs: pairs("abcdef=1", "xy=2")}
	f, _ := Compile(&config.LocConf{Sub: sc}, compileTest, Options{})
	var b Bound
	b.Bind(f, &vars.Ctx{})
	_, st := b.Start([]byte(htmlHead), 0, 200, -1)
	var out chunks
	for _, tc := range []struct{ in, sent string }{
		{"0123456789", "0123456789"},
		{"....abcde", "...."},
		{"f...x", "1..."},
		{"z", "xz"},
	} {
		before := out.String()
		st.Write(&out, []byte(tc.in))
		if got := strings.TrimPrefix(out.String(), before); got != tc.sent {
			t.Errorf("write %q: sent %q; want %q", tc.in, got, tc.sent)
		}
	}
	if n := len(out.bufs); n != 4 {
		t.Errorf("got %d writes on; want 4 (one per write)", n)
	}
}

// TestSubHead: what the filter's header filter does to the head:
// Content-Type against sub_filter_types, a zero length left alone,
// Last-Modified and ETag removed, or kept with a weak ETag under
// sub_filter_last_modified on.
func TestSubHead(t *testing.T) {
	head := func(ctype, etag string) string {
		h := "HTTP/1.1 200 OK\r\nServer: nginx\r\n"
		if ctype != "" {
			h += "Content-Type: " + ctype + "\r\n"
		}
		h += "Last-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\n"
		if etag != "" {
			h += "ETag: " + etag + "\r\n"
		}
		return h + "X-A: 1\r\n\r\n"
	}
	tests := []struct {
		desc     string
		types    []string
		lm       bool
		ctype    string
		etag     string
		length   int64
		took     bool
		wantHead string
	}{
		{desc: "text/html", ctype: "text/html", etag: `"1"`, length: -1, took: true,
			wantHead: "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n"},
		{desc: "charset parameter", ctype: "Text/HTML; charset=utf-8", length: 5, took: true},
		{desc: "other parameter", ctype: "text/html; q=1", length: 5},
		{desc: "other type", ctype: "text/css", length: 5},
		{desc: "listed type", types: []string{"text/html", "text/css"}, ctype: "text/css", length: 5, took: true},
		{desc: "any type without one", types: []string{"*"}, length: 5, took: true},
		{desc: "no type", length: 5},
		{desc: "empty body", ctype: "text/html", length: 0},
		{desc: "last_modified on: weak ETag", lm: true, ctype: "text/html", etag: `"1"`, length: -1, took: true,
			wantHead: "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nLast-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nETag: W/\"1\"\r\nX-A: 1\r\n\r\n"},
		{desc: "last_modified on: weak stays", lm: true, ctype: "text/html", etag: `W/"1"`, length: -1, took: true,
			wantHead: "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nLast-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nETag: W/\"1\"\r\nX-A: 1\r\n\r\n"},
		{desc: "last_modified on: invalid ETag goes", lm: true, ctype: "text/html", etag: `1`, length: -1, took: true,
			wantHead: "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nLast-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			sc := config.SubConf{Pairs: pairs("a=b"), Types: tt.types, LastModified: tt.lm}
			f, _ := Compile(&config.LocConf{Sub: sc}, compileTest, Options{})
			var b Bound
			b.Bind(f, &vars.Ctx{})
			in := head(tt.ctype, tt.etag)
			got, st := b.Start([]byte("prefix"+in), len("prefix"), 200, tt.length)
			if (st != nil) != tt.took {
				t.Fatalf("took the body: %v; want %v", st != nil, tt.took)
			}
			if !tt.took && string(got) != "prefix"+in {
				t.Errorf("head changed to %q", got)
			}
			if tt.wantHead != "" && string(got) != "prefix"+tt.wantHead {
				t.Errorf("got head %q; want %q", got[len("prefix"):], tt.wantHead)
			}
		})
	}
	// A 101 never.
	f, _ := Compile(&config.LocConf{Sub: config.SubConf{Pairs: pairs("a=b"), Types: []string{"*"}}}, compileTest, Options{})
	var b Bound
	b.Bind(f, &vars.Ctx{})
	if _, st := b.Start([]byte(head("", "")), 0, 101, -1); st != nil {
		t.Error("a 101 went through the filter")
	}
}

// TestSubNoAllocation: once a connection's Bound has grown its buffers,
// a response through constant strings allocates nothing.
func TestSubNoAllocation(t *testing.T) {
	sc := config.SubConf{Pairs: pairs("foo=bar", "<head>=<head><base href=\"/x/\">"), Once: false}
	f, _ := Compile(&config.LocConf{Sub: sc}, compileTest, Options{})
	var b Bound
	vc := &vars.Ctx{}
	head := []byte(htmlHead)
	buf := make([]byte, 0, 512)
	body := []byte(strings.Repeat("<html><head></head> foo fo", 20))
	var out chunks
	one := func() {
		b.Bind(f, vc)
		_, st := b.Start(append(buf[:0], head...), 0, 200, -1)
		st.Write(discard{}, body[:100])
		st.Write(discard{}, body[100:])
		st.End(discard{})
	}
	one()
	_ = out
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if n := testing.AllocsPerRun(100, one); n != 0 {
		t.Errorf("got %v allocations per response; want 0", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func Example_subFilter() {
	f, _ := Compile(&config.LocConf{Sub: config.SubConf{Pairs: pairs("http://backend/=https://example.com/"), Once: false}}, compileTest, Options{})
	var b Bound
	b.Bind(f, &vars.Ctx{})
	head, st := b.Start([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: \"1\"\r\n\r\n"), 0, 200, -1)
	var out chunks
	st.Write(&out, []byte(`<a href="http://back`))
	st.Write(&out, []byte(`end/x">`))
	st.End(&out)
	fmt.Printf("%q\n%s\n", head, out.String())
	// Output:
	// "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
	// <a href="https://example.com/x">
}
