package rewrite

import (
	"regexp"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// FuzzExpr checks that a value split into pieces for capture escaping
// evaluates, unescaped, to what the variables compiler makes of the whole
// string, and that compiling fails exactly when the compiler's does.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"/$1", "$1$2x", "/x?y=$1&$args", "${host}$1?", "$", "${", "${a", "$1$", "a?b?c", "$http_x_y$9"} {
		f.Add(s, "/ab/cd?", splitArgsSeed(s))
	}
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		f.Fatal(err)
	}
	re := regexp.MustCompile(`^/(.)(.)(.*)$`)
	f.Fuzz(func(t *testing.T, s, uri string, splitArgs bool) {
		e, err := compileExpr(vc, s, splitArgs)
		tmpl, terr := vc.Compile(s)
		if (err == nil) != (terr == nil) {
			t.Fatalf("%q: compileExpr error %v, Compile error %v", s, err, terr)
		}
		if err != nil {
			return
		}
		// No "?" but the literal one, to find it in the whole value.
		uri = strings.ReplaceAll(uri, "?", "")
		c := &vars.Ctx{URI: uri, Host: "h", Args: "a=1", HasArgs: true}
		if idx := re.FindStringSubmatchIndex(uri); idx != nil {
			c.Captures = route.Captures{Subject: uri, Index: idx, Names: re.SubexpNames()}
		}
		got := string(appendPieces(nil, e.pieces, c, false))
		want := string(tmpl.Append(nil, c))
		if e.args >= 0 {
			// The "?" that split the arguments is not in either part.
			i := strings.Index(want, "?")
			if i < 0 || got != want[:i]+want[i+1:] {
				t.Fatalf("%q split: got %q; want %q without its first \"?\"", s, got, want)
			}
			return
		}
		if got != want {
			t.Fatalf("%q: got %q; want %q", s, got, want)
		}
		esc := string(appendPieces(nil, e.pieces, c, true))
		if len(esc) < len(got) {
			t.Fatalf("%q: escaped %q is shorter than %q", s, esc, got)
		}
	})
}

func splitArgsSeed(s string) bool { return strings.Contains(s, "?") }

// FuzzRewrite runs one rewrite directive over any URI: it must not panic,
// a redirect must say where, a served request must have a URI, and
// unescaping a redirect never lengthens it.
func FuzzRewrite(f *testing.F) {
	for _, s := range [][3]string{
		{`^/api/(.*)`, "/$1", "/api/x y"},
		{`^(.+)/+$`, "$1", "/a//"},
		{`^/(.*)$`, "/x?v=$1", "/a&b"},
		{`^`, "https://$host$request_uri", "/p"},
		{`(?P<n>a)`, "/%3F$1%2", "/a%"},
	} {
		f.Add(s[0], s[1], s[2], uint8(0), true)
	}
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, re, repl, uri string, flag uint8, escape bool) {
		if _, err := regexp.Compile(re); err != nil || repl == "" || uri == "" || uri[0] != '/' {
			return
		}
		op := config.RewriteOp{Kind: config.OpRewrite, Regex: re, Replacement: repl, KeepArgs: true, Flag: config.RewriteFlag(flag % 5)}
		switch {
		case op.Flag == config.FlagRedirect, strings.HasPrefix(repl, "http://"):
			op.Status = 302
		case op.Flag == config.FlagPermanent:
			op.Status = 301
		}
		var errs config.ErrorList
		p := compileProgram(vc, []config.RewriteOp{op}, false, &errs)
		if len(errs) > 0 {
			return
		}
		c := &vars.Ctx{URI: uri, Host: "h", Args: "q=1", HasArgs: true}
		st := &State{Escape: escape}
		r := p.run(c, st)
		switch r.exit {
		case exitRedirect:
			if r.location == nil {
				t.Fatal("a redirect with no location")
			}
		case exitFail:
		default:
			if c.URI == "" {
				t.Fatalf("served with an empty URI (%q %q on %q)", re, repl, uri)
			}
		}
		b := []byte(uri)
		if u := unescapeRedirect(b); len(u) > len(uri) {
			t.Fatalf("unescaping %q gave the longer %q", uri, u)
		}
	})
}
