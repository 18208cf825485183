package proxy

import (
	"strings"
	"testing"
)

// TestParseUnsafeURI pins ngx_http_parse_unsafe_uri's answers on the
// values of nginx's proxy_xar.t.
func TestParseUnsafeURI(t *testing.T) {
	tests := []struct {
		in, uri, args string
		ok            bool
	}{
		{"/index.html", "/index.html", "", true},
		{"/foo?bar", "/foo", "bar", true},
		{"/foo%20bar", "/foo bar", "", true},
		{"/a/b?x=%20", "/a/b", "x=%20", true},
		{"..", "", "", false},
		{"../foo", "", "", false},
		{"/foo/..", "", "", false},
		{"/foo/../bar", "", "", false},
		{"/foo/.%2e", "", "", false},
		{"/foo/..bar", "/foo/..bar", "", true},
		{"/a\x00b", "", "", false},
		{"/100%", "/100%", "", true},
	}
	for _, tt := range tests {
		uri, args, ok := parseUnsafeURI([]byte(tt.in))
		if ok != tt.ok || ok && (uri != tt.uri || args != tt.args) {
			t.Errorf("%q: got %q %q %v; want %q %q %v", tt.in, uri, args, ok, tt.uri, tt.args, tt.ok)
		}
	}
}

// FuzzParseUnsafeURI: whatever an upstream sends, a URI let through has
// no ".." segment.
func FuzzParseUnsafeURI(f *testing.F) {
	for _, s := range []string{"/index.html", "/foo?bar", "/foo/.%2e", "/%2e%2e/x", "..", "/a%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		uri, _, ok := parseUnsafeURI([]byte(s))
		if !ok {
			return
		}
		for _, seg := range strings.Split(uri, "/") {
			if seg == ".." {
				t.Errorf("%q: let %q through", s, uri)
			}
		}
	})
}
