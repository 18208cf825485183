package bodyfilter

import (
	"bytes"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/files"
)

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

// TestCharsetXAccel: a proxied response's X-Accel-Charset is the
// destination (ngx_http_destination_charset), recoded from the charset
// its Content-Type names through the charset_map, labeled only without
// one; an unknown one changes nothing; a location without another
// charset stage acts on that header alone; a multipart/byteranges type
// (a cached response cut into ranges) gives up the charset parameter
// that names its parts' source.
func TestCharsetXAccel(t *testing.T) {
	tables := files.NewCharsetTables([]*config.CharsetMap{{Src: "b", Dst: "a", Entries: []config.CharsetMapEntry{{Src: 'X', Dst: []byte{'Y'}}}}})
	tests := []struct {
		name, charset, ctype, override string
		wantType                       string
		recodes                        bool
	}{
		{"recoded", "", "text/html; charset=b", "a", "text/html; charset=a", true},
		{"labeled", "", "text/html", "a", "text/html; charset=a", false},
		{"unknown", "", "text/html; charset=b", "z", "text/html; charset=b", false},
		{"none", "", "text/html; charset=b", "", "text/html; charset=b", false},
		{"over the directive", "utf-8", "text/html; charset=b", "a", "text/html; charset=a", true},
		{"any type", "", "application/x; charset=b", "a", "application/x; charset=a", true},
		{"multipart", "", "multipart/byteranges; boundary=1; charset=b", "a", "multipart/byteranges; boundary=1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &config.FilesConf{Charset: tt.charset, CharsetTypes: []string{"text/html"}}
			cf := compileCharset(f, tables, true, nil)
			if cf == nil {
				t.Fatal("no charset stage for a proxied location with charset_map tables")
			}
			head := "HTTP/1.1 200 OK\r\nContent-Type: " + tt.ctype + "\r\n\r\n"
			var s charsetStage
			out, st := s.start(cf, []byte(head), 0, 200, 10, tt.override)
			want := "HTTP/1.1 200 OK\r\nContent-Type: " + tt.wantType + "\r\n\r\n"
			if string(out) != want || (st != nil) != tt.recodes {
				t.Fatalf("got %q, recodes %v; want %q, %v", out, st != nil, want, tt.recodes)
			}
			if st != nil {
				var b bytes.Buffer
				st.Write(&b, []byte("XaX"))
				if b.String() != "YaY" {
					t.Errorf("recoded %q; want %q", b.String(), "YaY")
				}
			}
		})
	}
	if cf := compileCharset(&config.FilesConf{}, tables, false, nil); cf != nil {
		t.Error("a location that does not proxy got an X-Accel-Charset stage")
	}
}
