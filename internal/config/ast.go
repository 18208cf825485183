package config

// Word is one argument of a directive as the lexer produced it: Text is the
// value after quote removal and escape processing (nginx's
// ngx_conf_read_token rules); Quoted tells whether it was written in '…' or
// "…" (an empty quoted word is a real, empty argument). Variables ($name,
// ${name}) stay in Text verbatim, to be compiled by internal/vars.
type Word struct {
	Text   string
	Quoted bool
	Pos    Pos
}

// Directive is one statement: a name, its arguments, and for block
// directives (server { … }) the statements inside. Include directives are
// expanded by the parser: their statements appear in place, each carrying a
// Pos whose Via records the include chain.
type Directive struct {
	Name  string
	Pos   Pos // position of the name
	Args  []Word
	Block []*Directive // nil unless HasBlock
	// HasBlock is true for "name args { … }" even when the block is empty.
	HasBlock bool
}

// File is one configuration file read while parsing, in the order read:
// the main file first, then each include as it is met. -T dumps these.
type File struct {
	Path string // absolute
	Data []byte
}

// AST is a parsed configuration: the main context's statements with includes
// expanded, and every file that was read.
type AST struct {
	Main []*Directive
	// Globals are the directives given on the command line (-g), parsed
	// with positions in File "command line". They belong to the main
	// context, and nginx applies them before the main file.
	Globals []*Directive
	Files   []File
}
