package files

import "testing"

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
