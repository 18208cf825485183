package vars

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/route"
)

func testCtx() *Ctx {
	start := time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)
	return &Ctx{
		Method:     "GET",
		RequestURI: "/ws/chat?room=1&Name=x",
		URI:        "/ws/chat",
		Args:       "room=1&Name=x",
		HasArgs:    true,
		Host:       "example.com",
		Proto:      "HTTP/1.1",
		Headers: []Header{
			{"Host", "Example.COM:8080"},
			{"Upgrade", "websocket"},
			{"X-Forwarded-For", "1.1.1.1"},
			{"Cookie", "a=1; sess = abc ; b=2"},
			{"X-Forwarded-For", "2.2.2.2"},
			{"Cookie", "c=3"},
			{"X-Dup", "one"},
			{"x-dup", "two"},
			{"User-Agent", "ua \"q\"\n"},
		},
		RemoteAddr: "127.0.0.1", RemotePort: "5555",
		ServerAddr: "127.0.0.2", ServerPort: "8080", ServerName: "example.com",
		Proxied: true, ProxyHost: "localhost:3000", ProxyPort: "3000",
		Status: 101, BodyBytesSent: 12, BytesSent: 200, RequestLength: 321,
		Start: start, End: start.Add(1234 * time.Millisecond),
		Upstream: []UpstreamTry{
			{Addr: "127.0.0.1:3000", Status: 502, ResponseTime: 5 * time.Millisecond, ConnectTime: -1},
			{Addr: "[::1]:3000", Status: 101, ResponseTime: 2500 * time.Millisecond, ConnectTime: time.Millisecond, ResponseLength: 42},
		},
		UpstreamHeaders: []Header{{"Content-Type", "text/html"}, {"X-Backend-Id", "b7"}, {"x-backend-id", "b8"}},
		Pipelined:       true,
		RequestBody:     "a=1&b=2", HasRequestBody: true,
		Connection: 7, ConnectionRequests: 2,
		WS: true, WSDuration: 90 * time.Second, WSBytesIn: 10, WSBytesOut: 20, WSClosedBy: "client", WSCloseCode: 1000,
		Captures: route.Captures{Subject: "/img/ab", Index: []int{0, 7, 5, 7}, Names: []string{"", "name"}},
	}
}

