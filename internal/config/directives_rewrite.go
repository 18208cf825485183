package config

import (
	"strings"
)

// This file holds ngx_http_rewrite_module's directives: rewrite, return,
// break, set and if, which make each server, location and if block's
// list of instructions (RewriteOp, spec_rewrite.go), and rewrite_log and
// uninitialized_variable_warn, which are ordinary inherited settings.
// The directives run where nginx runs them: a server's in the server
// rewrite phase, a location's once it is chosen (internal/rewrite).

// rewriteDirectives are ngx_http_rewrite_module's.
func rewriteDirectives() map[string]*directive {
	// NGX_HTTP_SRV_CONF|NGX_HTTP_SIF_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF
	const anywhere = ctxServer | ctxLocation | ctxSrvIf | ctxLocIf
	return map[string]*directive{
		"return":  {ctx: anywhere, min: 1, max: 2, set: setReturn},
		"rewrite": {ctx: anywhere, min: 2, max: 3, set: setRewrite},
		"break":   {ctx: anywhere, min: 0, max: 0, set: setBreak},
		"set":     {ctx: anywhere, min: 2, max: 2, set: setSet},
		"if":      {ctx: ctxServer | ctxLocation, min: 1, max: unbounded, block: true, set: setIf},
		"rewrite_log": {ctx: ctxHTTPAll | ctxSrvIf | ctxLocIf, min: 1, max: 1, once: true,
			set: onLoc(flagArg, func(l *LocConf) *bool { return &l.RewriteLog })},
		"uninitialized_variable_warn": {ctx: ctxHTTPAll | ctxSrvIf | ctxLocIf, min: 1, max: 1, once: true,
			set: onLoc(flagArg, func(l *LocConf) *bool { return &l.UninitializedVariableWarn })},
	}
}

// addOp appends a rewrite module instruction to the block's list.
func addOp(f *frame, op RewriteOp) {
	*f.prog = append(*f.prog, op)
}

// setReturn is ngx_http_rewrite_return: "return code [text]" or "return URL".
func setReturn(c *checker, f *frame, d *Directive, _ bool) {
	r := &Return{Pos: d.Pos}
	a := d.Args[0]
	if len(d.Args) == 1 && (strings.HasPrefix(a.Text, "http://") || strings.HasPrefix(a.Text, "https://") || strings.HasPrefix(a.Text, "$scheme")) {
		r.Code, r.Text = 302, a.Text
	} else {
		n, ok := parseNumber(a.Text)
		if !ok || n > 999 {
			c.errorf(a.Pos, "invalid return code %q", a.Text)
			return
		}
		r.Code = int(n)
		if len(d.Args) == 2 {
			r.Text = d.Args[1].Text
		}
	}
	addOp(f, RewriteOp{Pos: d.Pos, Kind: OpReturn, Return: r})
}

// setRewrite is ngx_http_rewrite: "rewrite regex replacement [flag]".
func setRewrite(c *checker, f *frame, d *Directive, _ bool) {
	op := RewriteOp{Pos: d.Pos, Kind: OpRewrite, KeepArgs: true}
	repl := d.Args[1].Text
	if repl == "" {
		c.errorf(d.Args[1].Pos, "empty replacement")
		return
	}
	re, ok := c.convertRegex(d.Args[0].Pos, d.Args[0].Text, false)
	if !ok {
		return
	}
	op.Regex = re
	if strings.HasSuffix(repl, "?") {
		// The last "?" drops the request's arguments.
		repl, op.KeepArgs = repl[:len(repl)-1], false
	}
	op.Replacement = repl
	if strings.HasPrefix(repl, "http://") || strings.HasPrefix(repl, "https://") || strings.HasPrefix(repl, "$scheme") {
		op.Status = 302
	}
	if len(d.Args) == 3 {
		switch d.Args[2].Text {
		case "last":
			op.Flag = FlagLast
		case "break":
			op.Flag = FlagBreak
		case "redirect":
			op.Flag, op.Status = FlagRedirect, 302
		case "permanent":
			op.Flag, op.Status = FlagPermanent, 301
		default:
			c.errorf(d.Args[2].Pos, "invalid parameter %q", d.Args[2].Text)
			return
		}
	}
	addOp(f, op)
}

// setBreak is ngx_http_rewrite_break.
func setBreak(c *checker, f *frame, d *Directive, _ bool) {
	addOp(f, RewriteOp{Pos: d.Pos, Kind: OpBreak})
}

// setSet is ngx_http_rewrite_set: "set $variable value". The variable is
// declared for the whole http context (ngx_http_add_variable); whether
// the name is free (not a built-in variable) is the variable compiler's
// to say, as nginx's "the duplicate "x" variable".
func setSet(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	if !strings.HasPrefix(a.Text, "$") {
		c.errorf(a.Pos, "invalid variable name %q", a.Text)
		return
	}
	name := strings.ToLower(a.Text[1:])
	if name == "" {
		c.errorf(a.Pos, "invalid variable name %q", a.Text)
		return
	}
	if c.setVars == nil {
		c.setVars = map[string]bool{}
	}
	if !c.setVars[name] {
		c.setVars[name] = true
		c.http.h.SetVariables = append(c.http.h.SetVariables, VarDecl{Pos: a.Pos, Name: name})
	}
	addOp(f, RewriteOp{Pos: d.Pos, Kind: OpSet, Var: name, Value: d.Args[1].Text})
}

