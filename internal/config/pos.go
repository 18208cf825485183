package config

import (
	"fmt"
	"strings"
)

// Pos is a place in a configuration file. Line and Col count from 1; Col
// counts bytes. Via is the chain of include directives that led to File,
// outermost first; it is empty for the main file.
type Pos struct {
	File string
	Line int
	Col  int
	Via  []Pos
}

// String renders "file:line:col".
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether p names a place.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is one problem found in a configuration: where, and what. Msg is
// lower-case and, where there is one, says what to do instead.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders "file:line:col: msg", followed by one line per include
// that led to the file ("\tincluded from file:line:col").
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	for i := len(e.Pos.Via) - 1; i >= 0; i-- {
		b.WriteString("\n\tincluded from ")
		b.WriteString(e.Pos.Via[i].String())
	}
	return b.String()
}

// ErrorList is every problem found, in the order found. A nil ErrorList
// means none.
type ErrorList []*Error

// Add appends an error at pos.
func (l *ErrorList) Add(pos Pos, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Error renders all errors, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Dedup returns l without the repeats of an error already listed (same
// place, same message, same include chain), in the original order.
func (l ErrorList) Dedup() ErrorList {
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, e := range l {
		k := e.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
