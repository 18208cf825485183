package rewrite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// This file runs one block's Program (ngx_http_rewrite_handler and the
// script codes it executes).

// State is what the rewrite phases know and change about one request
// besides its variables. The caller sets Escape and Log and reuses the
// State for its next request after Reset.
type State struct {
	// Escape is true when the request's path held a "%" escape or a "+"
	// (nginx's r->quoted_uri and r->plus_in_uri): captures copied into a
	// redirect, into arguments or into a value of set or if are then
	// escaped as arguments.
	Escape bool
	// Log receives the rewrite_log notices (at slog.LevelInfo, nginx's
	// notice) and the errors nginx logs here (a URI rewritten to nothing,
	// a search cycle); nil logs nothing.
	Log *slog.Logger

	// Conf is the request's configuration now: the server's, the chosen
	// location's, or the last if block that matched in it.
	Conf *config.LocConf
	// Rewritten is set once a rewrite changed $uri: the request-target as received no longer stands (nginx
	// clears r->valid_unparsed_uri), and a URI sent upstream is escaped
	// (r->internal).
	Rewritten bool
	// ArgsChanged is set once a set changed $args: the request-target as
	// received no longer stands either (V:ngx_http_variable_set_args).
	ArgsChanged bool
	// NoLocationCut is set by "rewrite ... break", and by break after a
	// rewrite changed the URI: proxy_pass then puts its URI part before
	// the whole URI instead of in place of the location's name (nginx's
	// r->valid_location = 0).
	NoLocationCut bool
	// IfProxied is set once an if block with a proxy_pass matched in
	// the location's rewrite phase: nginx's content handler stays the
	// proxy module's (r->content_handler) even when a later matching
	// block, whose configuration the request goes on with, has none.
	IfProxied bool

	changed bool // r->uri_changed
	quote   bool // e->quote: captures in values are escaped (with Escape)
	buf     []byte
}

// Reset makes st ready for a new request, keeping Escape, Log and its
// buffer.
func (st *State) Reset() {
	*st = State{Escape: st.Escape, Log: st.Log, buf: st.buf[:0]}
}

// exit is how a Program ended.
type exit uint8

const (
	exitEnd      exit = iota // the last instruction ran
	exitStop                 // break, rewrite ... break or last
	exitReturn               // return
	exitRedirect             // rewrite ... redirect or permanent, or to http://
	exitFail                 // 500
)

// result is a Program's exit with what it carries.
type result struct {
	exit     exit
	in       *instr // exitReturn: the return
	status   int    // exitRedirect
	location []byte // exitRedirect
}

// run executes p for one request.
func (p *Program) run(vc *vars.Ctx, st *State) result {
	st.quote = true
	for i := 0; i < len(p.code); {
		in := &p.code[i]
		switch in.kind {
		case config.OpRewrite:
			if r, done := p.rewrite(in, vc, st); done {
				return r
			}
		case config.OpReturn:
			return result{exit: exitReturn, in: in}
		case config.OpBreak:
			if st.changed {
				st.NoLocationCut, st.changed = true, false
			}
			return result{exit: exitStop}
		case config.OpSet:
			v := in.value.lit
			if !in.value.constant {
				st.buf = appendPieces(st.buf[:0], in.value.pieces, vc, st.quote && st.Escape)
				v = string(st.buf)
			}
			in.setter.Set(p.vc, vc, v)
			if in.setter.Args() {
				st.ArgsChanged = true
			}
		case config.OpIf:
			ok, r, failed := p.test(in, vc, st)
			if failed {
				return r
			}
			if !ok {
				i = in.end
				continue
			}
			if in.conf != nil {
				st.Conf = in.conf
				if in.conf.ProxyPass != nil {
					st.IfProxied = true
				}
			}
		}
		i++
	}
	return result{exit: exitEnd}
}

