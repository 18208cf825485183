package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
)

// TestCharsetRecodeChecks: a location that recodes needs a charset_map
// between its two charsets (nginx's "no charset_map" at start); proxied
// and returned responses are recoded as static files are (the body
// filter's charset stage), also under override_charset. A variable
// charset only labels: with recoding it is refused.
func TestCharsetRecodeChecks(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"files", `charset_map a b { 41 42; } server { charset b; source_charset a; }`, ""},
		{"reverse map", `charset_map a b { 41 42; } server { charset A; source_charset B; }`, ""},
		{"same charset", `server { charset utf-8; source_charset UTF-8; location /p { proxy_pass http://127.0.0.1:9; } }`, ""},
		{"no map", `server { charset b; source_charset a; }`, `no "charset_map" between the charsets "a" and "b"`},
		{"proxied", `charset_map a b { 41 42; } server { charset b; source_charset a; location /p { proxy_pass http://127.0.0.1:9; } }`, ""},
		{"returned", `charset_map a b { 41 42; } server { location /r { charset b; source_charset a; return 200 x; } }`, ""},
		{"override proxied", `charset_map a b { 41 42; } server { location /p { charset b; override_charset on; proxy_pass http://127.0.0.1:9; } }`, ""},
		{"override without maps", `server { location /p { charset b; override_charset on; proxy_pass http://127.0.0.1:9; } }`, ""},
		{"variable", `charset_map a b { 41 42; } server { charset $arg_c; location /p { proxy_pass http://127.0.0.1:9; } location /r { return 200 x; } }`, ""},
		{"unknown variable", `server { charset $no_such_thing; }`, `unknown`},
		{"variable with source_charset", `charset_map a b { 41 42; } server { charset $arg_c; source_charset a; }`, `a variable in "charset" together with source_charset`},
		{"variable with override_charset", `charset_map a b { 41 42; } server { location /p { charset $arg_c; override_charset on; proxy_pass http://127.0.0.1:9; } }`, `a variable in "charset" together with source_charset`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nginx.conf")
			os.WriteFile(path, []byte("events {}\nhttp {\n"+tt.body+"\n}\n"), 0o644)
			spec, errs := config.Load(path, config.ParseOptions{})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			_, err := Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{})})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v; want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v; want %q", err, tt.want)
			}
		})
	}
}
