package config

// This file holds the Spec's side of ngx_http_rewrite_module: a block's
// rewrite directives (rewrite, return, break, set, if) as a list of
// instructions in file order, which internal/rewrite compiles and runs in
// nginx's server rewrite and rewrite phases.

// RewriteKind says which directive a RewriteOp is.
type RewriteKind uint8

const (
	OpRewrite RewriteKind = iota // rewrite regex replacement [flag]
	OpReturn                     // return code [text] | return URL
	OpBreak                      // break
	OpSet                        // set $variable value
	OpIf                         // if (condition) { ... }
)

func (k RewriteKind) String() string {
	return [...]string{"rewrite", "return", "break", "set", "if"}[k]
}

// RewriteFlag is the last parameter of a rewrite directive.
type RewriteFlag uint8

const (
	// FlagNone: the URI is replaced and the following directives run;
	// when the level's directives end, a location is searched for the new
	// URI (a location level only: at server level the search comes next
	// anyway).
	FlagNone RewriteFlag = iota
	// FlagLast stops the level's directives and searches a location for
	// the new URI.
	FlagLast
	// FlagBreak stops the level's directives; the request stays where it
	// is, with the new URI.
	FlagBreak
	// FlagRedirect answers 302 with the replacement as Location;
	// FlagPermanent answers 301. A replacement that starts with
	// "http://", "https://" or "$scheme" is a 302 redirect whatever the
	// flag, except permanent.
	FlagRedirect
	FlagPermanent
)

// RewriteOp is one rewrite module directive. Which fields are set depends
// on Kind.
type RewriteOp struct {
	Pos  Pos
	Kind RewriteKind

	// OpRewrite. Regex is the pattern in Go RE2 syntax (named groups as
	// (?P<n>…)); it is matched against $uri, case-sensitively.
	// Replacement is the replacement without a final "?" (may hold
	// variables and $1..$9); KeepArgs is false when it ended in "?",
	// which drops the request's arguments. Status is 301 or 302 for a
	// redirect, else 0.
	Regex       string
	Replacement string
	KeepArgs    bool
	Flag        RewriteFlag
	Status      int

	// OpReturn.
	Return *Return

	// OpSet: Var is the variable's name, lower-case, without "$"; Value
	// may hold variables.
	Var   string
	Value string

	// OpIf.
	If *If
}

// If is an if block. Body holds the block's rewrite directives, which run
// when Cond is true; in a location, Conf is the nested configuration the
// request continues with from then on (nginx makes the block an unnamed
// location whose settings inherit from the enclosing location, proxy_pass
// included). In a server block Conf is nil: nothing but rewrite module
// directives may appear there.
type If struct {
	Pos  Pos
	Cond Cond
	Body []RewriteOp
	Conf *LocConf
}

// CondKind is the form of an if condition
// (ngx_http_rewrite_if_condition).
type CondKind uint8

const (
	CondVar   CondKind = iota // ($var): true unless "" or "0"
	CondEqual                 // ($var = value), ($var != value) with Negate
	CondMatch                 // ($var ~ re), ~*, !~, !~*
	CondFile                  // (-f path), -d, -e, -x, and !-f …
)

// Cond is an if condition.
type Cond struct {
	Kind CondKind
	// Var is the variable tested, lower-case, without "$" (CondVar,
	// CondEqual, CondMatch).
	Var string
	// Value is the compared value or the path tested (may hold
	// variables), or the pattern in Go RE2 syntax for CondMatch.
	Value string
	// Negate is "!=", "!~", "!~*" or "!-X".
	Negate bool
	// NoCase is "~*" and "!~*".
	NoCase bool
	// File is the test of CondFile: 'f' a regular file, 'd' a directory,
	// 'e' exists, 'x' executable.
	File byte
}

// VarDecl is a variable that set assigns: its name (lower-case, without
// "$") and the first set that names it.
type VarDecl struct {
	Pos  Pos
	Name string
}
