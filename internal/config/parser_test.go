package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
)

// dump renders directives compactly: name, args ('q' prefix when quoted),
// "{…}" for blocks, "; " between statements.
func dump(ds []*Directive) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Name)
		for _, a := range d.Args {
			b.WriteByte(' ')
			if a.Quoted {
				b.WriteByte('q')
			}
			b.WriteString(a.Text)
		}
		if d.HasBlock {
			b.WriteString(" {")
			b.WriteString(dump(d.Block))
			b.WriteString("}")
		}
	}
	return b.String()
}

// errLines renders errors as "line:col: msg", without file names.
func errLines(errs ErrorList) string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
	}
	return strings.Join(out, "\n")
}

// noFiles is a ParseOptions whose includes find nothing.
var noFiles = ParseOptions{
	Prefix:   "/conf",
	ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist },
	Glob:     func(string) ([]string, error) { return nil, nil },
}

// TestParseErrors checks the AST that survives and every error reported.
// The messages (not the columns, nginx prints lines only) of these cases
// were compared with nginx 1.22.1 `nginx -t`: unexpected ";", unexpected
// "{", unexpected "}" (both kinds), both end-of-file messages, the -g
// messages, `"a"b`, `"a"}`, include arity and the include block.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		globals string
		ast     string
		errs    string
	}{
		{
			name: "statements and blocks",
			src:  "a 1;\nhttp {\n server { listen 80; }\n}\n",
			ast:  "a 1; http {server {listen 80}}",
		},
		{
			name: "empty block and quoted name",
			src:  `"x y" 'z' {}`,
			ast:  "x y qz {}",
		},
		{
			name: "semicolon without words",
			src:  "a;\n;\nb;",
			ast:  "a; b",
			errs: `2:1: unexpected ";"`,
		},
		{
			name: "brace without words: block dropped, errors inside kept",
			src:  "{ a; ; }\nb;",
			ast:  "b",
			errs: "1:1: unexpected \"{\"\n1:6: unexpected \";\"",
		},
		{
			name: "close brace after words keeps them and closes",
			src:  "s {\n a b }\nc;",
			ast:  "s {a b}; c",
			errs: `2:6: unexpected "}"`,
		},
		{
			name: "close brace outside a block",
			src:  "a;\n}\nb;",
			ast:  "a; b",
			errs: `2:1: unexpected "}"`,
		},
		{
			name: "words then close brace at top level is one error",
			src:  "a }\nb;",
			ast:  "a; b",
			errs: `1:3: unexpected "}"`,
		},
		{
			name: "closing quote then brace is one error",
			src:  `s { a "b"}`,
			ast:  "s {a qb}",
			errs: `1:10: unexpected "}"`,
		},
		{
			name: "closing quote then byte",
			src:  `a "b"c;`,
			ast:  "a qb c",
			errs: `1:6: unexpected "c"`,
		},
		{
			name: "end of file with words pending",
			src:  "a;\nb c",
			ast:  "a",
			errs: `2:4: unexpected end of file, expecting ";" or "}"`,
		},
		{
			name: "end of file in a block",
			src:  "http {\n",
			ast:  "http {}",
			errs: `2:1: unexpected end of file, expecting "}"`,
		},
		{
			name: "end of file in nested blocks is one error",
			src:  "http {\nserver {\nlisten 80",
			ast:  "http {server {}}",
			errs: `3:10: unexpected end of file, expecting ";" or "}"`,
		},
		{
			name: "unterminated quote",
			src:  "a \"b;\n",
			errs: `2:1: unexpected end of file, expecting ";" or "}"`,
		},
		{
			name: "several independent errors",
			src:  "a;;\nb \"c\"d;\ne }\n}\n",
			ast:  "a; b qc d; e",
			errs: "1:3: unexpected \";\"\n2:6: unexpected \"d\"\n3:3: unexpected \"}\"\n4:1: unexpected \"}\"",
		},
		{
			name: "include without argument",
			src:  "include;\ninclude a b;",
			errs: "1:1: invalid number of arguments in \"include\" directive\n2:1: invalid number of arguments in \"include\" directive",
		},
		{
			name: "include with a block",
			src:  "include x { a; }\nb;",
			ast:  "b",
			errs: `1:1: directive "include" is not terminated by ";"`,
		},
		{
			name:    "globals",
			src:     "a;",
			globals: "pid x; daemon off;",
			ast:     "a",
		},
		{
			name:    "globals end of parameter",
			src:     "a;",
			globals: "pid x",
			ast:     "a",
			errs:    `1:6: unexpected end of parameter, expecting ";"`,
		},
		{
			name:    "globals block",
			src:     "a;",
			globals: "events { }",
			ast:     "a",
			errs:    `1:8: block directives are not supported in -g option`,
		},
		{
			name:    "globals close brace",
			src:     "a;",
			globals: "}",
			ast:     "a",
			errs:    `1:1: unexpected "}"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := noFiles
			opts.Globals = tt.globals
			ast, errs := parse("/conf/nginx.conf", []byte(tt.src), opts)
			if got := dump(ast.Main); got != tt.ast {
				t.Errorf("ast: got %q; want %q", got, tt.ast)
			}
			if got := errLines(errs); got != tt.errs {
				t.Errorf("errors:\ngot  %s\nwant %s", got, tt.errs)
			}
		})
	}
}

func TestParseGlobals(t *testing.T) {
	ast, errs := parse("/conf/nginx.conf", []byte("a;"), ParseOptions{Globals: "daemon off; pid /x;"})
	if errs != nil {
		t.Fatalf("got errors %v; want none", errs)
	}
	if got, want := dump(ast.Globals), "daemon off; pid /x"; got != want {
		t.Errorf("globals: got %q; want %q", got, want)
	}
	if got, want := ast.Globals[1].Pos.String(), "command line:1:13"; got != want {
		t.Errorf("pos: got %q; want %q", got, want)
	}
}

func TestParsePositions(t *testing.T) {
	src := "http {\n\tserver {\n\t\tlisten  \"80\";\n\t}\n}\n"
	ast, errs := parse("/conf/nginx.conf", []byte(src), noFiles)
	if errs != nil {
		t.Fatalf("got errors %v; want none", errs)
	}
	http := ast.Main[0]
	server := http.Block[0]
	listen := server.Block[0]
	for _, tt := range []struct {
		what string
		got  Pos
		want string
	}{
		{"http", http.Pos, "/conf/nginx.conf:1:1"},
		{"server", server.Pos, "/conf/nginx.conf:2:2"},
		{"listen", listen.Pos, "/conf/nginx.conf:3:3"},
		{"listen arg", listen.Args[0].Pos, "/conf/nginx.conf:3:11"},
	} {
		if got := tt.got.String(); got != tt.want {
			t.Errorf("%s: got %s; want %s", tt.what, got, tt.want)
		}
		if len(tt.got.Via) != 0 {
			t.Errorf("%s: got Via %v; want none", tt.what, tt.got.Via)
		}
	}
}

// writeFiles creates files (path relative to dir → content) and returns dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInclude(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // nginx.conf is the main file
		prefix string            // relative to the temp dir; "" = default
		ast    string
		errs   string // "@" stands for the temp dir
		read   []string
	}{
		{
			name:  "relative to the main file's directory",
			files: map[string]string{"nginx.conf": "a;\ninclude sub/x.conf;\nb;", "sub/x.conf": "x 1;\ns { y; }"},
			ast:   "a; x 1; s {y}; b",
			read:  []string{"nginx.conf", "sub/x.conf"},
		},
		{
			name:  "relative to the prefix, not the including file",
			files: map[string]string{"nginx.conf": "include sub/x.conf;", "sub/x.conf": "include sub/y.conf;", "sub/y.conf": "y;"},
			ast:   "y",
			read:  []string{"nginx.conf", "sub/x.conf", "sub/y.conf"},
		},
		{
			name:   "prefix option",
			files:  map[string]string{"nginx.conf": "include x.conf;", "p/x.conf": "px;", "x.conf": "x;"},
			prefix: "p",
			ast:    "px",
			read:   []string{"nginx.conf", "p/x.conf"},
		},
		{
			name:  "inside a block",
			files: map[string]string{"nginx.conf": "http { include s.conf; }", "s.conf": "server { listen 80; }"},
			ast:   "http {server {listen 80}}",
			read:  []string{"nginx.conf", "s.conf"},
		},
		{
			name: "glob sorted, hidden files skipped",
			files: map[string]string{
				"nginx.conf":    "include conf.d/*.conf;",
				"conf.d/b.conf": "b;", "conf.d/a.conf": "a;", "conf.d/c.conf": "c;",
				"conf.d/.hidden.conf": "hidden;", "conf.d/x.txt": "txt;",
			},
			ast:  "a; b; c",
			read: []string{"nginx.conf", "conf.d/a.conf", "conf.d/b.conf", "conf.d/c.conf"},
		},
		{
			name:  "glob without match",
			files: map[string]string{"nginx.conf": "a;\ninclude none/*.conf;\nb;"},
			ast:   "a; b",
			read:  []string{"nginx.conf"},
		},
		{
			name:  "missing file",
			files: map[string]string{"nginx.conf": "a;\ninclude missing.conf;\nb;"},
			ast:   "a; b",
			errs:  `@/nginx.conf:2:1: open() "@/missing.conf" failed (2: No such file or directory)`,
			read:  []string{"nginx.conf"},
		},
		{
			name:  "malformed glob matches nothing, as glob(3)",
			files: map[string]string{"nginx.conf": "include \"a[\";\nb;"},
			ast:   "b",
			read:  []string{"nginx.conf"},
		},
		{
			name:  "same file twice is read once",
			files: map[string]string{"nginx.conf": "include x.conf;\ninclude x.conf;", "x.conf": "x;"},
			ast:   "x; x",
			read:  []string{"nginx.conf", "x.conf"},
		},
		{
			name:  "cycle",
			files: map[string]string{"nginx.conf": "include a.conf;", "a.conf": "a;\ninclude b.conf;", "b.conf": "b;\n include a.conf;"},
			ast:   "a; b",
			errs: "@/b.conf:2:2: include cycle: @/a.conf -> @/b.conf -> @/a.conf" +
				"\n\tincluded from @/a.conf:2:1\n\tincluded from @/nginx.conf:1:1",
			read: []string{"nginx.conf", "a.conf", "b.conf"},
		},
		{
			name:  "main file includes itself",
			files: map[string]string{"nginx.conf": "include nginx.conf;"},
			errs:  "@/nginx.conf:1:1: include cycle: @/nginx.conf -> @/nginx.conf",
			read:  []string{"nginx.conf"},
		},
		{
			name:  "error inside an include names the chain",
			files: map[string]string{"nginx.conf": "http {\n  include a.conf;\n}", "a.conf": "include b.conf;", "b.conf": "x;\n;"},
			ast:   "http {x}",
			errs:  "@/b.conf:2:1: unexpected \";\"\n\tincluded from @/a.conf:1:1\n\tincluded from @/nginx.conf:2:3",
			read:  []string{"nginx.conf", "a.conf", "b.conf"},
		},
		{
			name:  "an include cannot close the includer's block",
			files: map[string]string{"nginx.conf": "http {\ninclude a.conf;\n}", "a.conf": "}\nserver {"},
			ast:   "http {server {}}",
			errs: "@/a.conf:1:1: unexpected \"}\"\n\tincluded from @/nginx.conf:2:1\n" +
				"@/a.conf:2:9: unexpected end of file, expecting \"}\"\n\tincluded from @/nginx.conf:2:1",
			read: []string{"nginx.conf", "a.conf"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			opts := ParseOptions{}
			if tt.prefix != "" {
				opts.Prefix = filepath.Join(dir, tt.prefix)
			}
			ast, errs := ParseFile(filepath.Join(dir, "nginx.conf"), opts)
			if got := dump(ast.Main); got != tt.ast {
				t.Errorf("ast: got %q; want %q", got, tt.ast)
			}
			want := strings.ReplaceAll(tt.errs, "@", dir)
			if got := errs.Error(); got != want {
				t.Errorf("errors:\ngot  %s\nwant %s", got, want)
			}
			var read []string
			for _, f := range ast.Files {
				rel, err := filepath.Rel(dir, f.Path)
				if err != nil || !filepath.IsAbs(f.Path) {
					t.Errorf("file path %q is not absolute under %s", f.Path, dir)
				}
				read = append(read, rel)
				if string(f.Data) != tt.files[rel] {
					t.Errorf("file %s: got data %q; want %q", rel, f.Data, tt.files[rel])
				}
			}
			if got, want := strings.Join(read, " "), strings.Join(tt.read, " "); got != want {
				t.Errorf("files read: got %s; want %s", got, want)
			}
		})
	}
}

func TestIncludeVia(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"nginx.conf": "http {\n  include a.conf;\n}",
		"a.conf":     "server {\n include b.conf;\n}",
		"b.conf":     "\n\n    listen 80;",
	})
	ast, errs := ParseFile(filepath.Join(dir, "nginx.conf"), ParseOptions{})
	if errs != nil {
		t.Fatalf("got errors %v; want none", errs)
	}
	server := ast.Main[0].Block[0]
	listen := server.Block[0]
	check := func(what string, p Pos, want string) {
		t.Helper()
		var parts []string
		for _, v := range p.Via {
			parts = append(parts, v.String())
		}
		parts = append(parts, p.String())
		if got := strings.ReplaceAll(strings.Join(parts, " > "), dir, "@"); got != want {
			t.Errorf("%s: got %s; want %s", what, got, want)
		}
	}
	check("server", server.Pos, "@/nginx.conf:2:3 > @/a.conf:1:1")
	check("listen", listen.Pos, "@/nginx.conf:2:3 > @/a.conf:2:2 > @/b.conf:3:5")
	check("listen arg", listen.Args[0].Pos, "@/nginx.conf:2:3 > @/a.conf:2:2 > @/b.conf:3:12")
}

func TestIncludeDepth(t *testing.T) {
	// Each level includes the next under a new name: no cycle, just depth.
	read := func(name string) ([]byte, error) {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(name), "%d.conf", &n); err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "include %d.conf;", n+1), nil
	}
	ast, errs := parse("/conf/0.conf", []byte("include 1.conf;"), ParseOptions{ReadFile: read})
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "nested too deeply") {
		t.Fatalf("got errors %v; want one nesting error", errs)
	}
	if got, want := len(ast.Files), maxIncludeDepth; got != want {
		t.Errorf("files read: got %d; want %d", got, want)
	}
	if got, want := len(errs[0].Pos.Via), maxIncludeDepth-1; got != want {
		t.Errorf("via: got %d entries; want %d", got, want)
	}
}

func TestParseFileMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nope.conf")
	_, errs := ParseFile(path, ParseOptions{})
	if len(errs) != 1 {
		t.Fatalf("got %d errors; want 1", len(errs))
	}
	if got, want := errs[0].Msg, `open() "`+path+`" failed (2: No such file or directory)`; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestSysErrMsg(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, `open() "/x" failed (13: Permission denied)`},
		{fs.ErrNotExist, `open() "/x" failed (2: No such file or directory)`},
		{&fs.PathError{Op: "read", Path: "/x", Err: errors.New("boom")}, `pread() "/x" failed (boom)`},
		{errors.New("boom"), `open() "/x" failed (boom)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := sysErrMsg("open", "/x", tt.err); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkParse5000Servers parses one file with 5,000 server blocks of
// three locations each (about 75,000 directives).
func BenchmarkParse5000Servers(b *testing.B) {
	var src bytes.Buffer
	src.WriteString("events { worker_connections 1024; }\nhttp {\n")
	for i := range 5000 {
		fmt.Fprintf(&src, `    server {
        listen %d;
        server_name s%d.example.com *.s%d.example.org;
        location / {
            proxy_pass http://127.0.0.1:3000;
            proxy_set_header Host $host;
        }
        location /ws/ {
            proxy_pass http://127.0.0.1:8080;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 86400;
        }
        location ~* "\.(png|jpe?g){1}$" {
            root /srv/www;
        }
    }
`, 10000+i, i, i)
	}
	src.WriteString("}\n")
	data := src.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := parse("/conf/nginx.conf", data, noFiles); errs != nil {
			b.Fatal(errs)
		}
	}
}

// TestNginxAgrees runs nginx -t on each input and checks that nginx's
// (first and only) error has the message and line of our first error.
// Each input is one that nginx rejects while reading it, before any
// directive it contains could be refused for its meaning.
func TestNginxAgrees(t *testing.T) {
	nginx := proxytest.NeedNginx(t)
	long := strings.Repeat("a", 5000)
	inputs := []string{
		";",
		"worker_processes 1;\n{",
		"events {\n}\n}",
		"events {",
		"events {\nworker_connections 8;",
		"events {\nworker_connections \"8\"}",
		"worker_processes \"1\"x;",
		"worker_processes 1",
		"worker_processes 'a\n\nb",
		"worker_processes \"1\")",
		"include;",
		"include a b;",
		"include missing.conf;",
		"include x { }",
		"events {}\nworker_processes " + long + ";",
		"events {}\nworker_processes \"" + long,
		"events {}\nworker_processes '" + long,
		"events {}\n#" + long + "\n",
		"events {}\nworker_processes \"" + strings.Repeat("a", 4095) + "\";",
		"events {}\n\n\nworker_processes 1; }",
	}
	re := regexp.MustCompile(`\[emerg\] \d+#\d+: (.*) in (.*):(\d+)$`)
	for i, in := range inputs {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "x.conf")
			if err := os.WriteFile(conf, []byte(in), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out := proxytest.NginxTest(t, nginx, conf)
			var m []string
			for _, line := range strings.Split(string(out), "\n") {
				if m = re.FindStringSubmatch(line); m != nil {
					break
				}
			}
			if m == nil {
				t.Fatalf("nginx printed no [emerg] line:\n%s", out)
			}
			_, errs := ParseFile(conf, ParseOptions{})
			if len(errs) == 0 {
				t.Fatalf("got no errors; nginx says %q", m[1])
			}
			got := fmt.Sprintf("%s in %s:%d", errs[0].Msg, errs[0].Pos.File, errs[0].Pos.Line)
			if want := fmt.Sprintf("%s in %s:%s", m[1], m[2], m[3]); got != want {
				t.Errorf("got %q; want %q (nginx)", got, want)
			}
		})
	}
}

