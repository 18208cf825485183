package headers

import (
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

func compileTest(t *testing.T, h config.HeadersConf) *Filter {
	t.Helper()
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(&h, func(raw string) (Value, error) {
		v, err := vc.Compile(raw)
		if err != nil {
			return nil, err
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// head joins lines with CRLF into a head ending in an empty line.
func head(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

// proxied is a proxied response as wsgate composes it: nginx's own
// lines up to Connection, then the upstream's.
var proxied = head("HTTP/1.1 200 OK", "Server: wsgate", "Date: d",
	"Content-Type: text/html; charset=utf-8", "Content-Length: 3", "Connection: keep-alive",
	"X-Powered-By: php", "X-Hidden-A: 1", "x-hidden-b: 2", `ETag: "abc"`,
	"Last-Modified: m", "Cache-Control: a", "Cache-Control: b", "Foo: 1", "Foo: 2")

// TestRewrite pins the filter against what nginx 1.22 with headers-more
// 0.34 sent for the same heads (checked by hand against Debian's
// libnginx-mod-http-headers-more-filter; the add_header cases are also
// in testdata/diff).
func TestRewrite(t *testing.T) {
	more := func(statuses []int, types []string, hs ...config.MoreHeader) config.MoreHeaders {
		return config.MoreHeaders{Statuses: statuses, Types: types, Headers: hs}
	}
	set := func(n, v string) config.MoreHeader { return config.MoreHeader{Name: n, Value: v} }
	tests := []struct {
		name   string
		conf   config.HeadersConf
		in     string
		status int
		want   string
		late   string // the first late line (MarkLateLines), "" for none
	}{
		{
			name:   "add_header on a safe status, appended",
			conf:   config.HeadersConf{Add: []config.AddHeader{{Name: "X-A", Value: "1"}, {Name: "X-Empty", Value: ""}}},
			in:     head("HTTP/1.1 200 OK", "Server: s", "Connection: close"),
			status: 200,
			want:   head("HTTP/1.1 200 OK", "Server: s", "Connection: close", "X-A: 1"),
		},
		{
			name:   "add_header without always skips a 404",
			conf:   config.HeadersConf{Add: []config.AddHeader{{Name: "X-A", Value: "1"}, {Name: "X-B", Value: "$status", Always: true}}},
			in:     head("HTTP/1.1 404 Not Found", "Connection: close"),
			status: 404,
			want:   head("HTTP/1.1 404 Not Found", "Connection: close", "X-B: 404"),
		},
		{
			name: "add_header ETag and Last-Modified replace in place",
			conf: config.HeadersConf{Add: []config.AddHeader{{Name: "ETag", Value: `"new"`}, {Name: "Last-Modified", Value: ""}}},
			in:   head("HTTP/1.1 200 OK", "Connection: close", `ETag: "abc"`, "Last-Modified: m", "X: 1"),
			want: head("HTTP/1.1 200 OK", "Connection: close", `ETag: "new"`, "X: 1"),
		},
		{
			name: "add_header Last-Modified replaces nginx's own",
			conf: config.HeadersConf{Add: []config.AddHeader{{Name: "Last-Modified", Value: "x"}}},
			in:   head("HTTP/1.1 200 OK", "Last-Modified: m", "Connection: close", "X: 1"),
			want: head("HTTP/1.1 200 OK", "Connection: close", "X: 1", "Last-Modified: x"),
		},
		{
			name: "more_set_headers: first of a name takes the value, others go, new ones appended, Server moved",
			conf: config.HeadersConf{More: []config.MoreHeaders{
				more(nil, nil, set("Server", "edge")),
				more(nil, nil, config.MoreHeader{Name: "X-Powered-By"}, config.MoreHeader{Name: "X-Hidden-", Wildcard: true}),
				more(nil, nil, set("Foo", "x"), set("Cache-Control", "cc"), set("X-New", "$status")),
				more([]int{404, 500}, nil, set("X-Err", "1")),
				more(nil, []string{"text/html"}, set("X-Html", "1")),
				more(nil, []string{"text/plain"}, set("X-Plain", "1")),
			}},
			in: proxied,
			want: head("HTTP/1.1 200 OK", "Date: d", "Content-Type: text/html; charset=utf-8", "Content-Length: 3",
				"Connection: keep-alive", `ETag: "abc"`, "Last-Modified: m", "Cache-Control: cc", "Foo: x",
				"Server: edge", "X-New: 200", "X-Html: 1"),
		},
		{
			name: "more_set_headers Content-Type keeps the charset; -t sees the new type",
			conf: config.HeadersConf{More: []config.MoreHeaders{
				more(nil, nil, set("Content-Type", "text/plain")),
				more(nil, []string{"text/plain"}, set("X-Plain", "1")),
				more(nil, nil, config.MoreHeader{Name: "Date"}),
			}},
			in:   head("HTTP/1.1 200 OK", "Server: s", "Date: d", "Content-Type: text/html; charset=utf-8", "Connection: close"),
			want: head("HTTP/1.1 200 OK", "Server: s", "Content-Type: text/plain; charset=utf-8", "Connection: close", "X-Plain: 1"),
		},
		{
			name: "more_clear_headers Content-Type and Server; Connection stays",
			conf: config.HeadersConf{More: []config.MoreHeaders{more(nil, nil,
				config.MoreHeader{Name: "Content-Type"}, config.MoreHeader{Name: "Server"}, config.MoreHeader{Name: "Connection"})}},
			in:   head("HTTP/1.1 200 OK", "Server: s", "Content-Type: text/html", "Connection: close"),
			want: head("HTTP/1.1 200 OK", "Connection: close"),
		},
		{
			name:   "more_set_headers Location moves a redirect's Location into the list",
			conf:   config.HeadersConf{More: []config.MoreHeaders{more(nil, nil, set("Location", "http://other/"))}},
			in:     head("HTTP/1.1 301 Moved Permanently", "Content-Length: 1", "Location: http://h/x", "Connection: close", "X: 1"),
			status: 301,
			want:   head("HTTP/1.1 301 Moved Permanently", "Content-Length: 1", "Connection: close", "Location: http://other/", "X: 1"),
		},
		{
			name: "append (-a) adds beside an existing line",
			conf: config.HeadersConf{More: []config.MoreHeaders{{Append: true, Headers: []config.MoreHeader{set("Link", "</b>")}}}},
			in:   head("HTTP/1.1 200 OK", "Connection: close", "Link: </a>"),
			want: head("HTTP/1.1 200 OK", "Connection: close", "Link: </a>", "Link: </b>"),
		},
		{
			name: "added lines go before the range filter's",
			conf: config.HeadersConf{
				Add:  []config.AddHeader{{Name: "X-A", Value: "1"}},
				More: []config.MoreHeaders{more(nil, nil, set("X-M", "1"))},
			},
			in:   head("HTTP/1.1 200 OK", "Connection: close", "ETag: e", "Accept-Ranges: bytes"),
			late: "Accept-Ranges",
			want: head("HTTP/1.1 200 OK", "Connection: close", "ETag: e", "X-M: 1", "X-A: 1", "Accept-Ranges: bytes"),
		},
		{
			name: "headers-more before add_header",
			conf: config.HeadersConf{
				Add:  []config.AddHeader{{Name: "X-A", Value: "add"}},
				More: []config.MoreHeaders{more(nil, nil, set("X-A", "more"))},
			},
			in:   head("HTTP/1.1 200 OK", "Connection: close"),
			want: head("HTTP/1.1 200 OK", "Connection: close", "X-A: more", "X-A: add"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := compileTest(t, tc.conf)
			status := tc.status
			if status == 0 {
				status = 200
			}
			prefix := "prefix"
			late := -1
			if tc.late != "" {
				late = len(prefix) + strings.Index(tc.in, tc.late)
			}
			got := string(f.Rewrite([]byte(prefix+tc.in), len(prefix), late, status, &vars.Ctx{}))
			if got != prefix+tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, prefix+tc.want)
			}
		})
	}
}

// TestTrailers: trailers for the statuses they apply to, empty values
// left out.
func TestTrailers(t *testing.T) {
	f := compileTest(t, config.HeadersConf{Trailers: []config.AddHeader{
		{Name: "X-S", Value: "$status"}, {Name: "X-E", Value: ""}, {Name: "X-A", Value: "a", Always: true}}})
	for _, tc := range []struct {
		status int
		expect bool
		want   string
	}{
		{200, true, "X-S: 200\r\nX-A: a\r\n"},
		{404, true, "X-A: a\r\n"},
	} {
		c := &vars.Ctx{Status: tc.status}
		if got := f.ExpectTrailers(tc.status); got != tc.expect {
			t.Errorf("ExpectTrailers(%d) = %v; want %v", tc.status, got, tc.expect)
		}
		if got := string(f.AppendTrailers(nil, tc.status, c)); got != tc.want {
			t.Errorf("AppendTrailers(%d) = %q; want %q", tc.status, got, tc.want)
		}
	}
	only := compileTest(t, config.HeadersConf{Trailers: []config.AddHeader{{Name: "X", Value: "1"}}})
	if only.ExpectTrailers(500) {
		t.Errorf("ExpectTrailers(500) without always = true; want false")
	}
}

// TestRewriteAllocs: a location without the directives costs nothing,
// and neither constant values nor plain variables allocate once the
// buffer has room.
func TestRewriteAllocs(t *testing.T) {
	var none *Filter
	f := compileTest(t, config.HeadersConf{Add: []config.AddHeader{
		{Name: "Strict-Transport-Security", Value: "max-age=31536000", Always: true},
		{Name: "X-Frame-Options", Value: "DENY"}}})
	withVars := compileTest(t, config.HeadersConf{
		Add:  []config.AddHeader{{Name: "X-Uri", Value: "$uri:$status", Always: true}},
		More: []config.MoreHeaders{{Headers: []config.MoreHeader{{Name: "Server", Value: "edge"}, {Name: "X-Hidden-", Wildcard: true}}}},
	})
	buf := make([]byte, 0, 4096)
	c := &vars.Ctx{URI: "/a/b"}
	for _, tc := range []struct {
		name string
		f    *Filter
	}{{"none", none}, {"constant", f}, {"variables and headers-more", withVars}} {
		n := testing.AllocsPerRun(100, func() {
			b := append(buf[:0], proxied...)
			_ = tc.f.Rewrite(b, 0, -1, 200, c)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per Rewrite; want 0", tc.name, n)
		}
	}
}

// TestRewriteLineBreaks: a CR or LF written in the configuration ("\n" in
// a quoted add_header value, as nginx-tests' map.t has) is sent as nginx
// sends it; one that a variable brings ($uri is decoded: "%0d%0a") drops
// the line, in heads and in trailers.
func TestRewriteLineBreaks(t *testing.T) {
	tests := []struct {
		name  string
		value string
		uri   string
		want  string // the added line, "" for none
	}{
		{"literal LF kept", "x:1\n", "/", "X-A: x:1\n"},
		{"literal CR LF kept", "a\r\nb", "/", "X-A: a\r\nb"},
		{"literal LF with a variable", "u:$uri\n", "/p", "X-A: u:/p\n"},
		{"variable LF dropped", "u:$uri", "/a\nb", ""},
		{"variable CR LF dropped beside a literal LF", "u:$uri\n", "/a\r\nX: 1", ""},
		{"variable NUL dropped", "u:$uri\n", "/a\x00", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := compileTest(t, config.HeadersConf{
				Add:      []config.AddHeader{{Name: "X-A", Value: tc.value}},
				Trailers: []config.AddHeader{{Name: "X-A", Value: tc.value}},
			})
			c := &vars.Ctx{URI: tc.uri}
			in := head("HTTP/1.1 200 OK", "Connection: close")
			want := in
			if tc.want != "" {
				want = head("HTTP/1.1 200 OK", "Connection: close", tc.want)
			}
			if got := string(f.Rewrite([]byte(in), 0, -1, 200, c)); got != want {
				t.Errorf("head: got %q, want %q", got, want)
			}
			wantT := ""
			if tc.want != "" {
				wantT = tc.want + "\r\n"
			}
			if got := string(f.AppendTrailers(nil, 200, c)); got != wantT {
				t.Errorf("trailers: got %q, want %q", got, wantT)
			}
		})
	}
}
