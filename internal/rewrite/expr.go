package rewrite

import (
	"wsgate/internal/vars"
)

// This file holds the values the rewrite module evaluates: a string with
// variables and captures, kept in pieces so that captures can be escaped
// where nginx escapes them (ngx_http_script_copy_capture_code), and
// nginx's two escapings of the module (ngx_escape_uri with
// NGX_ESCAPE_ARGS, ngx_unescape_uri with NGX_UNESCAPE_REDIRECT).

// piece is a run of text and variables (tmpl), or a capture $1..$9 (n > 0).
type piece struct {
	tmpl *vars.Template
	n    int
}

// expr is a compiled value: pieces in order, and for a rewrite's
// replacement the index of the first piece after a literal "?" (args >= 0).
type expr struct {
	pieces []piece
	args   int // -1: no "?"; else pieces[args:] are the arguments
	// question is true when a literal part held a "?" (nginx's sc->args),
	// wherever it was; for a redirect it makes the request's arguments be
	// appended after "&" instead of "?".
	question bool
	// constant is true when the value has no variables and no captures:
	// it is then lit, with nothing to evaluate.
	constant bool
	lit      string
}

// compileExpr compiles s. With splitArgs, the first "?" outside a
// variable starts the arguments (a rewrite's replacement, when it does
// not redirect: ngx_http_script_compile's compile_args). The whole of s is
// compiled first so that its errors are vars' (nginx's) words.
func compileExpr(vc *vars.Compiler, s string, splitArgs bool) (*expr, error) {
	if _, err := vc.Compile(s); err != nil {
		return nil, err
	}
	e := &expr{args: -1}
	start := 0
	flush := func(end int) error {
		if end > start {
			t, err := vc.Compile(s[start:end])
			if err != nil {
				return err
			}
			e.pieces = append(e.pieces, piece{tmpl: t})
		}
		return nil
	}
	for i := 0; i < len(s); {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] >= '1' && s[i+1] <= '9':
			if err := flush(i); err != nil {
				return nil, err
			}
			e.pieces = append(e.pieces, piece{n: int(s[i+1] - '0')})
			i += 2
			start = i
		case s[i] == '$':
			i = skipVar(s, i)
		case s[i] == '?':
			e.question = true
			if splitArgs && e.args < 0 {
				if err := flush(i); err != nil {
					return nil, err
				}
				e.args = len(e.pieces)
				start = i + 1
			}
			i++
		default:
			i++
		}
	}
	if err := flush(len(s)); err != nil {
		return nil, err
	}
	e.constant, e.lit = true, ""
	for _, p := range e.pieces {
		if p.n != 0 || !p.tmpl.IsConst() {
			e.constant, e.lit = false, ""
			break
		}
		e.lit += p.tmpl.String()
	}
	return e, nil
}

// skipVar returns the index after the variable whose "$" is at s[i], as
// ngx_http_script_compile reads names: "${name}" or "$" and letters,
// digits and "_".
func skipVar(s string, i int) int {
	i++
	if i < len(s) && s[i] == '{' {
		for i < len(s) && s[i] != '}' {
			i++
		}
		if i < len(s) {
			i++
		}
		return i
	}
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	return i
}

// appendPieces appends ps evaluated in c. Captures are escaped as
// arguments when escape is true (the request's path held "%" or "+" and
// the value is a redirect, arguments, or a value of set or if: nginx's
// e->quote or e->is_args with r->quoted_uri or r->plus_in_uri).
func appendPieces(dst []byte, ps []piece, c *vars.Ctx, escape bool) []byte {
	for _, p := range ps {
		if p.n == 0 {
			dst = p.tmpl.Append(dst, c)
			continue
		}
		g := c.Captures.Group(p.n)
		if escape {
			dst = appendEscapedArgs(dst, g)
		} else {
			dst = append(dst, g...)
		}
	}
	return dst
}

// escapeArgs marks the bytes ngx_escape_uri escapes with NGX_ESCAPE_ARGS:
// controls, space, " # % & + ; < > ? \ ^ ` { | }, DEL and bytes >= 0x80.
var escapeArgs = func() (t [256]bool) {
	for b := 0; b < 256; b++ {
		t[b] = b <= ' ' || b >= 0x7f
	}
	for _, b := range []byte("\"#%&+;<>?\\^`{|}") {
		t[b] = true
	}
	return t
}()

func appendEscapedArgs(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		b := s[i]
		if escapeArgs[b] {
			dst = append(dst, '%', hex[b>>4], hex[b&0xf])
			continue
		}
		dst = append(dst, b)
	}
	return dst
}

// unescapeRedirect is ngx_unescape_uri with NGX_UNESCAPE_REDIRECT, in
// place: up to the first "?" (a literal one, or one decoded from %3F,
// which is kept decoded), %XX sequences that decode to a byte after "%"
// and before DEL are decoded, others kept as written; the rest is copied
// as it is.
func unescapeRedirect(b []byte) []byte {
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			return c | 0x20 - 'a' + 10, true
		}
		return 0, false
	}
	d := 0
	for s := 0; s < len(b); {
		c := b[s]
		if c == '?' {
			d += copy(b[d:], b[s:])
			return b[:d]
		}
		if c != '%' {
			b[d] = c
			d, s = d+1, s+1
			continue
		}
		// "%": an invalid first digit is dropped with the "%" and the
		// character kept; a valid one and an invalid second are dropped
		// with the "%" (ngx_unescape_uri's "the invalid quoted character").
		if s+1 >= len(b) {
			return b[:d]
		}
		hi, ok := unhex(b[s+1])
		if !ok {
			b[d] = b[s+1]
			d, s = d+1, s+2
			continue
		}
		if s+2 >= len(b) {
			return b[:d]
		}
		lo, ok := unhex(b[s+2])
		if !ok {
			s += 3
			continue
		}
		ch := hi<<4 | lo
		switch {
		case ch == '?' && b[s+2] > '9':
			// Decoded from %3F: kept decoded, and the rest is copied.
			b[d] = '?'
			d++
			d += copy(b[d:], b[s+3:])
			return b[:d]
		case ch > '%' && ch < 0x7f:
			b[d] = ch
			d++
		default:
			d += copy(b[d:], b[s:s+3])
		}
		s += 3
	}
	return b[:d]
}
