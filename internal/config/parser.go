package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// ParseOptions controls ParseFile. The zero value reads the
// real file system and resolves relative includes against the directory of
// the main file.
type ParseOptions struct {
	// Prefix is the directory relative include paths are resolved
	// against: nginx's conf_prefix. "" means the directory of the main
	// file (what nginx does for -c).
	Prefix string
	// Globals is the text of -g: main-context directives without blocks.
	// They are returned in AST.Globals; their positions use File
	// "command line".
	Globals string
	// ReadFile reads an included (or, for ParseFile, the main) file.
	// nil means this package's ReadFile: regular files only, and at most
	// MaxConfigSize bytes for all files together (which is enforced on
	// what any ReadFile returns).
	ReadFile func(string) ([]byte, error)
	// Glob expands an include pattern containing *, ? or [. nil means
	// filepath.Glob. Results are sorted and, as with glob(3), names
	// starting with "." are matched only by a pattern component that
	// starts with "." too.
	Glob func(string) ([]string, error)
}

func (o *ParseOptions) glob(pattern string) ([]string, error) {
	if o.Glob != nil {
		return o.Glob(pattern)
	}
	return filepath.Glob(pattern)
}

// commandLine is the File of positions inside ParseOptions.Globals, as
// nginx says "in command line".
const commandLine = "command line"

// maxIncludeDepth bounds include nesting (the main file is level 1). nginx
// has no bound but runs out of file descriptors.
const maxIncludeDepth = 32

// ParseFile reads and parses the configuration file at path (made
// absolute), expanding includes. It returns the AST, as complete as the
// errors allowed, and every syntax error found.
func ParseFile(path string, opts ParseOptions) (*AST, ErrorList) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	p := newParser(path, opts)
	data, err := p.readFile(path)
	if err != nil {
		p.rep.add(Pos{File: path}, readErrMsg(path, err, false))
		p.parseGlobals()
		return p.ast, p.rep.errs
	}
	return p.parseMain(path, data)
}

// parse parses data as the main configuration file named name: name is
// used verbatim in positions, made absolute in AST.Files, and its
// directory is the default prefix. Includes are resolved through opts as
// for ParseFile.
func parse(name string, data []byte, opts ParseOptions) (*AST, ErrorList) {
	p := newParser(name, opts)
	p.size = int64(len(data))
	return p.parseMain(name, data)
}

// parseMain parses data, the main file's text, as the file name.
func (p *parser) parseMain(name string, data []byte) (*AST, ErrorList) {
	key := cleanAbs(name)
	p.ast.Files = append(p.ast.Files, File{Path: key, Data: data})
	p.read[key] = data
	// nginx applies -g (ngx_conf_param) before parsing the main file.
	p.parseGlobals()
	p.chain = append(p.chain, key)
	l := newLexer(name, string(data), nil, &p.rep)
	p.ast.Main = p.parseBlock(l, ctxFile)
	p.chain = p.chain[:0]
	return p.ast, p.rep.errs
}

// ctxKind says what a statement list is being read from; it decides which
// end is expected (ngx_conf_parse's parse_file, parse_block, parse_param).
type ctxKind uint8

const (
	ctxFile  ctxKind = iota // a whole file: ends at end of input
	ctxBlock                // inside { … }: ends at "}"
	ctxParam                // -g text: no blocks
)

type parser struct {
	opts   ParseOptions
	prefix string // ends in "/"
	rep    reporter
	ast    *AST

	read  map[string][]byte // cleaned absolute path → bytes, each file read once
	size  int64             // bytes read, all files together (≤ MaxConfigSize)
	chain []string          // cleaned absolute paths of files being parsed, outermost first

	// Statements and words are built on stacks and copied out into slabs
	// when their list is complete, so that parsing allocates per slab,
	// not per directive.
	stmts    []*Directive
	words    []Word
	dirSlab  []Directive
	ptrSlab  []*Directive
	wordSlab []Word
	slabSize int
}

func newParser(mainName string, opts ParseOptions) *parser {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = filepath.Dir(mainName)
	}
	if abs, err := filepath.Abs(prefix); err == nil {
		prefix = abs
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &parser{
		opts:     opts,
		prefix:   prefix,
		ast:      &AST{},
		read:     make(map[string][]byte),
		slabSize: 16,
	}
}

func (p *parser) parseGlobals() {
	if p.opts.Globals == "" {
		return
	}
	l := newLexer(commandLine, p.opts.Globals, nil, &p.rep)
	p.ast.Globals = p.parseBlock(l, ctxParam)
}

// parseBlock reads statements until the end its kind expects and returns
// them, includes expanded.
func (p *parser) parseBlock(l *lexer, kind ctxKind) []*Directive {
	mark := len(p.stmts)
	p.parseInto(l, kind)
	return p.popStmts(mark)
}

