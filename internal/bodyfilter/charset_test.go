package bodyfilter

import "testing"

// TestSplitCharset: the type part and charset of a Content-Type value as
// ngx_http_upstream_copy_content_type reads them.
func TestSplitCharset(t *testing.T) {
	tests := []struct {
		in, typ, charset string
		has              bool
	}{
		{"text/html", "text/html", "", false},
		{"text/html; charset=koi8-r", "text/html", "koi8-r", true},
		{"text/html;charset=\"UTF-8\"", "text/html", "UTF-8", true},
		{"text/html; q=1; Charset=x", "text/html; q=1", "x", true},
		{"text/html; q=1", "text/html; q=1", "", false},
		{"text/html;   ", "text/html;   ", "", false},
	}
	for _, tt := range tests {
		typ, cs := splitCharset([]byte(tt.in))
		if string(typ) != tt.typ || string(cs) != tt.charset || (cs != nil) != tt.has {
			t.Errorf("splitCharset(%q) = %q, %q; want %q, %q", tt.in, typ, cs, tt.typ, tt.charset)
		}
	}
}