// rewrite runs one rewrite directive (ngx_http_script_regex_start_code and
// ngx_http_script_regex_end_code); done is true when the block ends here.
func (p *Program) rewrite(in *instr, vc *vars.Ctx, st *State) (r result, done bool) {
	subject := vc.URI
	idx := in.re.FindStringSubmatchIndex(subject)
	if idx == nil {
		if p.logging(st) {
			p.logf(st, "%q does not match %q", in.re.String(), subject)
		}
		vc.Captures = route.Captures{}
		return result{}, false
	}
	if p.logging(st) {
		p.logf(st, "%q matches %q", in.re.String(), subject)
	}
	vc.Captures = route.Captures{Subject: subject, Index: idx, Names: in.names}
	if in.status != 0 {
		b := appendPieces(st.buf[:0], in.repl.pieces, vc, st.Escape)
		b = unescapeRedirect(b)
		if in.keepArgs && vc.Args != "" {
			if in.repl.question {
				b = append(b, '&')
			} else {
				b = append(b, '?')
			}
			b = append(b, vc.Args...)
		}
		st.buf = b
		if p.logging(st) {
			p.logf(st, "rewritten redirect: %q", b)
		}
		return result{exit: exitRedirect, status: in.status, location: append([]byte(nil), b...)}, true
	}

	st.Rewritten = true
	if in.flag == config.FlagBreak {
		st.NoLocationCut, st.changed = true, false
	} else {
		st.changed = true
	}
	uriPieces, argPieces := in.repl.pieces, []piece(nil)
	if in.repl.args >= 0 {
		uriPieces, argPieces = in.repl.pieces[:in.repl.args], in.repl.pieces[in.repl.args:]
	}
	b := appendPieces(st.buf[:0], uriPieces, vc, false)
	uri := string(b)
	if in.repl.args >= 0 {
		b = appendPieces(b[:0], argPieces, vc, st.Escape)
		if in.keepArgs && vc.Args != "" {
			b = append(b, '&')
			b = append(b, vc.Args...)
		}
		vc.Args, vc.HasArgs = string(b), true
	} else if !in.keepArgs {
		vc.Args = ""
	}
	st.buf = b
	st.quote = false
	vc.URI = uri
	if p.logging(st) {
		p.logf(st, "rewritten data: %q, args: %q", uri, vc.Args)
	}
	if uri == "" {
		errorf(st, "the rewritten URI has a zero length")
		return result{exit: exitFail}, true
	}
	if in.flag == config.FlagLast || in.flag == config.FlagBreak {
		return result{exit: exitStop}, true
	}
	return result{}, false
}

// test evaluates an if condition (ngx_http_script_var_code, _equal_code,
// _not_equal_code, _regex_start_code with test, _file_code). failed is
// true when the request must end with r.
func (p *Program) test(in *instr, vc *vars.Ctx, st *State) (ok bool, r result, failed bool) {
	c := &in.cond
	switch c.kind {
	case config.CondVar:
		v := c.subj.Append(st.buf[:0], vc)
		st.buf = v
		return len(v) > 0 && !(len(v) == 1 && v[0] == '0'), r, false
	case config.CondEqual:
		v := c.subj.Append(st.buf[:0], vc)
		n := len(v)
		v = appendPieces(v, c.value.pieces, vc, st.quote && st.Escape)
		st.buf = v
		return (string(v[:n]) == string(v[n:])) != c.negate, r, false
	case config.CondMatch:
		st.buf = c.subj.Append(st.buf[:0], vc)
		view := unsafe.String(unsafe.SliceData(st.buf), len(st.buf))
		idx := in.re.FindStringSubmatchIndex(view)
		if idx == nil {
			if p.logging(st) {
				p.logf(st, "%q does not match %q", in.re.String(), view)
			}
			vc.Captures = route.Captures{}
			return c.negate, r, false
		}
		if p.logging(st) {
			p.logf(st, "%q matches %q", in.re.String(), view)
		}
		// The captures outlive the buffer: they get their own copy.
		vc.Captures = route.Captures{Subject: strings.Clone(view), Index: idx, Names: in.names}
		return !c.negate, r, false
	case config.CondFile:
		st.buf = appendPieces(st.buf[:0], c.value.pieces, vc, st.quote && st.Escape)
		return fileTest(string(st.buf), c.file, st) != c.negate, r, false
	}
	return false, r, false
}

// fileTest is the positive form of an if's -f, -d, -e or -x on path
// (ngx_http_script_file_code): the path is followed through symbolic
// links; one that cannot be examined is none of these (an error other
// than a missing file is logged, as nginx logs it at crit).
func fileTest(path string, op byte, st *State) bool {
	fi, err := os.Stat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.ENAMETOOLONG) {
			if st.Log != nil {
				st.Log.Error(fmt.Sprintf("stat() %q failed: %v", path, err))
			}
		}
		return false
	}
	switch op {
	case 'f':
		return fi.Mode().IsRegular()
	case 'd':
		return fi.IsDir()
	case 'e':
		return fi.Mode().IsRegular() || fi.IsDir()
	case 'x':
		return fi.Mode().Perm()&0o100 != 0
	}
	return false
}

// logging reports whether rewrite_log notices are written for the block:
// callers test it first, so that a request does not build their
// arguments for nothing.
func (p *Program) logging(st *State) bool {
	return p.log && st.Log != nil && st.Log.Enabled(context.Background(), slog.LevelInfo)
}

// logf writes a rewrite_log notice.
func (p *Program) logf(st *State, format string, args ...any) {
	st.Log.Info(fmt.Sprintf(format, args...))
}

// errorf writes an error nginx logs at error level.
func errorf(st *State, format string, args ...any) {
	if st.Log == nil {
		return
	}
	st.Log.Error(fmt.Sprintf(format, args...))
}
