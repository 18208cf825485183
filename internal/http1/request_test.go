package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func parse(t testing.TB, raw string, cfg HeadConfig) (*Request, error) {
	t.Helper()
	var req Request
	err := ParseRequestHead(bufio.NewReaderSize(strings.NewReader(raw), 4096), &cfg, &req)
	return &req, err
}

func TestParseRequestHeadStatus(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	def := DefaultHeadConfig()
	tests := []struct {
		name string
		raw  string
		want int // 0: accepted
	}{
		{"plain", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"bare LF lines", "GET / HTTP/1.1\nHost: a\n\n", 0},
		{"leading CRLF", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"no host 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
		{"no host 1.0", "GET / HTTP/1.0\r\n\r\n", 0},
		{"dup host", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
		{"invalid host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
		{"host dotdot", "GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n", 400},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: b\x00c\r\n\r\n", 400},
		{"space in name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"double CL same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400},
		{"double CL differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
		{"CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", 400},
		{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", 400},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
		{"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"double TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", 0},
		{"CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", 405},
		{"lower method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 0},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"0.9 GET", "GET /\r\n", 0},
		{"0.9 POST", "POST /\r\n", 400},
		{"CTL in uri", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"dotdot above root", "GET /../x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"encoded NUL", "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"absolute", "GET http://Example.COM:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n", 0},
		{"absolute bad host", "GET http://a..b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"underscore dropped", "GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\n\r\n", 0},
		{"request line 8k", "GET /" + long(8192-16) + " HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"request line too long", "GET /" + long(8192) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
		{"header line too long", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long(8192) + "\r\n\r\n", StatusRequestHeaderTooLarge},
		{"too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+long(4000)+"\r\n", 10) + "\r\n", StatusRequestHeaderTooLarge},
		{"headers fit 4 buffers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: "+long(4000)+"\r\n", 7) + "\r\n", 0},
		{"line without colon", "GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n", 0},
		{"CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\r\n\r\n", 0},
		{"CR then junk at end", "GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.raw, def)
			got := StatusOf(err)
			if err != nil && got == 0 {
				t.Fatalf("got error %v; want status %d", err, tt.want)
			}
			if got != tt.want {
				t.Fatalf("got status %d (%v); want %d", got, err, tt.want)
			}
		})
	}
}

func TestParseRequestHeadFields(t *testing.T) {
	raw := "GET http://Example.COM.:8080/a/../b%2Fc//d?q=%20 HTTP/1.1\r\n" +
		"host: ignored.example\r\n" +
		"Connection: Upgrade, keep-alive\r\n" +
		"X_Under: dropped\r\n" +
		"Upgrade:   websocket  \r\n" +
		"X-Dup: 1\r\nx-dup: 2\r\n" +
		"Expect: 100-Continue\r\n" +
		"Content-Length: 5\r\n\r\n"
	req, err := parse(t, raw, DefaultHeadConfig())
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q; want %q", name, got, want)
		}
	}
	check("Method", string(req.Method), "GET")
	check("RawTarget", string(req.RawTarget), "http://Example.COM.:8080/a/../b%2Fc//d?q=%20")
	check("URI", string(req.URI), "/a/../b%2Fc//d?q=%20")
	check("Path", string(req.Path), "/a/../b%2Fc//d")
	check("Query", string(req.Query), "q=%20")
	check("NormalizedPath", string(req.NormalizedPath), "/b/c/d")
	check("Host", string(req.Host), "example.com")
	check("Upgrade", string(req.Upgrade), "websocket")
	var names []string
	for _, h := range req.Headers {
		names = append(names, string(h.Name)+"="+string(h.Value))
	}
	check("Headers", strings.Join(names, ","), "host=ignored.example,Connection=Upgrade, keep-alive,Upgrade=websocket,X-Dup=1,x-dup=2,Expect=100-Continue,Content-Length=5")
	if !req.KeepAlive || req.ConnectionClose || !req.Expect100 || req.ContentLength != 5 || req.Chunked {
		t.Errorf("got KeepAlive=%v ConnectionClose=%v Expect100=%v CL=%d Chunked=%v; want true false true 5 false",
			req.KeepAlive, req.ConnectionClose, req.Expect100, req.ContentLength, req.Chunked)
	}
	if !req.HasToken("connection", "UPGRADE") {
		t.Errorf("got HasToken(connection, upgrade) false; want true")
	}
	if req.HeadLength != len(raw) {
		t.Errorf("got HeadLength %d; want %d", req.HeadLength, len(raw))
	}

	cfg := DefaultHeadConfig()
	cfg.UnderscoresInHeaders = true
	cfg.MergeSlashes = false
	req, err = parse(t, "GET /a//b HTTP/1.0\r\nX_Y: 1\r\nConnection: keep-alive\r\n\r\n", cfg)
	if err != nil {
		t.Fatal(err)
	}
	check("underscore kept", string(req.Header("x_y")), "1")
	check("no merge", string(req.NormalizedPath), "/a//b")
	if !req.KeepAlive {
		t.Errorf("HTTP/1.0 keep-alive: got KeepAlive false; want true")
	}

	cfg = DefaultHeadConfig()
	cfg.IgnoreInvalidHeaders = false
	req, err = parse(t, "GET / HTTP/1.0\r\nX_Y: 1\r\nX@Z: 2\r\n\r\n", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Headers) != 2 {
		t.Errorf("ignore_invalid_headers off: got %d headers; want 2", len(req.Headers))
	}
}

func TestParseRequestHeadEOF(t *testing.T) {
	if _, err := parse(t, "", DefaultHeadConfig()); !errors.Is(err, io.EOF) {
		t.Errorf("empty: got %v; want io.EOF", err)
	}
	if _, err := parse(t, "GET / HTTP/1.1\r\nHost: a\r\n", DefaultHeadConfig()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: got %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestAppendNormalizedURI(t *testing.T) {
	tests := []struct {
		in, want string
		merge    bool
		bad      bool
	}{
		{in: "/", want: "/", merge: true},
		{in: "/a/./b/../c", want: "/a/c", merge: true},
		{in: "/a//b///c", want: "/a/b/c", merge: true},
		{in: "/a//b", want: "/a//b"},
		{in: "/a/..", want: "/", merge: true},
		{in: "/a/.", want: "/a/", merge: true},
		{in: "/..", bad: true, merge: true},
		{in: "/a/../..", bad: true, merge: true},
		{in: "/%2e%2e/x", bad: true, merge: true},
		{in: "/a%2F..%2Fb", want: "/b", merge: true},
		{in: "/%41%42+c", want: "/AB+c", merge: true},
		{in: "/a%3Fb?c", want: "/a?b", merge: true},
		{in: "/a%25b", want: "/a%b", merge: true},
		{in: "/a%00", bad: true, merge: true},
		{in: "/a%0", bad: true, merge: true},
		{in: "/a/b#frag", want: "/a/b", merge: true},
		{in: "/a/..?x", want: "/", merge: true},
		{in: "?x", want: "/", merge: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := AppendNormalizedURI(nil, []byte(tt.in), tt.merge)
			got := string(b)
			if tt.bad {
				if err == nil {
					t.Fatalf("got %q; want error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// seedHandshake is the browser WebSocket handshake of the seed tutorial
// trace.
const seedHandshake = "GET /ws/chat?room=1 HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 test\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

const plainGET = "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

func benchParse(b *testing.B, raw string) {
	cfg := DefaultHeadConfig()
	var req Request
	sr := strings.NewReader(raw)
	br := bufio.NewReaderSize(sr, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		sr.Reset(raw)
		br.Reset(sr)
		if err := ParseRequestHead(br, &cfg, &req); err != nil {
			b.Fatal(err)
		}
	}
}

// staticGET is the bench suite's request in case h.
const staticGET = "GET /static/1k.bin HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip, deflate\r\n\r\n"

func BenchmarkParseHandshake(b *testing.B) { benchParse(b, seedHandshake) }
func BenchmarkParsePlainGET(b *testing.B)  { benchParse(b, plainGET) }
func BenchmarkParseStaticGET(b *testing.B) { benchParse(b, staticGET) }

func TestTokenIn(t *testing.T) {
	tests := []struct {
		v, tok string
		want   bool
	}{
		{"Upgrade", "upgrade", true},
		{"keep-alive, Upgrade", "upgrade", true},
		{"keep-alive,\tUPGRADE\t", "upgrade", true},
		{"upgrades", "upgrade", false},
		{"up grade", "upgrade", false},
		{"", "upgrade", false},
		{",, ,", "upgrade", false},
		{"websoc\u212aet", "websocket", false}, // no Unicode folding (KELVIN SIGN)
	}
	for _, tc := range tests {
		t.Run(tc.v, func(t *testing.T) {
			if got := TokenIn([]byte(tc.v), tc.tok); got != tc.want {
				t.Errorf("TokenIn(%q, %q) got %v; want %v", tc.v, tc.tok, got, tc.want)
			}
		})
	}
}

// TestParseContentLength pins ngx_atoof's bound: 2^63-1 is a length (too
// large for any client_max_body_size: 413), one more is not (400).
func TestParseContentLength(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1048576, true},
		{"922337203685477580", 922337203685477580, true},
		{"9223372036854775799", 9223372036854775799, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"9223372036854775810", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{"1 ", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			n, ok := parseContentLength([]byte(tc.in))
			if n != tc.want || ok != tc.ok {
				t.Errorf("got %d, %v; want %d, %v", n, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestBareCRAnsweredAtOnce: a head with a CR followed by a byte other than
// LF is answered 400 as soon as that byte arrives, as nginx's byte-wise
// parser does, not at client_header_timeout (60 s; the read waits 10 s).
func TestBareCRAnsweredAtOnce(t *testing.T) {
	addr, calls := startServer(t, DefaultConnConfig(), echoHandler)
	for _, raw := range []string{
		"GET /a\rb HTTP/1.1",
		"GET / HTTP/1.1\rHost: a",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb",
		"GET / HTTP/1.1\r\nHost: a\r\nX\rY: b",
		"GET / HTTP/1.1\r\nHost: a\r\n\rX",
	} {
		t.Run(raw, func(t *testing.T) {
			if got := firstStatus(t, addr, raw); got != "400" {
				t.Errorf("got status %q; want 400", got)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler called %d times; want none", n)
	}
}

// TestBareCRCutRejected: wherever a bare CR stands in a head, the head cut
// after the byte that follows it is rejected with 400 as soon as that byte
// is read, as nginx's parsers reject it there: the line readLine cuts
// never parses as a good one.
func TestBareCRCutRejected(t *testing.T) {
	heads := []string{
		"GET /a/b?c=d HTTP/1.1\r\nHost: a\r\nX-Long-Name: some value\r\n\r\n",
		"GET http://h.example:8080/p?q HTTP/1.0\r\nA:  b  \r\n\r\n",
		"GET /x\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\nB:\r\nC\r\n\r\n",
	}
	cfg := DefaultHeadConfig()
	for _, head := range heads {
		for i := 1; i < len(head); i++ {
			for _, next := range []string{"x", " ", ":", "/", "\t", "\x00", "\r"} {
				raw := head[:i] + "\r" + next
				var req Request
				err := ParseRequestHead(bufio.NewReader(strings.NewReader(raw)), &cfg, &req)
				// A CR CR inside a header line waits for what follows; the
				// input then ends (an error of its own).
				if st := StatusOf(err); st != 400 && (next != "\r" || err == nil) {
					t.Errorf("%q: got %v; want a 400", raw, err)
				}
			}
		}
	}
}

// TestParseRequestQueryFragment: a fragment after the query is not part
// of $args, as ngx_http_parse_complex_uri ends the arguments at '#' (a
// '#' in the request line makes the URI complex); $request_uri keeps it.
func TestParseRequestQueryFragment(t *testing.T) {
	for _, tt := range []struct{ target, query, uri string }{
		{"/x?args#frag", "args", "/x?args#frag"},
		{"/?args#frag", "args", "/?args#frag"},
		{"http://localhost?args#frag", "args", "?args#frag"},
		{"http://localhost:8080?args#frag", "args", "?args#frag"},
		{"/x?a=1#f#g", "a=1", "/x?a=1#f#g"},
		{"/x?args", "args", "/x?args"},
		{"/x#f?a", "", "/x#f?a"},
	} {
		req, err := parse(t, "GET "+tt.target+" HTTP/1.1\r\nHost: h\r\n\r\n", DefaultHeadConfig())
		if err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		if string(req.Query) != tt.query || string(req.URI) != tt.uri {
			t.Errorf("%s: got query %q, URI %q; want %q, %q", tt.target, req.Query, req.URI, tt.query, tt.uri)
		}
	}
}