// TestNginxWordText checks escape and quote processing against nginx: for
// an unknown directive nginx prints its name as the lexer produced it.
func TestNginxWordText(t *testing.T) {
	nginx := proxytest.NeedNginx(t)
	inputs := []string{
		`a\"b'c;`, `'a\'b"c' x;`, `"a\\b" x;`, `a\x\ y;`, `a\tb;`, `"a;{b}" x;`,
		`${a}x;`, `a${{b}};`, `a#b;`, `\#a;`, `"" x;`, `a"b" x;`, `"$x\$y";`,
	}
	re := regexp.MustCompile(`(?s)\[emerg\] \d+#\d+: unknown directive "(.*)" in `)
	for i, in := range inputs {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "x.conf")
			if err := os.WriteFile(conf, []byte(in), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out := proxytest.NginxTest(t, nginx, conf)
			m := re.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("nginx printed no unknown directive error:\n%s", out)
			}
			ast, errs := ParseFile(conf, ParseOptions{})
			if errs != nil || len(ast.Main) == 0 {
				t.Fatalf("got errors %v and %d statements; want one statement", errs, len(ast.Main))
			}
			if got, want := ast.Main[0].Name, string(m[1]); got != want {
				t.Errorf("name: got %q; want %q (nginx)", got, want)
			}
		})
	}
}

