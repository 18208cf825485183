package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// checkRewrite parses and checks text.
func checkRewrite(t *testing.T, text string) (*Spec, ErrorList) {
	t.Helper()
	ast, errs := parse("test.conf", []byte(text), ParseOptions{})
	if len(errs) > 0 {
		t.Fatalf("parsing: %v", errs)
	}
	return Check(ast)
}

// TestRewriteErrorsMatchNginx checks that the rewrite module's directives
// are refused with nginx's own words, and asks nginx -t when installed.
func TestRewriteErrorsMatchNginx(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"if no paren", `if $a { }`, `invalid condition "$a"`},
		{"if no closing", `if ($a { }`, `invalid condition "$a"`},
		{"if empty", `if () { }`, `invalid condition ")"`},
		{"if empty spaced", `if ( ) { }`, `invalid condition ")"`},
		{"if operator", `if ($a == b) { }`, `unexpected "==" in condition`},
		{"if too many", `if ($a = b c) { }`, `invalid condition "$a"`},
		{"if two words", `if ($a b) { }`, `invalid condition "$a"`},
		{"if literal", `if (a) { }`, `invalid condition "a"`},
		{"if file op", `if (-q /x) { }`, `invalid condition "-q"`},
		{"if file arity", `if (-f) { }`, `invalid condition "-f"`},
		{"if no block", `if ($a);`, `directive "if" has no opening "{"`},
		{"if nested", `location / { if ($a) { if ($b) { } } }`, `"if" directive is not allowed here`},
		{"if header", `location / { if ($a) { proxy_set_header X y; } }`, `"proxy_set_header" directive is not allowed here`},
		{"server if proxy_pass", `if ($a) { proxy_pass http://127.0.0.1:1; }`, `"proxy_pass" directive is not allowed here`},
		{"if uri part", `location / { if ($a) { proxy_pass http://127.0.0.1:1/x; } }`, `"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block`},
		{"rewrite flag", `rewrite ^ /x final;`, `invalid parameter "final"`},
		{"rewrite empty", `rewrite ^ "";`, `empty replacement`},
		{"rewrite arity", `rewrite ^;`, `invalid number of arguments in "rewrite" directive`},
		{"set name", `set a b;`, `invalid variable name "a"`},
		{"set arity", `set $a;`, `invalid number of arguments in "set" directive`},
		{"break args", `break now;`, `invalid number of arguments in "break" directive`},
		{"rewrite_log", `rewrite_log maybe;`, `invalid value "maybe" in "rewrite_log" directive, it must be "on" or "off"`},
		{"return in if code", `location / { if ($a) { return 1000; } }`, `invalid return code "1000"`},
	}
	httpTests := []struct {
		name, http, want string
	}{
		{"rewrite in http", `rewrite ^ /x;`, `"rewrite" directive is not allowed here`},
		{"set in http", `set $a b;`, `"set" directive is not allowed here`},
		{"if in http", `if ($a) { }`, `"if" directive is not allowed here`},
	}
	type tc struct{ name, conf, want string }
	var all []tc
	for _, tt := range tests {
		all = append(all, tc{tt.name, "events {}\nhttp { server { listen 127.0.0.1:18999; " + tt.body + " } }\n", tt.want})
	}
	for _, tt := range httpTests {
		all = append(all, tc{tt.name, "events {}\nhttp { " + tt.http + " }\n", tt.want})
	}
	nginx, _ := exec.LookPath("nginx")
	for _, tt := range all {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := checkRewrite(t, tt.conf)
			if len(errs) != 1 || errs[0].Msg != tt.want {
				t.Errorf("got errors %q; want exactly %q", errs.Error(), tt.want)
			}
			if nginx == "" {
				return
			}
			dir := t.TempDir()
			conf := filepath.Join(dir, "x.conf")
			if err := os.WriteFile(conf, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(nginx, "-t", "-p", dir+"/", "-c", conf,
				"-g", "pid "+filepath.Join(dir, "p")+"; error_log stderr;").CombinedOutput()
			if !strings.Contains(string(out), "[emerg]") || !strings.Contains(string(out), tt.want+" in ") {
				t.Errorf("nginx -t said %q; want an emerg with %q", out, tt.want)
			}
		})
	}
}