// parseInto reads statements until the end kind expects, pushing them on
// p.stmts. It mirrors ngx_conf_parse's loop; where nginx stops at the first
// error, it reports and recovers:
//   - ";" or "{" with no words: reported; a block is read and dropped;
//   - "}" after words: reported; the words are kept as a statement and the
//     "}" closes the block;
//   - "}" outside a block: reported and skipped;
//   - end of input: one error per input, whatever number of blocks and
//     words were left open.
func (p *parser) parseInto(l *lexer, kind ctxKind) {
	wmark := len(p.words)
	defer func() { p.words = p.words[:wmark] }()
	for {
		t := l.next()
		switch t.kind {
		case tokWord:
			p.words = append(p.words, Word{Text: t.text, Quoted: t.quoted, Pos: t.pos})

		case tokSemi:
			if len(p.words) == wmark {
				p.rep.add(t.pos, `unexpected ";"`)
				continue
			}
			p.statement(wmark, false, l)

		case tokOpen:
			if len(p.words) == wmark {
				p.rep.add(t.pos, `unexpected "{"`)
				p.skipBlock(l)
				continue
			}
			if kind == ctxParam {
				p.rep.add(t.pos, "block directives are not supported in -g option")
				p.words = p.words[:wmark]
				p.skipBlock(l)
				continue
			}
			p.statement(wmark, true, l)

		case tokClose:
			if len(p.words) > wmark {
				p.rep.add(t.pos, `unexpected "}"`)
				p.statement(wmark, false, l)
			}
			if kind != ctxBlock {
				p.rep.add(t.pos, `unexpected "}"`)
				continue
			}
			return

		case tokEOF:
			if l.eofReported {
				return
			}
			switch {
			case len(p.words) > wmark && kind == ctxParam:
				p.rep.add(t.pos, `unexpected end of parameter, expecting ";"`)
			case len(p.words) > wmark:
				p.rep.add(t.pos, `unexpected end of file, expecting ";" or "}"`)
			case kind == ctxBlock:
				p.rep.add(t.pos, `unexpected end of file, expecting "}"`)
			default:
				return
			}
			l.eofReported = true
			return
		}
	}
}

// skipBlock reads a block whose statements are to be dropped (after an
// error), reporting the errors inside it.
func (p *parser) skipBlock(l *lexer) {
	mark := len(p.stmts)
	p.parseInto(l, ctxBlock)
	clear(p.stmts[mark:])
	p.stmts = p.stmts[:mark]
}

// statement turns the words above wmark into a directive and pushes it, or
// expands it when it is an include. With block, the block's statements
// are read first.
func (p *parser) statement(wmark int, block bool, l *lexer) {
	words := p.words[wmark:]
	name := words[0]
	if name.Text == "include" {
		args := p.takeWords(words[1:])
		p.words = p.words[:wmark]
		at := name.Pos
		// ngx_conf_handler checks the terminator, then the arity.
		if block {
			p.rep.add(at, `directive "include" is not terminated by ";"`)
			p.skipBlock(l)
			return
		}
		if len(args) != 1 {
			p.rep.add(at, `invalid number of arguments in "include" directive`)
			return
		}
		p.include(at, args[0].Text)
		return
	}
	d := p.newDirective()
	d.Name = name.Text
	d.Pos = name.Pos
	d.Args = p.takeWords(words[1:])
	p.words = p.words[:wmark]
	if block {
		d.HasBlock = true
		d.Block = p.parseBlock(l, ctxBlock)
	}
	p.stmts = append(p.stmts, d)
}

// include expands "include name;" at at, pushing the included statements in
// place (CF:ngx_conf_include). A relative name is taken relative to the
// prefix (core/ngx_file.c:ngx_conf_full_name). A name containing *, ? or [
// is a glob: its matches are read in sorted order and no match is not an
// error; any other name must exist.
func (p *parser) include(at Pos, name string) {
	full := name
	if !filepath.IsAbs(full) {
		full = p.prefix + full
	}
	if !strings.ContainsAny(full, "*?[") {
		var fallback []byte
		if name == "mime.types" {
			// A conf directory without nginx's table (a configuration
			// written for /etc/nginx, checked elsewhere) gets the copy
			// built in: "include mime.types" means that table.
			fallback = builtinMimeTypes
		}
		p.includeFile(at, full, fallback)
		return
	}
	matches, err := p.opts.glob(full)
	if errors.Is(err, filepath.ErrBadPattern) {
		// glob(3) takes a malformed pattern ("a[") literally; nginx
		// then finds no match and says nothing.
		return
	}
	if err != nil {
		p.rep.add(at, fmt.Sprintf("glob() \"%s\" failed (%v)", full, err))
		return
	}
	matches = globVisible(full, matches)
	sort.Strings(matches)
	for _, m := range matches {
		p.includeFile(at, m, nil)
	}
}

