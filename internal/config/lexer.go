package config

import (
	"fmt"
	"strings"
)

// maxTokenLen is nginx's NGX_CONF_BUFFER: ngx_conf_read_token reads the file
// through a 4096-byte buffer and fails when one token (or comment) fills it.
const maxTokenLen = 4096

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokWord          // a word; Text and Quoted are set
	tokSemi          // ;
	tokOpen          // {
	tokClose         // }
)

// token is one lexical token. For tokWord, text is the word after quote
// removal and escape processing; pos is where the token starts (the opening
// quote of a quoted word).
type token struct {
	kind   tokKind
	quoted bool
	text   string
	pos    Pos
}

// lexer splits configuration text into tokens following nginx 1.22's
// ngx_conf_read_token (core/ngx_conf_file.c) byte for byte:
//
//   - words are separated by space, tab, CR and LF; ";" ends a statement,
//     "{" opens a block and "}" closes one;
//   - "#" starts a comment to the end of the line, but only at the start of
//     a token ("a#b" is one word);
//   - '…' and "…" quote only at the start of a token, and the closing quote
//     must be followed by whitespace, ";", "{" or ")" (else `unexpected "x"`);
//     a ")" right after a closing quote starts a new word, as in
//     if ($a = "b");
//   - "\" makes the next byte part of the word; in the word, \" \' \\ become
//     the character, \t \r \n become TAB, CR, LF, and any other \x stays as
//     the two bytes;
//   - "{" right after "$" (or after such a "{") stays in the word, so
//     ${name} is one word; a "}" inside a word is an ordinary byte;
//   - a token or comment that reaches 4096 bytes before the input ends is an
//     error worded as nginx words it.
//
// Errors go to rep; the lexer always recovers and keeps going, so one call
// per token until tokEOF never loops forever: every call consumes at least
// one byte or returns tokEOF.
type lexer struct {
	src  string
	file string
	via  []Pos // shared by every Pos this lexer makes
	rep  *reporter

	i         int // next byte to read
	line      int // line of src[i]
	lineStart int // offset of the first byte of line

	// start mirrors ngx_conf_read_token's start: the byte the current
	// token (or comment, or whitespace byte) began at. A token that reaches
	// maxTokenLen bytes from start before the input ends is too long.
	start     int
	startLine int
	startCol  int
	longDone  bool // the too-long error was reported for this start

	needSpace bool // a closing quote was just read
	pending   token
	// eofReported is set by the parser once it reported an error at the
	// end of this input, so that one missing "}" or ";" is one error.
	eofReported bool
}

func newLexer(file, src string, via []Pos, rep *reporter) *lexer {
	return &lexer{src: src, file: file, via: via, rep: rep, line: 1}
}

// posAt returns the position of byte off, which must be on the current
// line.
func (l *lexer) posAt(off int) Pos {
	return Pos{File: l.file, Line: l.line, Col: off - l.lineStart + 1, Via: l.via}
}

// eofPos is the position just after the last byte.
func (l *lexer) eofPos() Pos { return l.posAt(len(l.src)) }

// setStart records that a token, comment or whitespace byte begins at off
// (ngx_conf_read_token: start = b->pos - 1).
func (l *lexer) setStart(off int) {
	l.start = off
	l.startLine = l.line
	l.startCol = off - l.lineStart + 1
	l.longDone = false
}

// tooLong reproduces the NGX_CONF_BUFFER check, made before byte l.i is
// read: when maxTokenLen bytes have been read since start and input
// remains, nginx fails with "too long parameter". quote is the open quote
// of the current word, or 0.
//
// The test is written out at each call site (it runs once per byte and
// must stay inlined); tooLong reports.
func (l *lexer) tooLong(quote byte) {
	l.longDone = true
	pos := Pos{File: l.file, Line: l.startLine, Col: l.startCol, Via: l.via}
	if quote != 0 {
		l.rep.add(pos, fmt.Sprintf("too long parameter, probably missing terminating \"%c\" character", quote))
		return
	}
	l.rep.add(pos, fmt.Sprintf("too long parameter \"%s...\" started", l.src[l.start:l.start+10]))
}

// advance consumes byte c at l.i, counting lines.
func (l *lexer) advance(c byte) {
	l.i++
	if c == '\n' {
		l.line++
		l.lineStart = l.i
	}
}