// TestRewriteConditions pins how if conditions are read, the lexer's
// splitting of parentheses included.
func TestRewriteConditions(t *testing.T) {
	tests := []struct {
		cond string
		want Cond
	}{
		{`($arg_v)`, Cond{Kind: CondVar, Var: "arg_v"}},
		{`( $Unsafe )`, Cond{Kind: CondVar, Var: "unsafe"}},
		{`($host = example.org)`, Cond{Kind: CondEqual, Var: "host", Value: "example.org"}},
		{`($request_method = 'OPTIONS')`, Cond{Kind: CondEqual, Var: "request_method", Value: "OPTIONS"}},
		{`($ssl_protocol = "")`, Cond{Kind: CondEqual, Var: "ssl_protocol", Value: ""}},
		{`($host != $sandbox_domain)`, Cond{Kind: CondEqual, Var: "host", Value: "$sandbox_domain", Negate: true}},
		{`($uri ~ ^/(?<x>a)\.html)`, Cond{Kind: CondMatch, Var: "uri", Value: `^/(?P<x>a)\.html`}},
		{`($http_user_agent ~* bot)`, Cond{Kind: CondMatch, Var: "http_user_agent", Value: "bot", NoCase: true}},
		{`($args !~ ver=)`, Cond{Kind: CondMatch, Var: "args", Value: "ver=", Negate: true}},
		{`($args !~* "a{2}")`, Cond{Kind: CondMatch, Var: "args", Value: "a{2}", Negate: true, NoCase: true}},
		{`(-f $request_filename)`, Cond{Kind: CondFile, Value: "$request_filename", File: 'f'}},
		{`( !-d /tmp )`, Cond{Kind: CondFile, Value: "/tmp", File: 'd', Negate: true}},
		{`(!-e /x)`, Cond{Kind: CondFile, Value: "/x", File: 'e', Negate: true}},
		{`(-x /bin/sh)`, Cond{Kind: CondFile, Value: "/bin/sh", File: 'x'}},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			s, errs := checkRewrite(t, "events {}\nhttp { server { if "+tt.cond+" { return 204; } } }\n")
			if len(errs) > 0 {
				t.Fatalf("got errors %v", errs)
			}
			ops := s.HTTP.Servers[0].Rewrite
			if len(ops) != 1 || ops[0].Kind != OpIf {
				t.Fatalf("got ops %+v; want one if", ops)
			}
			if got := ops[0].If.Cond; got != tt.want {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestRewriteProgram checks the instruction lists: order, flags, the
// replacement's "?", redirects, and that if bodies nest.
func TestRewriteProgram(t *testing.T) {
	s, errs := checkRewrite(t, `events {}
http {
    server {
        set $a 1;
        rewrite ^ https://$host$request_uri? permanent;
        location / {
            rewrite ^/api/(.*) /$1 break;
            rewrite ^(.+)/+$ $1;
            rewrite ^/x http://other redirect;
            rewrite ^/y /z last;
            if ($a) { set $b "$1."; break; }
            return 404 'Not found';
            set $A 2;
        }
    }
}
`)
	if len(errs) > 0 {
		t.Fatalf("got errors %v", errs)
	}
	srv := s.HTTP.Servers[0]
	type op struct {
		Kind          RewriteKind
		Regex, Repl   string
		Keep          bool
		Flag          RewriteFlag
		Status        int
		Var, Value    string
		Body, RetCode int
	}
	flat := func(ops []RewriteOp) []op {
		var out []op
		for _, o := range ops {
			x := op{Kind: o.Kind, Regex: o.Regex, Repl: o.Replacement, Keep: o.KeepArgs, Flag: o.Flag, Status: o.Status, Var: o.Var, Value: o.Value}
			if o.If != nil {
				x.Body = len(o.If.Body)
			}
			if o.Return != nil {
				x.RetCode = o.Return.Code
			}
			out = append(out, x)
		}
		return out
	}
	wantSrv := []op{
		{Kind: OpSet, Var: "a", Value: "1"},
		{Kind: OpRewrite, Regex: "^", Repl: "https://$host$request_uri", Flag: FlagPermanent, Status: 301},
	}
	if got := flat(srv.Rewrite); !reflect.DeepEqual(got, wantSrv) {
		t.Errorf("server ops:\ngot  %+v\nwant %+v", got, wantSrv)
	}
	wantLoc := []op{
		{Kind: OpRewrite, Regex: "^/api/(.*)", Repl: "/$1", Keep: true, Flag: FlagBreak},
		{Kind: OpRewrite, Regex: "^(.+)/+$", Repl: "$1", Keep: true},
		{Kind: OpRewrite, Regex: "^/x", Repl: "http://other", Keep: true, Flag: FlagRedirect, Status: 302},
		{Kind: OpRewrite, Regex: "^/y", Repl: "/z", Keep: true, Flag: FlagLast},
		{Kind: OpIf, Body: 2},
		{Kind: OpReturn, RetCode: 404},
		{Kind: OpSet, Var: "a", Value: "2"},
	}
	loc := srv.Locations[0]
	if got := flat(loc.Rewrite); !reflect.DeepEqual(got, wantLoc) {
		t.Errorf("location ops:\ngot  %+v\nwant %+v", got, wantLoc)
	}
	wantBody := []op{{Kind: OpSet, Var: "b", Value: "$1."}, {Kind: OpBreak}}
	if got := flat(loc.Rewrite[4].If.Body); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("if body:\ngot  %+v\nwant %+v", got, wantBody)
	}
	var names []string
	for _, v := range s.HTTP.SetVariables {
		names = append(names, v.Name)
	}
	if want := []string{"a", "b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("got set variables %q; want %q", names, want)
	}
}

// TestIfConfInheritance pins what an if block in a location inherits: the
// enclosing location's settings, proxy_pass included (nginx's unnamed
// location), with the block's own access_log or proxy_pass on top; a
// server if has no configuration of its own.
func TestIfConfInheritance(t *testing.T) {
	s, errs := checkRewrite(t, `events {}
http {
    upstream app { server 127.0.0.1:1; }
    server {
        if ($a) { return 403; }
        location /api/ {
            proxy_pass http://127.0.0.1:2/v1/;
            proxy_set_header X-A a;
            proxy_read_timeout 5s;
            if ($request_method = POST) { access_log off; }
            if ($arg_x) { proxy_pass http://app; }
            rewrite_log on;
        }
    }
}
`)
	if len(errs) > 0 {
		t.Fatalf("got errors %v", errs)
	}
	srv := s.HTTP.Servers[0]
	if c := srv.Rewrite[0].If.Conf; c != nil {
		t.Errorf("server if got a configuration %+v; want none", c)
	}
	loc := srv.Locations[0]
	first, second := loc.Rewrite[0].If.Conf, loc.Rewrite[1].If.Conf
	if first == nil || second == nil {
		t.Fatal("location ifs got no configuration")
	}
	if first.ProxyPass != loc.Conf.ProxyPass {
		t.Errorf("if got proxy_pass %+v; want the location's", first.ProxyPass)
	}
	if !first.AccessLogOff || loc.Conf.AccessLogOff {
		t.Errorf("access_log off: if %t, location %t; want true, false", first.AccessLogOff, loc.Conf.AccessLogOff)
	}
	if len(first.ProxySetHeaders) != 1 || first.ProxyReadTimeout != loc.Conf.ProxyReadTimeout {
		t.Errorf("if got headers %+v, read timeout %v; want the location's", first.ProxySetHeaders, first.ProxyReadTimeout)
	}
	if !first.RewriteLog {
		t.Error("if got rewrite_log off; want on, set after the block in the location")
	}
	if pp := second.ProxyPass; pp == nil || pp.Upstream != "app" {
		t.Errorf("second if got proxy_pass %+v; want its own, to upstream app", pp)
	}
}

// FuzzRewriteDirectives feeds if conditions and rewrite arguments, as the
// lexer could produce them, to the checker: it must not panic, and what
// it accepts must be usable (regexes that compile, a variable to test).
func FuzzRewriteDirectives(f *testing.F) {
	for _, s := range [][3]string{
		{"($host = example.org)", `^/api/(.*)`, "/$1"},
		{"($request_method\n=\nOPTIONS)", `'^/hassio/ingress(/.*)$'`, "$1"},
		{"(\n$uri\n~*\n^/(?<x>a)\\.html\n)", `^(.+)/+$`, "$1"},
		{"(!-f\n$request_filename)", `^`, "https://$host$request_uri?"},
		{"($arg_v)", `(?'n'x)`, "/x?y=$1"},
		{"(\n)", `[`, ""},
		{"($a\n!~*\n(?<=a))", `a{2`, "?"},
		{"(-x)", `\`, "$"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, cond, re, repl string) {
		words := func(s string) []Word {
			var out []Word
			for _, w := range strings.Split(s, "\n") {
				out = append(out, Word{Text: w, Pos: Pos{File: "f", Line: 1, Col: 1}})
			}
			return out
		}
		pos := Pos{File: "f", Line: 1, Col: 1}
		ifd := &Directive{Name: "if", Pos: pos, Args: words(cond), HasBlock: true}
		rw := &Directive{Name: "rewrite", Pos: pos, Args: []Word{{Text: re, Pos: pos}, {Text: repl, Pos: pos}}}
		loc := &Directive{Name: "location", Pos: pos, Args: []Word{{Text: "/", Pos: pos}}, HasBlock: true, Block: []*Directive{ifd, rw}}
		srv := &Directive{Name: "server", Pos: pos, HasBlock: true, Block: []*Directive{loc}}
		ast := &AST{Main: []*Directive{
			{Name: "events", Pos: pos, HasBlock: true},
			{Name: "http", Pos: pos, HasBlock: true, Block: []*Directive{srv}},
		}}
		s, errs := Check(ast)
		if len(errs) > 0 {
			return
		}
		ops := s.HTTP.Servers[0].Locations[0].Rewrite
		if len(ops) != 2 || ops[0].Kind != OpIf || ops[1].Kind != OpRewrite {
			t.Fatalf("accepted, got ops %+v; want an if and a rewrite", ops)
		}
		c := ops[0].If.Cond
		if c.Kind != CondFile && c.Var == "" {
			t.Errorf("condition %q: got %+v with no variable", cond, c)
		}
		if c.Kind == CondMatch {
			if _, err := regexp.Compile(c.Value); err != nil {
				t.Errorf("condition %q: accepted pattern %q does not compile: %v", cond, c.Value, err)
			}
		}
		if _, err := regexp.Compile(ops[1].Regex); err != nil {
			t.Errorf("rewrite %q: accepted pattern %q does not compile: %v", re, ops[1].Regex, err)
		}
		if ops[1].Replacement == "" && ops[1].KeepArgs {
			t.Errorf("rewrite %q: accepted an empty replacement", repl)
		}
	})
}