func TestVariables(t *testing.T) {
	c, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.DeclareCaptures([]string{"", "name", "other"})
	tests := []struct{ src, want string }{
		{"$host", "example.com"},
		{"${host}x", "example.comx"},
		{"$HOST", "example.com"},
		{"$http_upgrade", "websocket"},
		{"$http_UPGRADE", "websocket"},
		{"$http_x_dup", "one"},
		{"$http_x_forwarded_for", "1.1.1.1, 2.2.2.2"},
		{"$http_cookie", "a=1; sess = abc ; b=2; c=3"},
		{"$http_missing", ""},
		{"$http_user_agent", "ua \"q\"\n"},
		{"$remote_addr:$remote_port", "127.0.0.1:5555"},
		{"$proxy_add_x_forwarded_for", "1.1.1.1, 2.2.2.2, 127.0.0.1"},
		{"$scheme $https.", "http ."},
		{"$request_uri", "/ws/chat?room=1&Name=x"},
		{"$uri $document_uri", "/ws/chat /ws/chat"},
		{"$args|$query_string|$is_args", "room=1&Name=x|room=1&Name=x|?"},
		{"$arg_room $arg_name $arg_NAME $arg_oom", "1 x x "},
		{"[$arg_]", "[]"}, // an empty name is never found (ngx_http_variable_argument)
		{"$request_method", "GET"},
		{"$server_name $server_port $server_addr $server_protocol", "example.com 8080 127.0.0.2 HTTP/1.1"},
		{"$proxy_host $proxy_port", "localhost:3000 3000"},
		{"$request", "GET /ws/chat?room=1&Name=x HTTP/1.1"},
		{"$status", "101"},
		{"$request_time", "1.234"},
		{"$upstream_addr", "127.0.0.1:3000, [::1]:3000"},
		{"$upstream_status", "502, 101"},
		{"$upstream_response_time", "0.005, 2.500"},
		{"$upstream_connect_time", "-, 0.001"},
		{"$body_bytes_sent $bytes_sent $request_length", "12 200 321"},
		{"$time_local", "05/Mar/2024:10:20:31 +0000"},
		{"$time_iso8601", "2024-03-05T10:20:31+00:00"},
		{"$msec", "1709634031.234"},
		{"$connection $connection_requests", "7 2"},
		{"[$remote_user]", "[]"},
		{"$cookie_sess|$cookie_a|$cookie_c|$cookie_SESS|$cookie_x", "abc |1|3|abc |"},
		{"$1-$2-$name-$other", "ab--ab-"},
		{"$10", "ab0"},
		{"$ws_duration $ws_bytes_in $ws_bytes_out $ws_closed_by $ws_close_code", "90.000 10 20 client 1000"},
		{"$content_type", ""},
		{"no vars", "no vars"},
		{"$upstream_response_length", "0, 42"},
		{"$upstream_http_x_backend_id|$upstream_http_content_type|$upstream_http_missing", "b7|text/html|"},
		{"$pipe", "p"},
		{"$request_body", "a=1&b=2"},
		{"$binary_remote_addr", "\x7f\x00\x00\x01"},
	}
	ctx := testCtx()
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			tpl, err := c.Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got := string(tpl.Append(nil, ctx))
			if strings.HasPrefix(tc.want, "\\x") {
				got = string(tpl.AppendEscaped(nil, ctx, EscapeDefault))
			}
			if got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
			if tpl.String() != tc.src {
				t.Errorf("got String %q; want %q", tpl.String(), tc.src)
			}
		})
	}
}

// TestNewVariables covers the variables whose values are not fixed
// strings: $request_id (random, kept for the request), $pid, $pipe's
// default, $binary_remote_addr's length, and what is not found without
// an upstream response or a body held in memory.
func TestNewVariables(t *testing.T) {
	c, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	compile := func(s string) *Template {
		t.Helper()
		tpl, err := c.Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		return tpl
	}
	id := compile("$request_id")
	ctx := &Ctx{RemoteAddr: "2001:db8::1"}
	first := string(id.Append(nil, ctx))
	if len(first) != 32 || strings.Trim(first, "0123456789abcdef") != "" {
		t.Fatalf("got $request_id %q; want 32 lower-case hex digits", first)
	}
	if again := string(id.Append(nil, ctx)); again != first {
		t.Fatalf("got $request_id %q then %q; want one value per request", first, again)
	}
	if other := string(id.Append(nil, &Ctx{})); other == first {
		t.Fatalf("two requests got the same $request_id %q", first)
	}
	if got := string(compile("$pid").Append(nil, ctx)); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("got $pid %q; want %d", got, os.Getpid())
	}
	if got := len(compile("$binary_remote_addr").Append(nil, ctx)); got != 16 {
		t.Errorf("got %d bytes of $binary_remote_addr for IPv6; want 16", got)
	}
	for src, want := range map[string]string{
		"$pipe":                     ".",
		"$request_body":             "-",
		"$upstream_http_x_a":        "-",
		"$upstream_response_length": "-",
	} {
		if got := string(compile(src).AppendEscaped(nil, ctx, EscapeDefault)); got != want {
			t.Errorf("got %s %q; want %q", src, got, want)
		}
	}
	if c.UsesUpstreamHeaders() != true {
		t.Errorf("UsesUpstreamHeaders is false after compiling $upstream_http_x_a")
	}
}

