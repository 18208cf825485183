package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Print writes ds as configuration text, one statement per line, blocks
// indented by four spaces. Words are escaped (and quoted words written in
// "…") so that parsing the output gives back the same names, arguments
// (Text and Quoted) and nesting. It fails only when w fails or when an
// unquoted argument holds text no unquoted nginx word can produce (such as
// a bare space or ";"), which never happens for a parsed AST.
func Print(w io.Writer, ds []*Directive) error {
	bw := bufio.NewWriter(w)
	if err := printBlock(bw, ds, 0); err != nil {
		return err
	}
	return bw.Flush()
}

func printBlock(w *bufio.Writer, ds []*Directive, depth int) error {
	for _, d := range ds {
		for range depth {
			w.WriteString("    ")
		}
		if raw, ok := unquotedWord(d.Name); ok {
			w.WriteString(raw)
		} else {
			w.WriteString(quotedWord(d.Name))
		}
		for _, a := range d.Args {
			w.WriteByte(' ')
			if a.Quoted {
				w.WriteString(quotedWord(a.Text))
				continue
			}
			raw, ok := unquotedWord(a.Text)
			if !ok {
				return fmt.Errorf("printing %q at %s: argument %q cannot be written unquoted", d.Name, a.Pos, a.Text)
			}
			w.WriteString(raw)
		}
		if !d.HasBlock {
			w.WriteString(";\n")
			continue
		}
		w.WriteString(" {\n")
		if err := printBlock(w, d.Block, depth+1); err != nil {
			return err
		}
		for range depth {
			w.WriteString("    ")
		}
		w.WriteString("}\n")
	}
	return nil
}

// escapable are the bytes that follow "\" in a word's escapes that
// ngx_conf_read_token rewrites; after any other byte the "\" stays.
func escapable(c byte) bool {
	switch c {
	case '"', '\'', '\\', 't', 'r', 'n':
		return true
	}
	return false
}

// quotedWord renders text as a "…" word whose unescaped text is text.
func quotedWord(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte('"')
	writeEscaped(&b, text, true)
	b.WriteByte('"')
	return b.String()
}

// writeEscaped writes text so that the lexer's escape processing gives it
// back, never longer than the shortest source that gives it (nginx's
// 4096-byte token limit applies to the output too). A "\" that is
// followed by a byte the processing would rewrite, or that ends text, is
// doubled; any other "\x" is written as is (the lexer keeps both bytes,
// and "\" protects x from ending the word). In quotes, " is escaped and
// TAB, CR, LF are written raw; unquoted, TAB, CR, LF become \t \r \n and
// a quote is escaped only where it would open a quoted word.
func writeEscaped(b *strings.Builder, text string, inQuotes bool) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '\\':
			if i+1 < len(text) && !escapable(text[i+1]) {
				b.WriteByte('\\')
				b.WriteByte(text[i+1])
				i++
				continue
			}
			b.WriteString(`\\`)
		case '"':
			if inQuotes || i == 0 {
				b.WriteString(`\"`)
			} else {
				b.WriteByte(c)
			}
		case '\'':
			if !inQuotes && i == 0 {
				b.WriteString(`\'`)
			} else {
				b.WriteByte(c)
			}
		case '\t', '\r', '\n':
			if inQuotes {
				b.WriteByte(c)
				continue
			}
			switch c {
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteString(`\n`)
			}
		default:
			b.WriteByte(c)
		}
	}
}

// unquotedWord renders text as an unquoted word, or reports that none
// exists: unquoted words are never empty, cannot start with "#" or "}",
// and cannot hold a bare space, ";" or a "{" that does not follow "$".
// The rendering is checked by lexing it back.
func unquotedWord(text string) (string, bool) {
	if text == "" {
		return "", false
	}
	raw := text
	if strings.ContainsAny(text, "\\\"'\t\r\n") {
		var b strings.Builder
		b.Grow(len(text) + 4)
		writeEscaped(&b, text, false)
		raw = b.String()
	}
	var rep reporter
	l := newLexer("", raw, nil, &rep)
	t := l.next()
	if t.kind != tokWord || t.quoted || t.text != text || l.i != len(raw) || len(rep.errs) > 0 {
		return "", false
	}
	return raw, true
}
