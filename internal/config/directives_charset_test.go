package config

import (
	"bytes"
	"strings"
	"testing"
)

// TestCharsetMap checks charset_map's entries and errors, worded as
// ngx_http_charset_map_block and ngx_http_charset_map word them.
func TestCharsetMap(t *testing.T) {
	tests := []struct {
		name, http string
		want       string // an error, or "" for none
	}{
		{"single", `charset_map a b { 41 42; C0 e1; }`, ""},
		{"utf-8", `charset_map a utf-8 { C0 D0B0; 80 E282AC; 41 41; }`, ""},
		{"same", `charset_map a A { 41 42; }`, `"charset_map" between the same charsets "a" and "A"`},
		{"duplicate reversed", `charset_map a b { } charset_map B a { }`, `duplicate "charset_map" between "B" and "a"`},
		{"bad source", `charset_map a b { 4G 42; }`, `invalid value "4G"`},
		{"source too big", `charset_map a b { 100 42; }`, `invalid value "100"`},
		{"bad destination", `charset_map a b { 41 x; }`, `invalid value "x"`},
		{"arity", `charset_map a b { 41 42 43; }`, `invalid parameters number`},
		{"utf-8 above 0xffff", `charset_map a utf-8 { 41 F09F9880; }`, `invalid value "F09F9880"`},
		{"utf-8 overlong", `charset_map a utf-8 { 41 C081; }`, `invalid value "C081"`},
		{"utf-8 odd", `charset_map a utf-8 { 41 D0B; }`, `invalid value "D0B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, errs := checkRewrite(t, "events {} http { "+tt.http+" server { charset b; source_charset a; } }")
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("got %v; want no error", errs)
				}
				if n := len(spec.HTTP.CharsetMaps); n != 1 {
					t.Fatalf("got %d maps; want 1", n)
				}
				return
			}
			if !strings.Contains(errs.Error(), tt.want) {
				t.Errorf("got %v; want %q", errs, tt.want)
			}
		})
	}
	spec, errs := checkRewrite(t, "events {} http { charset_map koi8-r utf-8 { C1 D0B0; 9A C2A0; } }")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e := spec.HTTP.CharsetMaps[0].Entries
	if len(e) != 2 || e[0].Src != 0xc1 || !bytes.Equal(e[0].Dst, []byte{0xd0, 0xb0}) || e[1].Src != 0x9a || !bytes.Equal(e[1].Dst, []byte{0xc2, 0xa0}) {
		t.Errorf("got entries %v", e)
	}
}