// setIf is ngx_http_rewrite_if: the condition, then the block, whose
// rewrite directives go into the enclosing block's list under the if. In
// a location the block is also a nested configuration (ifLevel).
func setIf(c *checker, f *frame, d *Directive, _ bool) {
	cond, ok := c.ifCondition(d)
	if !ok {
		return
	}
	ifb := &If{Pos: d.Pos, Cond: cond}
	addOp(f, RewriteOp{Pos: d.Pos, Kind: OpIf, If: ifb})
	var nf *frame
	if f.ctx == ctxServer {
		// The block's settings go nowhere: nginx never switches to a
		// server if's configuration (if_code->loc_conf = NULL).
		nf = c.newFrame(ctxSrvIf)
		nf.lvl = &level{}
	} else {
		il := &ifLevel{ifb: ifb}
		f.loc.ifs = append(f.loc.ifs, il)
		nf = c.newFrame(ctxLocIf)
		nf.lvl, nf.loc = &il.level, f.loc
	}
	nf.server, nf.prog = f.server, &ifb.Body
	c.walk(nf, d.Block)
}

// ifCondition is ngx_http_rewrite_if_condition. The lexer gives
// "if ($a = b)" as "($a", "=", "b)"; the parentheses are stripped from
// the first and last words (or are words of their own).
func (c *checker) ifCondition(d *Directive) (Cond, bool) {
	args := make([]Word, len(d.Args))
	copy(args, d.Args)
	first, last := 0, len(args)-1
	if args[0].Text == "" || args[0].Text[0] != '(' {
		c.errorf(args[0].Pos, "invalid condition %q", args[0].Text)
		return Cond{}, false
	}
	if args[0].Text == "(" {
		first = 1
	} else {
		args[0].Text = args[0].Text[1:]
	}
	if lt := args[last].Text; lt == "" || lt[len(lt)-1] != ')' {
		c.errorf(args[last].Pos, "invalid condition %q", args[last].Text)
		return Cond{}, false
	}
	if args[last].Text == ")" {
		last--
	} else {
		args[last].Text = args[last].Text[:len(args[last].Text)-1]
	}
	cur := args[first]
	p := cur.Text
	switch {
	case len(p) > 1 && p[0] == '$':
		if first != last && first+2 != last {
			c.errorf(cur.Pos, "invalid condition %q", p)
			return Cond{}, false
		}
		v := strings.ToLower(p[1:])
		if first == last {
			return Cond{Kind: CondVar, Var: v}, true
		}
		op, val := args[first+1], args[last]
		switch op.Text {
		case "=", "!=":
			return Cond{Kind: CondEqual, Var: v, Value: val.Text, Negate: op.Text == "!="}, true
		case "~", "~*", "!~", "!~*":
			noCase := strings.HasSuffix(op.Text, "*")
			re, ok := c.convertRegex(val.Pos, val.Text, noCase)
			if !ok {
				return Cond{}, false
			}
			return Cond{Kind: CondMatch, Var: v, Value: re, Negate: op.Text[0] == '!', NoCase: noCase}, true
		}
		c.errorf(op.Pos, "unexpected %q in condition", op.Text)
		return Cond{}, false
	case len(p) == 2 && p[0] == '-', len(p) == 3 && p[0] == '!' && p[1] == '-':
		if first+1 != last {
			c.errorf(cur.Pos, "invalid condition %q", p)
			return Cond{}, false
		}
		neg := p[0] == '!'
		switch t := p[len(p)-1]; t {
		case 'f', 'd', 'e', 'x':
			return Cond{Kind: CondFile, Value: args[last].Text, Negate: neg, File: t}, true
		}
	}
	c.errorf(cur.Pos, "invalid condition %q", p)
	return Cond{}, false
}

// mergeIf gives a location's if block its nested configuration: the
// location's effective settings with the block's own on top, as nginx
// merges the block's unnamed location. proxy_pass, which no nested
// location inherits, is inherited here (ngx_http_proxy_merge_loc_conf
// copies it into an unnamed location that has none), with the enclosing
// location's name for the URI replacement.
func (c *checker) mergeIf(l *Location, il *ifLevel) {
	conf := inherit(l.Conf, &il.level)
	if conf.ProxyPass == nil {
		conf.ProxyPass = l.Conf.ProxyPass
	} else {
		c.linkUpstream(conf.ProxyPass)
	}
	expandRedirects(&conf, l.Path)
	il.ifb.Conf = &conf
}