// plainByte marks the bytes that, inside a word, change no lexer state
// other than ending a "$" run: everything but whitespace, quotes, "\",
// "$", ";" and "{".
var plainByte = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for _, c := range []byte(" \t\r\n\"'\\${;") {
		t[c] = false
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// next returns the next token. At the end of input it returns tokEOF, again
// and again.
func (l *lexer) next() token {
	if l.pending.kind != tokEOF {
		t := l.pending
		l.pending = token{}
		return t
	}
	for l.i < len(l.src) {
		if l.i-l.start >= maxTokenLen && !l.longDone {
			l.tooLong(0)
		}
		c := l.src[l.i]
		if l.needSpace {
			l.needSpace = false
			switch {
			case isSpace(c):
				l.advance(c)
				continue
			case c == ';':
				return l.punct(tokSemi)
			case c == '{':
				return l.punct(tokOpen)
			case c == ')':
				// ")" after a closing quote starts a new word.
			case c == '}':
				// nginx says `unexpected "}"` here; the parser says the
				// same for a "}" after a pending word.
				return l.punct(tokClose)
			default:
				l.rep.add(l.posAt(l.i), fmt.Sprintf("unexpected \"%c\"", c))
				// Recover as if a space had been there; a "#" here
				// is a word, not a comment swallowing the line.
				l.setStart(l.i)
				return l.word()
			}
		}
		l.setStart(l.i)
		switch c {
		case ' ', '\t', '\r', '\n':
			l.advance(c)
		case ';':
			return l.punct(tokSemi)
		case '{':
			return l.punct(tokOpen)
		case '}':
			return l.punct(tokClose)
		case '#':
			l.comment()
		default:
			return l.word()
		}
	}
	return token{kind: tokEOF, pos: l.eofPos()}
}

// punct consumes the punctuation byte at l.i.
func (l *lexer) punct(k tokKind) token {
	t := token{kind: k, pos: l.posAt(l.i)}
	l.i++
	l.setStart(l.i)
	return t
}

// comment skips from "#" to the end of the line, leaving the LF unread.
func (l *lexer) comment() {
	l.i++
	for l.i < len(l.src) {
		if l.i-l.start >= maxTokenLen && !l.longDone {
			l.tooLong(0)
		}
		if l.src[l.i] == '\n' {
			return
		}
		l.i++
	}
}

// word reads one word starting at l.i. A word cut short by the end of
// input is still returned; the parser reports the missing ";".
func (l *lexer) word() token {
	tokStart := l.i
	pos := l.posAt(tokStart)
	content := tokStart
	var quote byte
	var escaped, variable bool
	switch c := l.src[l.i]; c {
	case '\\':
		escaped = true
	case '"', '\'':
		quote = c
		content++
		l.start++ // nginx: start++, the quote is not part of the word
	case '$':
		variable = true
	}
	l.advance(l.src[l.i])

	for l.i < len(l.src) {
		c := l.src[l.i]
		if plainByte[c] && !escaped && l.i-l.start < maxTokenLen {
			// Fast path: a byte that changes no state.
			l.i++
			variable = false
			continue
		}
		if l.i-l.start >= maxTokenLen && !l.longDone {
			l.tooLong(quote)
		}
		l.advance(c)
		if escaped {
			escaped = false
			continue
		}
		if c == '{' && variable {
			continue
		}
		variable = false
		switch c {
		case '\\':
			escaped = true
			continue
		case '$':
			variable = true
			continue
		}
		if quote != 0 {
			if c == quote {
				l.needSpace = true
				return token{kind: tokWord, quoted: true, text: unescape(l.src[content : l.i-1]), pos: pos}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			return token{kind: tokWord, text: unescape(l.src[content : l.i-1]), pos: pos}
		case ';', '{':
			end := l.i - 1
			kind := tokSemi
			if c == '{' {
				kind = tokOpen
			}
			l.pending = token{kind: kind, pos: l.posAt(end)}
			l.setStart(l.i)
			return token{kind: tokWord, text: unescape(l.src[content:end]), pos: pos}
		}
	}
	return token{kind: tokWord, quoted: quote != 0, text: unescape(l.src[content:]), pos: pos}
}

// unescape applies ngx_conf_read_token's escape processing to a raw word:
// \" \' \\ become the character; \t \r \n become TAB, CR, LF; any other
// backslash stays. It returns raw itself (no copy) when there is nothing to
// change.
func unescape(raw string) string {
	i := strings.IndexByte(raw, '\\')
	if i < 0 {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(raw[:i])
	for i < len(raw) {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			switch raw[i+1] {
			case '"', '\'', '\\':
				b.WriteByte(raw[i+1])
				i += 2
				continue
			case 't':
				b.WriteByte('\t')
				i += 2
				continue
			case 'r':
				b.WriteByte('\r')
				i += 2
				continue
			case 'n':
				b.WriteByte('\n')
				i += 2
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// reporter collects errors, dropping an error identical (same place, same
// message) to the one just before it: one fault, one error.
type reporter struct {
	errs ErrorList
}

func (r *reporter) add(pos Pos, msg string) {
	if n := len(r.errs); n > 0 {
		last := r.errs[n-1]
		if last.Msg == msg && last.Pos.File == pos.File && last.Pos.Line == pos.Line && last.Pos.Col == pos.Col {
			return
		}
	}
	r.errs = append(r.errs, &Error{Pos: pos, Msg: msg})
}
