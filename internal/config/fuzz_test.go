package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzOpts resolves every include to a one-statement file and every glob
// to nothing, so fuzzing never touches the file system.
var fuzzOpts = ParseOptions{
	Prefix:   "/conf",
	ReadFile: func(string) ([]byte, error) { return []byte("included 1;"), nil },
	Glob:     func(string) ([]string, error) { return nil, nil },
}

// addSeeds adds the configuration files in testdata/fuzz/seeds and a few
// inputs that sit on lexer edges.
func addSeeds(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "seeds", "*.conf"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("finding seeds: %v (%d files)", err, len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`a "b"c;`, `a "b"}`, `"a")`, `a\`, `a${{b}`, `\${`, "# c\n;", `'\''`,
		`a "\t\n\\";`, "include x; include y*.conf;", "s { t { u; } }", "}{;",
		strings.Repeat("a", 4100) + ";", "#" + strings.Repeat("a", 4100) + "\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzLex checks that the lexer never panics, always reaches the end, and
// keeps positions inside the input.
func FuzzLex(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var rep reporter
		src := string(data)
		l := newLexer("f", src, nil, &rep)
		lines := bytes.Count(data, []byte{'\n'}) + 1
		prevLine, prevCol := 1, 0
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("no end of input after %d tokens", n)
			}
			tk := l.next()
			p := tk.pos
			if p.Line < 1 || p.Line > lines || p.Col < 1 || p.Col > len(data)+1 {
				t.Fatalf("token %d at %d:%d is outside the input (%d lines)", n, p.Line, p.Col, lines)
			}
			if p.Line < prevLine || (p.Line == prevLine && p.Col <= prevCol && tk.kind != tokEOF) {
				t.Fatalf("token %d at %d:%d does not follow %d:%d", n, p.Line, p.Col, prevLine, prevCol)
			}
			prevLine, prevCol = p.Line, p.Col
			if tk.kind == tokEOF {
				if p.Line != lines {
					t.Fatalf("end of input on line %d; want %d", p.Line, lines)
				}
				return
			}
		}
	})
}

// FuzzParse checks that the parser never panics and that any input that
// parses without errors prints to text that parses to the same AST.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ast, errs := parse("/conf/f.conf", data, fuzzOpts)
		if ast == nil {
			t.Fatal("got a nil AST")
		}
		if errs != nil {
			for i := 1; i < len(errs); i++ {
				if errs[i].Error() == errs[i-1].Error() {
					t.Fatalf("error reported twice in a row: %v", errs[i])
				}
			}
			return
		}
		var out bytes.Buffer
		if err := Print(&out, ast.Main); err != nil {
			t.Fatalf("printing: %v", err)
		}
		again, errs := parse("/conf/f.conf", out.Bytes(), fuzzOpts)
		if errs != nil {
			t.Fatalf("parsing printed text:\n%s\nerrors: %v", out.Bytes(), errs)
		}
		if d := sameAST(ast.Main, again.Main); d != "" {
			t.Fatalf("round trip of %q via %q: %s", data, out.Bytes(), d)
		}
	})
}

// TestSeedsRoundTrip makes sure the seed configurations parse cleanly, so
// that the fuzzer's round-trip check starts from real configurations.
func TestSeedsRoundTrip(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "seeds", "*.conf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("finding seeds: %v (%d files)", err, len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			ast, errs := parse(p, data, fuzzOpts)
			if errs != nil {
				t.Fatalf("got errors %v; want none", errs)
			}
			var out bytes.Buffer
			if err := Print(&out, ast.Main); err != nil {
				t.Fatalf("printing: %v", err)
			}
			again, errs := parse(p, out.Bytes(), fuzzOpts)
			if errs != nil {
				t.Fatalf("parsing printed text: %v", errs)
			}
			if d := sameAST(ast.Main, again.Main); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
}