func TestHostFallbackAndStatus(t *testing.T) {
	c, _ := NewCompiler(nil)
	tpl, _ := c.Compile("$host $status $args.$is_args")
	ctx := &Ctx{ServerName: "srv.test", TLS: true}
	if got, want := string(tpl.Append(nil, ctx)), "srv.test 000 ."; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
	tpl, _ = c.Compile("$scheme $https")
	if got, want := string(tpl.Append(nil, ctx)), "https on"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
}

func TestCompileErrors(t *testing.T) {
	c, _ := NewCompiler(nil)
	tests := []struct{ src, want string }{
		{"$nope", `unknown "nope" variable`},
		{"$Nope_X", `unknown "nope_x" variable`},
		{"x$", `invalid variable name in "x$"`},
		{"$-", `invalid variable name in "$-"`},
		{"${host", `the closing bracket in "host" variable is missing`},
		{"${ho-st}", `the closing bracket in "ho" variable is missing`},
		{"${", `invalid variable name in "${"`},
		{"$http_", `unknown "http_" variable`},
		{"$sub", `unknown "sub" variable`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			_, err := c.Compile(tc.src)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v; want %q", err, tc.want)
			}
		})
	}
}

func TestIsConst(t *testing.T) {
	c, _ := NewCompiler(nil)
	for _, tc := range []struct {
		src  string
		want bool
	}{{"upgrade", true}, {"", true}, {"$host", false}, {"a$1", false}} {
		tpl, err := c.Compile(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if tpl.IsConst() != tc.want {
			t.Errorf("%q: got IsConst %v; want %v", tc.src, !tc.want, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	c, _ := NewCompiler(nil)
	ctx := testCtx()
	ctx.Headers = append(ctx.Headers, Header{"X-Bin", "a\\b\x01\x7f\xc3\xa9\t"})
	ctx.WS = false
	tests := []struct {
		src  string
		mode Escape
		want string
	}{
		{`"$http_user_agent"`, EscapeDefault, `"ua \x22q\x22\x0A"`},
		{`"$http_user_agent"`, EscapeJSON, `"ua \"q\"\n"`},
		{`"$http_user_agent"`, EscapeNone, "\"ua \"q\"\n\""},
		{`$http_x_bin`, EscapeDefault, `a\x5Cb\x01\x7F\xC3\xA9\x09`},
		{`$http_x_bin`, EscapeJSON, "a\\\\b\\u0001\x7f\xc3\xa9\\t"},
		{`[$http_missing] [$remote_user] [$cookie_zz] [$ws_duration] [$ws_close_code]`, EscapeDefault, `[-] [-] [-] [-] [-]`},
		{`[$http_missing] [$remote_user] [$ws_closed_by]`, EscapeJSON, `[] [] []`},
		{`[$http_missing] [$remote_user]`, EscapeNone, `[] []`},
		{`"\"$host`, EscapeDefault, `"\"example.com`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			tpl, err := c.Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tpl.AppendEscaped(nil, ctx, tc.mode)); got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
	t.Run("args not found", func(t *testing.T) {
		tpl, _ := c.Compile("$args")
		if got := string(tpl.AppendEscaped(nil, &Ctx{}, EscapeDefault)); got != "-" {
			t.Fatalf("got %q; want %q", got, "-")
		}
		if got := string(tpl.AppendEscaped(nil, &Ctx{HasArgs: true}, EscapeDefault)); got != "" {
			t.Fatalf("got %q; want %q", got, "")
		}
	})
	t.Run("upstream not found", func(t *testing.T) {
		tpl, _ := c.Compile("$upstream_addr $upstream_status $proxy_host")
		if got := string(tpl.AppendEscaped(nil, &Ctx{}, EscapeDefault)); got != "- - -" {
			t.Fatalf("got %q; want %q", got, "- - -")
		}
	})
	for _, s := range []string{"default", "json", "none"} {
		if _, ok := ParseEscape(s); !ok {
			t.Errorf("ParseEscape(%q) failed", s)
		}
	}
	if _, ok := ParseEscape("xml"); ok {
		t.Error("got ParseEscape(xml) ok; want failure")
	}
}

func ent(key, val string) config.MapEntry { return config.MapEntry{Key: key, Value: val} }
func reEnt(key, val string, nocase bool) config.MapEntry {
	return config.MapEntry{Key: key, Value: val, Regex: true, NoCase: nocase}
}

func TestMaps(t *testing.T) {
	maps := []*config.Map{
		{Source: "$http_upgrade", Var: "connection_upgrade", Default: "upgrade", Entries: []config.MapEntry{ent("", "close")}},
		{Source: "$http_x_key", Var: "exact", Default: "def", Entries: []config.MapEntry{
			ent("abc", "lower"), ent("*.x.com", "literal-star"),
			reEnt(`^re(\d+)$`, "re-$1", false), reEnt(`^(?P<word>CASE)`, "ci-$word", true),
			reEnt(`^\d+$`, "digits", false),
		}},
		{Source: "$host", Var: "hostmap", Hostnames: true, Default: "none", Entries: []config.MapEntry{
			ent("example.com", "exact"), ent("*.example.com", "head"), ent(".example.org", "dot"),
			ent("www.example.*", "tail"), ent("*.a.example.com", "longer"),
		}},
		{Source: "$exact:$uri", Var: "chained", Default: "$exact/$uri", Entries: []config.MapEntry{ent("lower:/x", "hit")}},
		{Source: "$http_x_n", Var: "vol", Volatile: true, Default: "$http_x_n"},
		{Source: "$http_x_n", Var: "cached", Default: "$http_x_n"},
		{Source: "$cyc2", Var: "cyc1", Default: "[$cyc2]"},
		{Source: "$cyc1", Var: "cyc2", Default: "<$cyc1>"},
	}
	c, err := NewCompiler(maps)
	if err != nil {
		t.Fatal(err)
	}
	eval := func(src string, ctx *Ctx) string {
		t.Helper()
		tpl, err := c.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		return string(tpl.Append(nil, ctx))
	}
	hdr := func(k, v string) *Ctx { return &Ctx{Headers: []Header{{k, v}}, URI: "/x"} }
	tests := []struct {
		desc, src string
		ctx       *Ctx
		want      string
	}{
		{"upgrade present", "$connection_upgrade", hdr("Upgrade", "websocket"), "upgrade"},
		{"upgrade missing", "$connection_upgrade", &Ctx{}, "close"},
		{"upgrade empty", "$connection_upgrade", hdr("Upgrade", ""), "close"},
		{"exact case-insensitive", "$exact", hdr("X-Key", "ABC"), "lower"},
		{"no wildcard without hostnames", "$exact", hdr("X-Key", "a.x.com"), "def"},
		{"literal star key", "$exact", hdr("X-Key", "*.x.com"), "literal-star"},
		{"regex capture", "$exact", hdr("X-Key", "re42"), "re-42"},
		{"regex is case-sensitive", "$exact", hdr("X-Key", "RE42"), "def"},
		{"caseless regex named", "$exact", hdr("X-Key", "case"), "ci-case"},
		{"regex order", "$exact", hdr("X-Key", "123"), "digits"},
		{"default", "$exact", hdr("X-Key", "zzz"), "def"},
		{"empty source skips regex", "$exact", &Ctx{}, "def"},
		{"host exact", "$hostmap", &Ctx{Host: "example.com"}, "exact"},
		{"host trailing dot", "$hostmap", &Ctx{Host: "example.com."}, "exact"},
		{"host head", "$hostmap", &Ctx{Host: "b.example.com"}, "head"},
		{"host longest head", "$hostmap", &Ctx{Host: "b.a.example.com"}, "longer"},
		{"dot form exact", "$hostmap", &Ctx{Host: "example.org"}, "dot"},
		{"dot form sub", "$hostmap", &Ctx{Host: "x.example.org"}, "dot"},
		{"host tail", "$hostmap", &Ctx{Host: "www.example.net"}, "tail"},
		{"host none", "$hostmap", &Ctx{Host: "other"}, "none"},
		{"chained source", "$chained", hdr("X-Key", "abc"), "hit"},
		{"chained default value", "$chained", hdr("X-Key", "q"), "def//x"},
		{"cycle", "$cyc1", &Ctx{}, "[<>]"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := eval(tc.src, tc.ctx); got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
	t.Run("map regex sets captures", func(t *testing.T) {
		ctx := hdr("X-Key", "re7")
		if got := eval("$exact $1", ctx); got != "re-7 7" {
			t.Fatalf("got %q; want %q", got, "re-7 7")
		}
	})
	t.Run("cached unless volatile", func(t *testing.T) {
		ctx := hdr("X-N", "1")
		if got := eval("$vol $cached", ctx); got != "1 1" {
			t.Fatalf("got %q; want %q", got, "1 1")
		}
		ctx.Headers[0].Value = "2"
		if got := eval("$vol $cached", ctx); got != "2 1" {
			t.Fatalf("got %q; want %q", got, "2 1")
		}
	})
}

func TestMapErrors(t *testing.T) {
	pos := config.Pos{File: "m.conf", Line: 3, Col: 1}
	tests := []struct {
		desc string
		m    *config.Map
		want string
	}{
		{"builtin", &config.Map{Pos: pos, Source: "$uri", Var: "host"}, `m.conf:3:1: the duplicate "host" variable`},
		{"unknown source", &config.Map{Pos: pos, Source: "$nope", Var: "x"}, `m.conf:3:1: compiling map source "$nope": unknown "nope" variable`},
		{"bad value", &config.Map{Pos: pos, Source: "$uri", Var: "x", Entries: []config.MapEntry{{Pos: pos, Key: "a", Value: "$zz"}}}, `unknown "zz" variable`},
		{"bad regex", &config.Map{Pos: pos, Source: "$uri", Var: "x", Entries: []config.MapEntry{{Pos: pos, Key: "(", Regex: true}}}, `compiling map regex "("`},
		{"duplicate key", &config.Map{Pos: pos, Source: "$uri", Var: "x", Entries: []config.MapEntry{{Pos: pos, Key: "a"}, {Pos: pos, Key: "A"}}}, `conflicting parameter "A"`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := NewCompiler([]*config.Map{tc.m})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	c, _ := NewCompiler([]*config.Map{{Source: "$http_upgrade", Var: "connection_upgrade", Default: "upgrade", Entries: []config.MapEntry{ent("", "close")}}})
	var tpls []*Template
	for _, s := range []string{"$http_upgrade", "upgrade", "$host", "$proxy_add_x_forwarded_for", "$remote_addr:$remote_port",
		"$request_time $status $body_bytes_sent $time_local $upstream_response_time", "$connection_upgrade", "$cookie_sess $arg_room"} {
		tpl, err := c.Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		tpls = append(tpls, tpl)
	}
	ctx := testCtx()
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		*ctx = Ctx{Headers: ctx.Headers, Host: ctx.Host, RemoteAddr: "1.2.3.4", Args: "room=1", End: ctx.End, Start: ctx.Start, Upstream: ctx.Upstream}
		b := buf[:0]
		for _, tpl := range tpls {
			b = tpl.AppendEscaped(b, ctx, EscapeDefault)
		}
	})
	if allocs != 0 {
		t.Fatalf("got %v allocs per run; want 0", allocs)
	}
}

func BenchmarkAppendSeedHeaders(b *testing.B) {
	c, _ := NewCompiler(nil)
	var tpls []*Template
	for _, s := range []string{"$http_upgrade", "upgrade", "$host"} {
		tpl, err := c.Compile(s)
		if err != nil {
			b.Fatal(err)
		}
		tpls = append(tpls, tpl)
	}
	ctx := testCtx()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		for _, tpl := range tpls {
			buf = tpl.Append(buf[:0], ctx)
		}
	}
}