var updateParse = flag.Bool("update-parse", false, "rewrite testdata/parse/*.golden from the current output")

// TestParseGolden parses each testdata/parse/*.conf (includes resolved
// against testdata/parse) and compares the files read, the errors and the
// printed AST with NAME.golden. Run with -update-parse to rewrite them.
func TestParseGolden(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "parse"))
	if err != nil {
		t.Fatal(err)
	}
	confs, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(confs) == 0 {
		t.Fatalf("finding fixtures: %v (%d files)", err, len(confs))
	}
	for _, conf := range confs {
		name := strings.TrimSuffix(filepath.Base(conf), ".conf")
		t.Run(name, func(t *testing.T) {
			ast, errs := ParseFile(conf, ParseOptions{})
			var b strings.Builder
			b.WriteString("# files read\n")
			for _, f := range ast.Files {
				b.WriteString(f.Path + "\n")
			}
			b.WriteString("# errors\n")
			for _, e := range errs {
				b.WriteString(e.Error() + "\n")
			}
			b.WriteString("# ast\n")
			if err := Print(&b, ast.Main); err != nil {
				t.Fatalf("printing: %v", err)
			}
			got := strings.ReplaceAll(b.String(), dir+"/", "")
			golden := filepath.Join(dir, name+".golden")
			if *updateParse {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update-parse to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestIncludeBuiltinMimeTypes: "include mime.types" with no such file
// beside the configuration reads the built-in copy of nginx's table; a
// file that exists wins, and other missing includes stay errors.
func TestIncludeBuiltinMimeTypes(t *testing.T) {
	for _, tc := range []struct {
		name, include, file string
		wantTypes           int // entries in the included types block; -1: an error
	}{
		{"built in", "mime.types", "", 86}, // the lines of /etc/nginx/mime.types that name a type
		{"file wins", "mime.types", "types { text/x-own own; }", 1},
		{"other name", "mime2.types", "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			main := filepath.Join(dir, "nginx.conf")
			os.WriteFile(main, []byte("events {}\nhttp {\n    include "+tc.include+";\n}\n"), 0o644)
			if tc.file != "" {
				os.WriteFile(filepath.Join(dir, tc.include), []byte(tc.file), 0o644)
			}
			ast, errs := ParseFile(main, ParseOptions{})
			if tc.wantTypes < 0 {
				if len(errs) == 0 {
					t.Fatalf("no error for a missing %s", tc.include)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var types *Directive
			for _, d := range ast.Main {
				if d.Name == "http" && len(d.Block) == 1 {
					types = d.Block[0]
				}
			}
			if types == nil || types.Name != "types" {
				t.Fatalf("http block does not hold the included types block")
			}
			if len(types.Block) != tc.wantTypes {
				t.Errorf("types block has %d entries; want %d", len(types.Block), tc.wantTypes)
			}
		})
	}
}
