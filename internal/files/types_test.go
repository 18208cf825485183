package files

import (
	"testing"

	"wsgate/internal/vars"
)

// TestContentTypeAndCharset pins ngx_http_set_content_type's extension
// rules and the charset filter's choice.
func TestContentTypeAndCharset(t *testing.T) {
	types := map[string]string{"html": "text/html", "css": "text/css", "json": "application/json"}
	for _, tc := range []struct {
		uri   string
		types map[string]string
		want  string
	}{
		{"/a.html", nil, "text/html"},
		{"/a.HTML", nil, "text/html"},
		{"/a.css", nil, "text/plain"}, // nginx's built-in table has html, gif and jpg only
		{"/a.css", types, "text/css"},
		{"/a.tar.json", types, "application/json"},
		{"/.css", types, "text/plain"}, // a leading dot starts the name
		{"/dir.css/file", types, "text/plain"},
		{"/x.", types, "text/plain"},
		{"/", types, "text/plain"},
	} {
		if got := ContentType(tc.types, "text/plain", tc.uri); got != tc.want {
			t.Errorf("ContentType(%q) = %q; want %q", tc.uri, got, tc.want)
		}
	}
	cs := NewCharset("utf-8", DefaultCharsetTypes())
	for _, tc := range []struct {
		status int
		ctype  string
		want   string
	}{
		{200, "text/html", "utf-8"},
		{200, "TEXT/HTML", "utf-8"},
		{200, "text/css", ""},
		{200, "text/html; charset=koi8-r", ""},
		{200, "text/html; q=1", ""}, // parameters: not the listed type
		{301, "text/html", ""},
		{302, "text/html", ""},
		{303, "text/html", "utf-8"},
		{404, "text/html", "utf-8"},
		{200, "", ""},
	} {
		if got := cs.For(tc.status, tc.ctype); got != tc.want {
			t.Errorf("For(%d, %q) = %q; want %q", tc.status, tc.ctype, got, tc.want)
		}
	}
	if got := (Charset{}).For(200, "text/html"); got != "" {
		t.Errorf("charset off gave %q", got)
	}
}

// TestParseHTTPTime compares the allocation-free IMF-fixdate reader with
// time.Parse, and reads the two obsolete forms.
func TestParseHTTPTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"Tue, 02 Jan 2024 03:04:05 GMT", 1704164645},
		{"Xyz, 02 Jan 2024 03:04:05 GMT", 1704164645}, // the weekday is not checked
		{"Tuesday, 02-Jan-24 03:04:05 GMT", 1704164645},
		{"Tue Jan  2 03:04:05 2024", 1704164645},
		{"Thu, 31 Feb 2024 03:04:05 GMT", -1},
		{"Tue, 02 Jan 2024 03:04:05 UTC", 1704164645}, // nor what follows the seconds
		{"garbage", -1},
		{"", -1},
	} {
		if got := ParseHTTPTime([]byte(tc.in)); got != tc.want {
			t.Errorf("ParseHTTPTime(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
	v := []byte("Tue, 02 Jan 2024 03:04:05 GMT")
	if n := testing.AllocsPerRun(100, func() { ParseHTTPTime(v) }); n != 0 {
		t.Errorf("%v allocations reading an IMF-fixdate", n)
	}
}

// TestCharsetVariable pins "charset $name": a name is taken literally, a
// variable per request, and a value that is empty or could break the
// header line labels nothing.
func TestCharsetVariable(t *testing.T) {
	lit, err := NewCharsetValue("koi8-r", DefaultCharsetTypes(), compileFunc(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := lit.Resolve(&vars.Ctx{}).For(200, "text/html"); got != "koi8-r" {
		t.Errorf("literal charset: got %q", got)
	}
	cs, err := NewCharsetValue("$arg_c", DefaultCharsetTypes(), compileFunc(t))
	if err != nil {
		t.Fatal(err)
	}
	if !cs.On() {
		t.Error("charset $arg_c is not on")
	}
	if got := cs.For(200, "text/html"); got != "" {
		t.Errorf("unresolved variable charset labels %q", got)
	}
	for _, tc := range []struct {
		args  string
		ctype string
		want  string
	}{
		{"c=utf-8", "text/html", "utf-8"},
		{"c=Windows-1251", "text/plain", "Windows-1251"},
		{"c=utf-8", "text/css", ""}, // not in charset_types
		{"c=", "text/html", ""},
		{"x=1", "text/html", ""}, // not found
		{"c=a\x01b", "text/html", ""},
	} {
		vc := &vars.Ctx{Args: tc.args, HasArgs: true}
		if got := cs.Resolve(vc).For(200, tc.ctype); got != tc.want {
			t.Errorf("?%s %s: got %q; want %q", tc.args, tc.ctype, got, tc.want)
		}
	}
	if _, err := NewCharsetValue("$no_such_variable", nil, compileFunc(t)); err == nil {
		t.Error("an unknown variable was accepted")
	}
}
