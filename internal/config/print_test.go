package config

import (
	"strings"
	"testing"
)

// sameAST reports the first difference between two directive lists in
// names, arguments (Text and Quoted), HasBlock and nesting; "" when equal.
func sameAST(a, b []*Directive) string {
	if len(a) != len(b) {
		return "statement counts differ: " + dump(a) + " vs " + dump(b)
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.HasBlock != y.HasBlock || len(x.Args) != len(y.Args) {
			return "statements differ: " + dump(a[i:i+1]) + " vs " + dump(b[i:i+1])
		}
		for j := range x.Args {
			if x.Args[j].Text != y.Args[j].Text || x.Args[j].Quoted != y.Args[j].Quoted {
				return "arguments differ: " + dump(a[i:i+1]) + " vs " + dump(b[i:i+1])
			}
		}
		if d := sameAST(x.Block, y.Block); d != "" {
			return d
		}
	}
	return ""
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"plain", "a b;\ns {\nt;\n}\nempty {}\n", "a b;\ns {\n    t;\n}\nempty {\n}\n"},
		{"quoted kept quoted", `a "b" '' 'c d';`, "a \"b\" \"\" \"c d\";\n"},
		{"quote chars", `a 'x"y' "it's" \"z a"b;`, "a \"x\\\"y\" \"it's\" \\\"z a\"b;\n"},
		{"escapes", `a \t\\n \x\  "\n\t";`, "a \\t\\\\n \\x\\  \"\n\t\";\n"},
		{"variables", `a ${x}y$z ${{;`, "a ${x}y$z ${{;\n"},
		{"quoted name", `"a b" '';`, "\"a b\" \"\";\n"},
		{"name needing quotes", `"#x" "}" ";" "";`, "\"#x\" \"}\" \";\" \"\";\n"},
		{"escaped specials unquoted", `a \; \{ \# \} b\\;`, "a \\; \\{ \\# \\} b\\\\;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ast, errs := parse("t.conf", []byte(tt.src), noFiles)
			if errs != nil {
				t.Fatalf("parsing %q: %v", tt.src, errs)
			}
			var b strings.Builder
			if err := Print(&b, ast.Main); err != nil {
				t.Fatalf("printing: %v", err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			again, errs := parse("t.conf", []byte(b.String()), noFiles)
			if errs != nil {
				t.Fatalf("parsing the output %q: %v", b.String(), errs)
			}
			if d := sameAST(ast.Main, again.Main); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
}

func TestPrintUnrepresentable(t *testing.T) {
	for _, text := range []string{"", "a b", "a;", "{", "#a", "}a", "x{"} {
		t.Run(text, func(t *testing.T) {
			d := &Directive{Name: "n", Args: []Word{{Text: text}}}
			var b strings.Builder
			if err := Print(&b, []*Directive{d}); err == nil {
				t.Errorf("Print of unquoted %q: got output %q and no error; want an error", text, b.String())
			}
		})
	}
}
