package rewrite

import (
	"fmt"
	"regexp"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file compiles the configuration's instruction lists into Programs.

// Set is the compiled rewrite directives of one configuration: a Program
// per server and per location that has any. It is immutable.
type Set struct {
	vc   *vars.Compiler
	srv  map[*config.Server]*Program
	locs map[*config.Location]*Program
}

// Program is one block's rewrite directives, compiled: a flat list of
// instructions in which an if block's body follows its test and the test
// says where the body ends (nginx's code array and if_code->next).
type Program struct {
	code []instr
	// log is rewrite_log of the block (e->log = rlcf->log).
	log bool
	vc  *vars.Compiler
}

// instr is one instruction. Which fields are set depends on kind.
type instr struct {
	kind config.RewriteKind
	pos  config.Pos

	// OpRewrite and CondMatch.
	re    *regexp.Regexp
	names []string // re.SubexpNames()
	// OpRewrite.
	repl     *expr
	keepArgs bool
	status   int // 301 or 302 for a redirect
	flag     config.RewriteFlag

	// OpReturn. text is nil for a bare code.
	ret  *config.Return
	text *vars.Template

	// OpSet.
	setter vars.Setter
	value  *expr

	// OpIf: the condition, the body's end (index of the first
	// instruction after it) and the block's configuration (nil in a
	// server).
	cond condition
	end  int
	conf *config.LocConf
}

// condition is a compiled if condition.
type condition struct {
	kind   config.CondKind
	subj   *vars.Template // the variable tested
	value  *expr          // CondEqual's value, CondFile's path
	negate bool
	file   byte
}

// CaptureNames returns the named groups of every rewrite and if regex of
// spec, which nginx makes variables like those of locations and server
// names: give them to vars.Compiler.DeclareCaptures before Compile.
func CaptureNames(spec *config.Spec) []string {
	var names []string
	add := func(re string, noCase bool) {
		if noCase {
			re = "(?i)" + re
		}
		if r, err := regexp.Compile(re); err == nil {
			names = append(names, r.SubexpNames()...)
		}
	}
	var walk func(ops []config.RewriteOp)
	walk = func(ops []config.RewriteOp) {
		for _, op := range ops {
			switch {
			case op.Kind == config.OpRewrite:
				add(op.Regex, false)
			case op.Kind == config.OpIf:
				if op.If.Cond.Kind == config.CondMatch {
					add(op.If.Cond.Value, op.If.Cond.NoCase)
				}
				walk(op.If.Body)
			}
		}
	}
	forEachBlock(spec, func(_ *config.Location, ops []config.RewriteOp) { walk(ops) })
	return names
}

// forEachBlock calls f for each server (l nil) and location, nested and
// named ones included, of spec.
func forEachBlock(spec *config.Spec, f func(l *config.Location, ops []config.RewriteOp)) {
	if spec.HTTP == nil {
		return
	}
	var locs func([]*config.Location)
	locs = func(ls []*config.Location) {
		for _, l := range ls {
			f(l, l.Rewrite)
			locs(l.Locations)
		}
	}
	for _, s := range spec.HTTP.Servers {
		f(nil, s.Rewrite)
		locs(s.Locations)
		locs(s.Named)
	}
}

// Compile compiles every server's and location's rewrite directives of
// spec with vc, which must know the configuration's set variables
// (vars.NewCompiler) and capture names (CaptureNames). Every problem is
// reported, at its directive's position, in one config.ErrorList.
func Compile(spec *config.Spec, vc *vars.Compiler) (*Set, error) {
	s := &Set{vc: vc, srv: map[*config.Server]*Program{}, locs: map[*config.Location]*Program{}}
	var errs config.ErrorList
	if spec.HTTP == nil {
		return s, nil
	}
	var locs func([]*config.Location)
	locs = func(ls []*config.Location) {
		for _, l := range ls {
			if len(l.Rewrite) > 0 {
				s.locs[l] = compileProgram(vc, l.Rewrite, l.Conf.RewriteLog, &errs)
			}
			locs(l.Locations)
		}
	}
	for _, srv := range spec.HTTP.Servers {
		if len(srv.Rewrite) > 0 {
			s.srv[srv] = compileProgram(vc, srv.Rewrite, srv.Conf.RewriteLog, &errs)
		}
		locs(srv.Locations)
		locs(srv.Named)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func compileProgram(vc *vars.Compiler, ops []config.RewriteOp, log bool, errs *config.ErrorList) *Program {
	p := &Program{log: log, vc: vc}
	p.add(vc, ops, errs)
	return p
}

// add appends ops, an if block's body after its test.
func (p *Program) add(vc *vars.Compiler, ops []config.RewriteOp, errs *config.ErrorList) {
	for i := range ops {
		op := &ops[i]
		in := instr{kind: op.Kind, pos: op.Pos}
		fail := func(err error) { errs.Add(op.Pos, "%s: %v", op.Kind, err) }
		switch op.Kind {
		case config.OpRewrite:
			re, err := regexp.Compile(op.Regex)
			if err != nil {
				fail(err) // config checked it: not reached
				continue
			}
			in.re, in.names = re, re.SubexpNames()
			in.keepArgs, in.status, in.flag = op.KeepArgs, op.Status, op.Flag
			if in.repl, err = compileExpr(vc, op.Replacement, op.Status == 0); err != nil {
				fail(err)
				continue
			}
		case config.OpReturn:
			in.ret = op.Return
			if op.Return.Text != "" {
				t, err := vc.Compile(op.Return.Text)
				if err != nil {
					fail(err)
					continue
				}
				in.text = t
			}
		case config.OpBreak:
		case config.OpSet:
			s, ok := vc.Setter(op.Var)
			if !ok {
				fail(fmt.Errorf("unknown %q variable", op.Var)) // config declared it: not reached
				continue
			}
			v, err := compileExpr(vc, op.Value, false)
			if err != nil {
				fail(err)
				continue
			}
			in.setter, in.value = s, v
		case config.OpIf:
			cond, err := compileCond(vc, &op.If.Cond)
			if err != nil {
				fail(err)
				continue
			}
			in.cond, in.conf = cond, op.If.Conf
			if op.If.Cond.Kind == config.CondMatch {
				re, err := condRegex(&op.If.Cond)
				if err != nil {
					fail(err) // config checked it: not reached
					continue
				}
				in.re, in.names = re, re.SubexpNames()
			}
			at := len(p.code)
			p.code = append(p.code, in)
			p.add(vc, op.If.Body, errs)
			p.code[at].end = len(p.code)
			continue
		}
		p.code = append(p.code, in)
	}
}

func compileCond(vc *vars.Compiler, c *config.Cond) (condition, error) {
	out := condition{kind: c.Kind, negate: c.Negate, file: c.File}
	var err error
	if c.Kind != config.CondFile {
		if out.subj, err = vc.Compile("${" + c.Var + "}"); err != nil {
			return out, err
		}
	}
	switch c.Kind {
	case config.CondEqual, config.CondFile:
		out.value, err = compileExpr(vc, c.Value, false)
	}
	return out, err
}

// condRegex compiles a CondMatch pattern (the if's instr carries it).
func condRegex(c *config.Cond) (*regexp.Regexp, error) {
	re := c.Value
	if c.NoCase {
		re = "(?i)" + re
	}
	return regexp.Compile(re)
}
