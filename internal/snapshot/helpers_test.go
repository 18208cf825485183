package snapshot

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// testTemplate is a minimal template for these tests: literal text with
// $name references resolved from a map bound at compile time, so that the
// tests do not depend on the vars package's request context.
type testTemplate struct {
	parts []string // even: literal, odd: variable name
	env   map[string]string
}

func (t *testTemplate) Append(dst []byte, _ *EvalCtx) []byte {
	for i, p := range t.parts {
		if i%2 == 0 {
			dst = append(dst, p...)
		} else {
			dst = append(dst, t.env[p]...)
		}
	}
	return dst
}

func (t *testTemplate) IsConst() bool { return len(t.parts) <= 1 }

// compileWith returns a CompileFunc resolving variables from env.
func compileWith(env map[string]string) CompileFunc {
	return func(raw string) (Template, error) {
		t := &testTemplate{env: env}
		lit := ""
		for i := 0; i < len(raw); i++ {
			if raw[i] != '$' {
				lit += raw[i : i+1]
				continue
			}
			j := i + 1
			for j < len(raw) && isWordByte(raw[j]) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("bad variable in %q", raw)
			}
			t.parts = append(t.parts, lit, raw[i+1:j])
			lit = ""
			i = j - 1
		}
		t.parts = append(t.parts, lit)
		return t, nil
	}
}

// Field is one header line.
type Field struct {
	Name, Value []byte
}

// Fields is a HeaderList over a slice, for tests; pass *Fields.
type Fields []Field

func (f *Fields) Len() int { return len(*f) }

func (f *Fields) At(i int) (name, value []byte) { return (*f)[i].Name, (*f)[i].Value }

// parseHead splits "Name: value" lines (LF or CRLF) into Fields.
func parseHead(t testing.TB, s string) *Fields {
	t.Helper()
	var f Fields
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		f = append(f, Field{Name: []byte(name), Value: []byte(value)})
	}
	return &f
}

// crlf turns a readable LF block into wire bytes.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func diffBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", show(got), show(want))
	}
}

func show(b []byte) string {
	return strings.ReplaceAll(string(b), "\r\n", "\\r\\n\n")
}