// globVisible drops matches that glob(3) would not return: a name
// component starting with "." matched by a pattern component that does not
// start with "." (GLOB_PERIOD is not set by nginx's ngx_open_glob).
func globVisible(pattern string, matches []string) []string {
	pcomp := strings.Split(filepath.Clean(pattern), "/")
	out := matches[:0]
	for _, m := range matches {
		mcomp := strings.Split(filepath.Clean(m), "/")
		keep := true
		if len(mcomp) == len(pcomp) {
			for i, c := range mcomp {
				if strings.HasPrefix(c, ".") && !strings.HasPrefix(pcomp[i], ".") {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
}

// includeFile parses the file at path as if its text stood at at.
// fallback, when not nil, is read instead of a file that does not exist.
func (p *parser) includeFile(at Pos, path string, fallback []byte) {
	key := cleanAbs(path)
	for i, k := range p.chain {
		if k == key {
			cycle := append(append([]string(nil), p.chain[i:]...), key)
			p.rep.add(at, "include cycle: "+strings.Join(cycle, " -> "))
			return
		}
	}
	if len(p.chain) >= maxIncludeDepth {
		p.rep.add(at, fmt.Sprintf("includes nested too deeply (more than %d levels), reading \"%s\"", maxIncludeDepth, path))
		return
	}
	data, ok := p.read[key]
	if !ok {
		var err error
		data, err = p.readFile(path)
		switch {
		case err != nil && fallback != nil && errors.Is(err, fs.ErrNotExist):
			data, path = fallback, path+" (built in)"
		case err != nil:
			p.rep.add(at, readErrMsg(path, err, true))
			return
		}
	}
	p.includeData(at, path, data)
}

// includeData parses data, the contents of the file at path, as if its
// text stood at at.
func (p *parser) includeData(at Pos, path string, data []byte) {
	key := cleanAbs(path)
	if _, ok := p.read[key]; !ok {
		p.read[key] = data
		p.ast.Files = append(p.ast.Files, File{Path: path, Data: data})
	}
	via := make([]Pos, len(at.Via)+1)
	copy(via, at.Via)
	via[len(at.Via)] = Pos{File: at.File, Line: at.Line, Col: at.Col}

	p.chain = append(p.chain, key)
	p.parseInto(newLexer(path, string(data), via, &p.rep), ctxFile)
	p.chain = p.chain[:len(p.chain)-1]
}

// cleanAbs is the identity of a file for cycle detection and caching.
func cleanAbs(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// sysErrMsg words a failed file operation as nginx does:
// `open() "/etc/x.conf" failed (2: No such file or directory)`, or
// `pread() "/etc/d" failed (21: Is a directory)` for a read (nginx 1.22.1
// output).
func sysErrMsg(op, path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch pe.Op {
		case "read":
			op = "pread" // ngx_read_file
		case "":
		default:
			op = pe.Op
		}
		err = pe.Err
	}
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
	case errors.Is(err, fs.ErrNotExist):
		errno = syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		errno = syscall.EACCES
	default:
		return fmt.Sprintf("%s() \"%s\" failed (%v)", op, path, err)
	}
	return fmt.Sprintf("%s() \"%s\" failed (%d: %s)", op, path, int(errno), strerror(errno.Error()))
}

// strerror capitalises Go's errno text as the C library's strerror does.
func strerror(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// newDirective hands out a directive from the current slab.
func (p *parser) newDirective() *Directive {
	if len(p.dirSlab) == 0 {
		p.grow()
		p.dirSlab = make([]Directive, p.slabSize)
	}
	d := &p.dirSlab[0]
	p.dirSlab = p.dirSlab[1:]
	return d
}

// takeWords copies ws into the word slab; nil when ws is empty.
func (p *parser) takeWords(ws []Word) []Word {
	n := len(ws)
	if n == 0 {
		return nil
	}
	if len(p.wordSlab) < n {
		p.grow()
		p.wordSlab = make([]Word, max(n, 2*p.slabSize))
	}
	out := p.wordSlab[:n:n]
	copy(out, ws)
	p.wordSlab = p.wordSlab[n:]
	return out
}

// popStmts moves the statements above mark out of the stack into the
// pointer slab; nil when there are none.
func (p *parser) popStmts(mark int) []*Directive {
	n := len(p.stmts) - mark
	if n == 0 {
		return nil
	}
	if len(p.ptrSlab) < n {
		p.grow()
		p.ptrSlab = make([]*Directive, max(n, p.slabSize))
	}
	out := p.ptrSlab[:n:n]
	copy(out, p.stmts[mark:])
	p.ptrSlab = p.ptrSlab[n:]
	clear(p.stmts[mark:])
	p.stmts = p.stmts[:mark]
	return out
}

// grow doubles the slab size up to a bound, so small configurations stay
// small and large ones allocate rarely.
func (p *parser) grow() {
	if p.slabSize < 1024 {
		p.slabSize *= 2
	}
}
