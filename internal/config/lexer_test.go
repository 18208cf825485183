package config

import (
	"fmt"
	"strings"
	"testing"
)

// lexAll renders every token of src as "kind text line:col" and every
// error as "line:col: msg".
func lexAll(t *testing.T, src string) (toks, errs []string) {
	t.Helper()
	var rep reporter
	l := newLexer("f.conf", src, nil, &rep)
	for n := 0; ; n++ {
		if n > len(src)+2 {
			t.Fatalf("lexer did not reach the end of %q", src)
		}
		tk := l.next()
		at := fmt.Sprintf("%d:%d", tk.pos.Line, tk.pos.Col)
		switch tk.kind {
		case tokWord:
			k := "w"
			if tk.quoted {
				k = "q"
			}
			toks = append(toks, fmt.Sprintf("%s %q %s", k, tk.text, at))
		case tokSemi:
			toks = append(toks, "; "+at)
		case tokOpen:
			toks = append(toks, "{ "+at)
		case tokClose:
			toks = append(toks, "} "+at)
		case tokEOF:
			toks = append(toks, "eof "+at)
			for _, e := range rep.errs {
				errs = append(errs, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
			}
			return toks, errs
		}
	}
}

func TestLexer(t *testing.T) {
	tests := []struct {
		name string
		src  string
		toks []string
		errs []string
	}{
		{
			name: "words and punctuation",
			src:  "a b;\nc {\n}\n",
			toks: []string{`w "a" 1:1`, `w "b" 1:3`, `; 1:4`, `w "c" 2:1`, `{ 2:3`, `} 3:1`, `eof 4:1`},
		},
		{
			name: "separators are space tab CR LF",
			src:  "a\tb\r\nc  d",
			toks: []string{`w "a" 1:1`, `w "b" 1:3`, `w "c" 2:1`, `w "d" 2:4`, `eof 2:5`},
		},
		{
			name: "punctuation ends a word without space",
			src:  "a;b{c}",
			toks: []string{`w "a" 1:1`, `; 1:2`, `w "b" 1:3`, `{ 1:4`, `w "c}" 1:5`, `eof 1:7`},
		},
		{
			name: "comment only at token start",
			src:  "a#b # c;\nd",
			toks: []string{`w "a#b" 1:1`, `w "d" 2:1`, `eof 2:2`},
		},
		{
			name: "comment at end of input",
			src:  "a; # no newline",
			toks: []string{`w "a" 1:1`, `; 1:2`, `eof 1:16`},
		},
		{
			name: "double and single quotes",
			src:  `"a b" 'c;d' "" ''`,
			toks: []string{`q "a b" 1:1`, `q "c;d" 1:7`, `q "" 1:13`, `q "" 1:16`, `eof 1:18`},
		},
		{
			name: "quote inside a word is literal",
			src:  `a"b'c d`,
			toks: []string{`w "a\"b'c" 1:1`, `w "d" 1:7`, `eof 1:8`},
		},
		{
			name: "closing quote then ; or {",
			src:  `"a";"b"{`,
			toks: []string{`q "a" 1:1`, `; 1:4`, `q "b" 1:5`, `{ 1:8`, `eof 1:9`},
		},
		{
			name: "closing quote then ) starts a word",
			src:  `if ($a = "b")`,
			toks: []string{`w "if" 1:1`, `w "($a" 1:4`, `w "=" 1:8`, `q "b" 1:10`, `w ")" 1:13`, `eof 1:14`},
		},
		{
			name: "closing quote then other byte",
			src:  `"a"b;`,
			toks: []string{`q "a" 1:1`, `w "b" 1:4`, `; 1:5`, `eof 1:6`},
			errs: []string{`1:4: unexpected "b"`},
		},
		{
			name: "closing quote then # is a word, not a comment",
			src:  `"a"#;`,
			toks: []string{`q "a" 1:1`, `w "#" 1:4`, `; 1:5`, `eof 1:6`},
			errs: []string{`1:4: unexpected "#"`},
		},
		{
			name: "closing quote then another quote",
			src:  `'a'"b"`,
			toks: []string{`q "a" 1:1`, `q "b" 1:4`, `eof 1:7`},
			errs: []string{`1:4: unexpected """`},
		},
		{
			name: "escapes that are rewritten",
			src:  `a\"b\'c\\d\te\rf\ng`,
			toks: []string{"w \"a\\\"b'c\\\\d\\te\\rf\\ng\" 1:1", `eof 1:20`},
		},
		{
			name: "other escapes stay two bytes",
			src:  `\x\;\ \{ y`,
			toks: []string{`w "\\x\\;\\ \\{" 1:1`, `w "y" 1:10`, `eof 1:11`},
		},
		{
			name: "escapes in quotes",
			src:  `"a\"b\\" 'c\'d\n'`,
			toks: []string{`q "a\"b\\" 1:1`, `q "c'd\n" 1:10`, `eof 1:18`},
		},
		{
			name: "backslash at token start",
			src:  `\#a \"b;`,
			toks: []string{`w "\\#a" 1:1`, `w "\"b" 1:5`, `; 1:8`, `eof 1:9`},
		},
		{
			name: "dollar brace stays in the word",
			src:  `${host}x a${b}{`,
			toks: []string{`w "${host}x" 1:1`, `w "a${b}" 1:10`, `{ 1:15`, `eof 1:16`},
		},
		{
			name: "dollar keeps several braces",
			src:  `a${{b} ;`,
			toks: []string{`w "a${{b}" 1:1`, `; 1:8`, `eof 1:9`},
		},
		{
			name: "brace after escaped dollar ends the word",
			src:  `a\${b`,
			toks: []string{`w "a\\$" 1:1`, `{ 1:4`, `w "b" 1:5`, `eof 1:6`},
		},
		{
			name: "dollar in quotes",
			src:  `"${a}$"`,
			toks: []string{`q "${a}$" 1:1`, `eof 1:8`},
		},
		{
			name: "multi-line quoted word, lines counted",
			src:  "\"a\nb\" c",
			toks: []string{`q "a\nb" 1:1`, `w "c" 2:4`, `eof 2:5`},
		},
		{
			name: "unterminated quote at end of input",
			src:  `a "bc`,
			toks: []string{`w "a" 1:1`, `q "bc" 1:3`, `eof 1:6`},
		},
		{
			name: "backslash at end of input",
			src:  `a\`,
			toks: []string{`w "a\\" 1:1`, `eof 1:3`},
		},
		{
			name: "columns count bytes",
			src:  "é x",
			toks: []string{`w "é" 1:1`, `w "x" 1:4`, `eof 1:5`},
		},
		{
			name: "empty input",
			src:  "",
			toks: []string{`eof 1:1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, errs := lexAll(t, tt.src)
			if got, want := strings.Join(toks, " | "), strings.Join(tt.toks, " | "); got != want {
				t.Errorf("tokens:\ngot  %s\nwant %s", got, want)
			}
			if got, want := strings.Join(errs, "\n"), strings.Join(tt.errs, "\n"); got != want {
				t.Errorf("errors:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// TestLexerTooLong pins nginx's 4096-byte token limit (NGX_CONF_BUFFER) at
// its exact edges; each case was run through nginx 1.22.1 `nginx -t`, which
// gave the same verdict and message.
func TestLexerTooLong(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		src  string
		err  string // "" when none
	}{
		{"word of 4095 bytes then ;", "x " + a(4095) + ";", ""},
		{"word of 4096 bytes then ;", "x " + a(4096) + ";", `1:3: too long parameter "aaaaaaaaaa..." started`},
		{"word of 4095 bytes then space", "x " + a(4095) + " ;", `1:3: too long parameter "aaaaaaaaaa..." started`},
		{"word of 5000 bytes at end of input", "x " + a(5000), `1:3: too long parameter "aaaaaaaaaa..." started`},
		{"quoted 4094 bytes", "x \"" + a(4094) + "\";", ""},
		{"quoted 4095 bytes", "x \"" + a(4095) + "\";", `1:3: too long parameter "aaaaaaaaaa..." started`},
		{"unterminated double quote", "x\n\"" + a(5000), `2:1: too long parameter, probably missing terminating """ character`},
		{"unterminated single quote", "x '" + a(5000), `1:3: too long parameter, probably missing terminating "'" character`},
		{"comment of 4095 bytes", "#" + a(4094) + "\nx;", ""},
		{"comment of 4096 bytes", "#" + a(4095) + "\nx;", `1:1: too long parameter "#aaaaaaaaa..." started`},
		{"long whitespace is not a token", "x" + strings.Repeat(" ", 5000) + "y;", ""},
		{"long run of newlines", "x" + strings.Repeat("\n", 5000) + "y;", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := lexAll(t, tt.src)
			if got := strings.Join(errs, "\n"); got != tt.err {
				t.Errorf("got %q; want %q", got, tt.err)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ raw, want string }{
		{``, ``},
		{`abc`, `abc`},
		{`\"\'\\`, `"'\`},
		{`\t\r\n`, "\t\r\n"},
		{`\a\$\ `, `\a\$\ `},
		{`\\n`, `\n`},
		{`x\`, `x\`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := unescape(tt.raw); got != tt.want {
				t.Errorf("unescape(%q) = %q; want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// refStatements is a literal transcription of nginx 1.22.1's
// ngx_conf_read_token loop (core/ngx_conf_file.c), without the 4096-byte
// buffer: it returns each statement's words and how it ended (";", "{",
// "}", "eof", or the error message), stopping at the first error as nginx
// does.
func refStatements(src string) []string {
	var out []string
	pos := 0
	for {
		var args []string
		var word []byte
		found, needSpace, lastSpace, sharpComment, variable := false, false, true, false, false
		quoted, sQuoted, dQuoted := false, false, false
		start := pos
		rc := ""
		for rc == "" {
			if pos >= len(src) {
				if len(args) > 0 || !lastSpace {
					rc = `unexpected end of file, expecting ";" or "}"`
				} else {
					rc = "eof"
				}
				break
			}
			ch := src[pos]
			pos++
			if ch == '\n' && sharpComment {
				sharpComment = false
			}
			if sharpComment {
				continue
			}
			if quoted {
				quoted = false
				continue
			}
			if needSpace {
				if isSpace(ch) {
					lastSpace, needSpace = true, false
					continue
				}
				if ch == ';' {
					rc = ";"
					break
				}
				if ch == '{' {
					rc = "{"
					break
				}
				if ch == ')' {
					lastSpace, needSpace = true, false
				} else {
					rc = fmt.Sprintf("unexpected \"%c\"", ch)
					break
				}
			}
			if lastSpace {
				start = pos - 1
				if isSpace(ch) {
					continue
				}
				switch ch {
				case ';', '{':
					if len(args) == 0 {
						rc = fmt.Sprintf("unexpected \"%c\"", ch)
					} else {
						rc = string(ch)
					}
					continue
				case '}':
					if len(args) != 0 {
						rc = `unexpected "}"`
					} else {
						rc = "}"
					}
					continue
				case '#':
					sharpComment = true
					continue
				case '\\':
					quoted, lastSpace = true, false
					continue
				case '"':
					start++
					dQuoted, lastSpace = true, false
					continue
				case '\'':
					start++
					sQuoted, lastSpace = true, false
					continue
				case '$':
					variable, lastSpace = true, false
					continue
				default:
					lastSpace = false
				}
			} else {
				if ch == '{' && variable {
					continue
				}
				variable = false
				if ch == '\\' {
					quoted = true
					continue
				}
				if ch == '$' {
					variable = true
					continue
				}
				if dQuoted {
					if ch == '"' {
						dQuoted, needSpace, found = false, true, true
					}
				} else if sQuoted {
					if ch == '\'' {
						sQuoted, needSpace, found = false, true, true
					}
				} else if isSpace(ch) || ch == ';' || ch == '{' {
					lastSpace, found = true, true
				}
				if found {
					word = word[:0]
					raw := src[start : pos-1]
					for i := 0; i < len(raw); {
						if raw[i] == '\\' && i+1 < len(raw) {
							switch raw[i+1] {
							case '"', '\'', '\\':
								i++
							case 't':
								word = append(word, '\t')
								i += 2
								continue
							case 'r':
								word = append(word, '\r')
								i += 2
								continue
							case 'n':
								word = append(word, '\n')
								i += 2
								continue
							}
						}
						word = append(word, raw[i])
						i++
					}
					args = append(args, string(word))
					if ch == ';' || ch == '{' {
						rc = string(ch)
					}
					found = false
				}
			}
		}
		if rc != ";" && rc != "{" && rc != "}" && rc != "eof" {
			return append(out, rc) // the words read so far do not matter
		}
		out = append(out, fmt.Sprintf("%q %s", args, rc))
		if rc == "eof" {
			return out
		}
	}
}

// ourStatements groups our lexer's tokens the way refStatements does, up
// to the first error.
func ourStatements(src string) []string {
	var out []string
	var rep reporter
	l := newLexer("f", src, nil, &rep)
	args := []string{}
	for {
		t := l.next()
		rc := ""
		switch {
		case len(rep.errs) > 0:
			rc = rep.errs[0].Msg
		case t.kind == tokWord:
			args = append(args, t.text)
			continue
		case t.kind == tokSemi || t.kind == tokOpen:
			rc = map[tokKind]string{tokSemi: ";", tokOpen: "{"}[t.kind]
			if len(args) == 0 {
				rc = "unexpected \"" + rc + "\""
			}
		case t.kind == tokClose:
			rc = "}"
			if len(args) > 0 {
				rc = `unexpected "}"`
			}
		default:
			rc = "eof"
			if len(args) > 0 {
				rc = `unexpected end of file, expecting ";" or "}"`
			}
		}
		if len(args) == 0 {
			args = nil
		}
		if rc != ";" && rc != "{" && rc != "}" && rc != "eof" {
			return append(out, rc)
		}
		out = append(out, fmt.Sprintf("%q %s", args, rc))
		if rc == "eof" {
			return out
		}
		args = []string{}
	}
}

// TestLexerMatchesReference compares our lexer with the transcription of
// ngx_conf_read_token on every string of up to 5 bytes over the bytes that
// matter to it, and on longer pseudo-random strings.
func TestLexerMatchesReference(t *testing.T) {
	const alphabet = "a$\\{};\"'# )\nt"
	check := func(src string) {
		t.Helper()
		want := strings.Join(refStatements(src), " | ")
		got := strings.Join(ourStatements(src), " | ")
		if got != want {
			t.Fatalf("input %q:\ngot  %s\nwant %s", src, got, want)
		}
	}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		check(prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			gen(prefix+alphabet[i:i+1], n-1)
		}
	}
	gen("", 5)
	// Longer inputs from a fixed linear congruential sequence.
	x := uint32(1)
	for range 20000 {
		x = x*1664525 + 1013904223
		n := int(x>>24) % 24
		b := make([]byte, n)
		for i := range b {
			x = x*1664525 + 1013904223
			b[i] = alphabet[int(x>>16)%len(alphabet)]
		}
		check(string(b))
	}
}
