package rewrite

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// fixture is one configuration compiled as a snapshot would.
type fixture struct {
	spec   *config.Spec
	routes *route.Table
	vc     *vars.Compiler
	set    *Set
	last   route.Match // the last search of run
}

func build(t testing.TB, httpBody string) *fixture {
	t.Helper()
	text := "events {}\nhttp {\n" + httpBody + "\n}\n"
	ast, errs := config.ParseFile("/t/nginx.conf", config.ParseOptions{ReadFile: func(string) ([]byte, error) { return []byte(text), nil }})
	if len(errs) > 0 {
		t.Fatalf("parsing: %v", errs)
	}
	spec, errs := config.Check(ast)
	if len(errs) > 0 {
		t.Fatalf("checking: %v", errs)
	}
	f, err := compileFixture(spec)
	if err != nil {
		t.Fatalf("compiling: %v", err)
	}
	return f
}

func compileFixture(spec *config.Spec) (*fixture, error) {
	routes, err := route.Build(spec.HTTP)
	if err != nil {
		return nil, err
	}
	vc, err := vars.NewCompiler(spec.HTTP.Maps, spec.HTTP.SetVariables...)
	if err != nil {
		return nil, err
	}
	vc.DeclareCaptures(routes.CaptureNames())
	vc.DeclareCaptures(CaptureNames(spec))
	set, err := Compile(spec, vc)
	if err != nil {
		return nil, err
	}
	return &fixture{spec: spec, routes: routes, vc: vc, set: set}, nil
}

// req is one request: a method, a URI (path, then "?" and arguments),
// a Host and whether the path was written with "%" or "+".
type req struct {
	method, uri, host string
	escape            bool
}

func (f *fixture) run(t testing.TB, r req, log *slog.Logger) (Outcome, *vars.Ctx, *State) {
	t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	if r.host == "" {
		r.host = "example.com"
	}
	path, args, hasArgs := strings.Cut(r.uri, "?")
	srv, caps := f.routes.Server("0.0.0.0:80", r.host)
	if srv == nil {
		t.Fatal("no server")
	}
	vc := &vars.Ctx{Method: r.method, RequestURI: r.uri, URI: path, Args: args, HasArgs: hasArgs, Host: r.host, ServerName: srv.Name, Captures: caps}
	st := &State{Escape: r.escape, Log: log}
	out, m := f.serve(vc, st, srv)
	f.last = m
	return out, vc, st
}

// autoRedirect stands for the search's trailing-slash redirect in these
// tests' outcomes.
const autoRedirect Action = 100

// serve stands in for the request pipeline: the server phase, then the
// search and the location phase as long as it asks for a search, ten
// times at most (the eleventh is a 500, as r->uri_changes). It returns
// the outcome and the last search's match.
func (f *fixture) serve(vc *vars.Ctx, st *State, srv *route.Server) (Outcome, route.Match) {
	out := f.set.Server(vc, st, srv.Config)
	if out.Action != Continue {
		return out, route.Match{Conf: srv.Conf}
	}
	for n := 0; ; n++ {
		m := srv.Location(vc.URI)
		if m.Regex {
			vc.Captures = m.Captures
		}
		if m.Redirect {
			return Outcome{Action: autoRedirect, Status: 301, Conf: m.Conf}, m
		}
		out = f.set.Location(vc, st, m)
		if out.Action != Search {
			return out, m
		}
		if n == 10 {
			return Outcome{Action: Fail, Status: 500, Conf: out.Conf}, m
		}
	}
}

func (f *fixture) eval(t testing.TB, vc *vars.Ctx, s string) string {
	t.Helper()
	tmpl, err := f.vc.Compile(s)
	if err != nil {
		t.Fatalf("compiling %q: %v", s, err)
	}
	return string(tmpl.Append(nil, vc))
}

// want is what a request should end with. Empty fields are not checked.
type want struct {
	action   Action
	status   int
	location string // Redirect's Location, or the return text's source
	loc      string // the path of the location searched last ("-": none)
	uri      string // $uri afterwards
	args     string // $args afterwards ("-": empty)
	vars     string // the template in evalVars, evaluated afterwards
	cut      bool   // NoLocationCut
	conf     string // "if" when an if block's configuration serves
	changed  string // "args" when set changed $args
}

func TestRun(t *testing.T) {
	const certbot = `server {
    if ($host = example.org) { return 301 https://$host$request_uri; }
    listen 80;
    server_name example.org example.com;
    return 404;
}`
	tests := []struct {
		name     string
		config   string
		req      req
		evalVars string
		want     want
	}{
		{"certbot redirect", certbot, req{uri: "/a?b=1", host: "example.org"}, "", want{action: Return, status: 301, location: "https://$host$request_uri"}},
		{"certbot 404", certbot, req{uri: "/a", host: "example.com"}, "", want{action: Return, status: 404}},
		{"rewrite break", `server { location /api/ { rewrite ^/api/(.*) /$1 break; proxy_pass http://127.0.0.1:1; } }`,
			req{uri: "/api/v1/x?q=1"}, "$1", want{action: Continue, loc: "/api/", uri: "/v1/x", args: "q=1", vars: "v1/x", cut: true}},
		{"rewrite last", `server { location /old/ { rewrite ^/old/(.*)$ /new/$1 last; return 403; } location /new/ { } }`,
			req{uri: "/old/a"}, "", want{action: Continue, loc: "/new/", uri: "/new/a"}},
		{"no flag goes on, then searches", `server { location /a/ { rewrite ^/a/(.*)$ /b/$1; set $x after; } location /b/ { } }`,
			req{uri: "/a/z"}, "$x", want{action: Continue, loc: "/b/", uri: "/b/z", vars: "after"}},
		{"break after rewrite", `server { location / { rewrite ^ /z; break; set $x no; } }`,
			req{uri: "/q"}, "[$x]", want{action: Continue, loc: "/", uri: "/z", vars: "[]", cut: true}},
		{"break without rewrite", `server { location / { break; } }`, req{uri: "/q"}, "", want{action: Continue, loc: "/", uri: "/q"}},
		{"cycle", `server { location / { rewrite ^(.*)$ /x$1 last; } }`,
			req{uri: "/"}, "", want{action: Fail, status: 500, uri: strings.Repeat("/x", 11) + "/"}},
		{"ten searches are allowed", `server { location / { rewrite ^/(\d)(.*)$ /$2 last; } }`,
			req{uri: "/0123456789"}, "", want{action: Continue, uri: "/"}},
		{"redirect keeps args", `server { location / { rewrite ^/r/(.*)$ /s/$1 redirect; } }`,
			req{uri: "/r/x?a=1"}, "", want{action: Redirect, status: 302, location: "/s/x?a=1"}},
		{"permanent with ? in the replacement", `server { location / { rewrite ^/r/(.*)$ /s?t=$1 permanent; } }`,
			req{uri: "/r/x?a=1"}, "", want{action: Redirect, status: 301, location: "/s?t=x&a=1"}},
		{"https redirect drops args", `server { rewrite ^ https://$host$request_uri? permanent; }`,
			req{uri: "/p?q=1"}, "", want{action: Redirect, status: 301, location: "https://example.com/p?q=1"}},
		{"scheme is a redirect", `server { location / { rewrite ^/(.*)$ $scheme://other/$1; } }`,
			req{uri: "/p"}, "", want{action: Redirect, status: 302, location: "http://other/p"}},
		{"args from the replacement", `server { location / { rewrite ^/q$ /r?b=2 break; } }`,
			req{uri: "/q?a=1"}, "", want{action: Continue, cut: true, uri: "/r", args: "b=2&a=1"}},
		{"args replaced", `server { location / { rewrite ^/q$ /r?b=2? break; } }`,
			req{uri: "/q?a=1"}, "", want{action: Continue, cut: true, uri: "/r", args: "b=2"}},
		{"args dropped", `server { location / { rewrite ^/q$ /r? break; } }`,
			req{uri: "/q?a=1"}, "", want{action: Continue, cut: true, uri: "/r", args: "-"}},
		{"captures escaped in args", `server { location / { rewrite ^/e/(.*)$ /f?v=$1 break; } }`,
			req{uri: "/e/a b&c", escape: true}, "", want{action: Continue, cut: true, uri: "/f", args: "v=a%20b%26c"}},
		{"captures raw in args without escapes", `server { location / { rewrite ^/e/(.*)$ /f?v=$1 break; } }`,
			req{uri: "/e/a&c"}, "", want{action: Continue, cut: true, uri: "/f", args: "v=a&c"}},
		{"redirect unescapes what it escaped", `server { location / { rewrite ^/u/(.*)$ /v/$1 redirect; } }`,
			req{uri: "/u/a b~", escape: true}, "", want{action: Redirect, status: 302, location: "/v/a%20b~"}},
		{"zero length", `server { location / { rewrite ^ $arg_x; } }`, req{uri: "/"}, "", want{action: Fail, status: 500}},
		{"if switches the configuration", `server { location / { if ($request_method = POST) { access_log off; } set $y 1; } }`,
			req{method: "POST", uri: "/"}, "$y", want{action: Continue, loc: "/", conf: "if", vars: "1"}},
		{"if not taken", `server { location / { if ($request_method = POST) { access_log off; } set $y 1; } }`,
			req{uri: "/"}, "$y", want{action: Continue, loc: "/", vars: "1"}},
		{"if captures", `server { location / { if ($uri ~ ^/(\w+)/(?<rest>.*)$) { set $a $1-$rest; } } }`,
			req{uri: "/ab/cd"}, "$a", want{action: Continue, conf: "if", vars: "ab-cd"}},
		{"failed test forgets captures", `server { location ~ ^/(.+)$ { if ($uri ~ zzz) { } set $a "[$1]"; } }`,
			req{uri: "/ab"}, "$a", want{action: Continue, vars: "[]"}},
		{"negated test", `server { location / { if ($uri !~* ^/A) { return 403; } } }`,
			req{uri: "/b"}, "", want{action: Return, conf: "if", status: 403}},
		{"negated test fails", `server { location / { if ($uri !~* ^/A) { return 403; } return 200 ok; } }`,
			req{uri: "/abc"}, "", want{action: Return, status: 200, location: "ok"}},
		{"variable truth", `server { location / { if ($arg_v) { return 403; } } }`,
			req{uri: "/?v=0"}, "", want{action: Continue}},
		{"variable truth set", `server { location / { if ($arg_v) { return 403; } } }`,
			req{uri: "/?v=00"}, "", want{action: Return, conf: "if", status: 403}},
		{"not equal", `server { set $d x.org; location / { if ($host != $d) { set $u 0; } } }`,
			req{uri: "/"}, "$u", want{action: Continue, conf: "if", vars: "0"}},
		{"server phase once", `server { set $n "${n}a"; location /x/ { } }`,
			req{uri: "/"}, "$n", want{action: Continue, loc: "-", vars: "a"}},
		{"set $args", `server { location / { set $args z=1; } }`, req{uri: "/?a=1"}, "", want{action: Continue, args: "z=1", changed: "args"}},
		{"first return wins", `server { location / { return 404; return 200; } }`, req{uri: "/"}, "", want{action: Return, status: 404}},
		{"auto redirect", `server { location /p/ { proxy_pass http://127.0.0.1:1; } location / { rewrite ^/q$ /p last; } }`,
			req{uri: "/q"}, "", want{action: autoRedirect, status: 301, loc: "/p/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := build(t, tt.config)
			out, vc, st := f.run(t, tt.req, nil)
			w := tt.want
			if out.Action != w.action {
				t.Errorf("got action %d; want %d", out.Action, w.action)
			}
			if w.status != 0 && out.Status != w.status {
				t.Errorf("got status %d; want %d", out.Status, w.status)
			}
			if w.location != "" {
				got := string(out.Location)
				if out.Action == Return && out.Text != nil {
					got = out.Text.String()
				}
				if got != w.location {
					t.Errorf("got location/text %q; want %q", got, w.location)
				}
			}
			switch {
			case w.loc == "-" && f.last.Location != nil:
				t.Errorf("got location %q; want none", f.last.Location.Path)
			case w.loc != "" && w.loc != "-" && (f.last.Location == nil || f.last.Location.Path != w.loc):
				t.Errorf("got location %+v; want %q", f.last.Location, w.loc)
			}
			if w.uri != "" && vc.URI != w.uri {
				t.Errorf("got $uri %q; want %q", vc.URI, w.uri)
			}
			if w.args == "-" && vc.Args != "" || w.args != "" && w.args != "-" && vc.Args != w.args {
				t.Errorf("got $args %q; want %q", vc.Args, w.args)
			}
			if tt.evalVars != "" {
				if got := f.eval(t, vc, tt.evalVars); got != w.vars {
					t.Errorf("got %s = %q; want %q", tt.evalVars, got, w.vars)
				}
			}
			if st.ArgsChanged != (w.changed == "args") {
				t.Errorf("got ArgsChanged %t; want %t", st.ArgsChanged, w.changed == "args")
			}
			if st.NoLocationCut != w.cut {
				t.Errorf("got NoLocationCut %t; want %t", st.NoLocationCut, w.cut)
			}
			isIf := f.last.Location != nil && out.Conf != f.last.Conf
			if isIf != (w.conf == "if") {
				t.Errorf("got an if block's configuration: %t; want %t", isIf, w.conf == "if")
			}
		})
	}
}

// TestIfLastMatchWins is "if is evil": two blocks that match both run,
// and the request is served with the last one's configuration only.
func TestIfLastMatchWins(t *testing.T) {
	f := build(t, `server { location / {
        proxy_pass http://127.0.0.1:1;
        if ($arg_a) { access_log off; }
        if ($arg_b) { proxy_pass http://127.0.0.1:2; }
    } }`)
	out, _, _ := f.run(t, req{uri: "/?a=1&b=1"}, nil)
	loc := f.spec.HTTP.Servers[0].Locations[0]
	second := loc.Rewrite[1].If.Conf
	if out.Conf != second {
		t.Fatalf("got conf %p; want the second if's %p", out.Conf, second)
	}
	if out.Conf.AccessLogOff {
		t.Error("the first if's access_log off applies; want only the second's settings")
	}
	if out.Conf.ProxyPass.Port != "2" {
		t.Errorf("got proxy_pass %q; want the second if's", out.Conf.ProxyPass.Raw)
	}
}

// TestFileTests checks -f, -d, -e, -x and their negations on real files.
func TestFileTests(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	exe := filepath.Join(dir, "x")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"-f " + file, true}, {"-f " + dir, false}, {"!-f " + dir, true},
		{"-d " + dir, true}, {"-d " + file, false}, {"!-d " + file, true},
		{"-e " + file, true}, {"-e " + dir, true}, {"-e " + dir + "/none", false}, {"!-e " + dir + "/none", true},
		{"-e " + file + "/under", false},
		{"-x " + exe, true}, {"-x " + file, false}, {"!-x " + file, true},
		{"-f $arg_p", true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			f := build(t, "server { location / { if ("+tt.cond+") { return 204; } } }")
			out, _, _ := f.run(t, req{uri: "/?p=" + file}, nil)
			if got := out.Action == Return; got != tt.want {
				t.Errorf("got %t; want %t", got, tt.want)
			}
		})
	}
}

// TestUninitializedAndLog checks the warning hook for a set variable read
// before any set, and rewrite_log's notices.
func TestUninitializedAndLog(t *testing.T) {
	f := build(t, `server { location / { rewrite_log on; set $a "<$b>"; set $b x; rewrite ^/(.*)$ /$1/ break; } }`)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var warned []string
	path, _, _ := strings.Cut("/p", "?")
	srv, _ := f.routes.Server("0.0.0.0:80", "h")
	vc := &vars.Ctx{URI: path, Uninitialized: func(n string) { warned = append(warned, n) }}
	st := &State{Log: log}
	f.serve(vc, st, srv)
	if got := f.eval(t, vc, "$a|$b"); got != "<>|x" {
		t.Errorf("got %q; want %q", got, "<>|x")
	}
	if len(warned) != 1 || warned[0] != "b" {
		t.Errorf("warned for %q; want [b]", warned)
	}
	for _, w := range []string{`\"^/(.*)$\" matches \"/p\"`, `rewritten data: \"/p/\", args: \"\"`} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("log %q lacks %q", buf.String(), w)
		}
	}
}

// TestCompileErrors checks that what only compiling finds is reported at
// the directive, with nginx's words.
func TestCompileErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{`server { location / { rewrite ^ /$nosuch; } }`, `rewrite: unknown "nosuch" variable`},
		{`server { location / { if ($nosuch) { } } }`, `if: unknown "nosuch" variable`},
		{`server { location / { if ($uri = $nosuch) { } } }`, `if: unknown "nosuch" variable`},
		{`server { location / { set $a $nosuch; } }`, `set: unknown "nosuch" variable`},
		{`server { location / { return 200 $nosuch; } }`, `return: unknown "nosuch" variable`},
		{`server { set $uri x; }`, `the duplicate "uri" variable`},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			text := "events {}\nhttp {\n" + tt.config + "\n}\n"
			ast, errs := config.ParseFile("/t/nginx.conf", config.ParseOptions{ReadFile: func(string) ([]byte, error) { return []byte(text), nil }})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			spec, errs := config.Check(ast)
			if len(errs) > 0 {
				t.Fatalf("checking: %v", errs)
			}
			_, err := compileFixture(spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "/t/nginx.conf:3:") {
				t.Errorf("got %v; want %q at line 3", err, tt.want)
			}
		})
	}
}

// TestUnescapeRedirect pins ngx_unescape_uri with NGX_UNESCAPE_REDIRECT,
// including what nginx answered for /perm/a%20b+c%41%3F?q in the
// rw_redirects case.
func TestUnescapeRedirect(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/new/a%20b%2BcA%3F", "/new/a%20b+cA?"},
		{"/a%3Fb%41?c%41", "/a?b%41?c%41"},
		{"/a?%41", "/a?%41"},
		{"/%41%7e%7F%25%26", "/A~%7F%25&"},
		{"/%zz", "/zz"},
		{"/%4z", "/"},
		{"/%4", "/"},
		{"/%", "/"},
		{"/%2f%2F", "///"},
	}
	for _, tt := range tests {
		if got := string(unescapeRedirect([]byte(tt.in))); got != tt.want {
			t.Errorf("unescapeRedirect(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestRunAllocs pins the cost of the phases for the common requests: none
// for a location without rewrite directives, with a set of a literal, an
// if on a header, or a regex test that does not match.
func TestRunAllocs(t *testing.T) {
	f := build(t, `server {
        location /plain/ { proxy_pass http://127.0.0.1:1; }
        location /set/ { set $up 127.0.0.1:1; if ($http_upgrade) { set $up 127.0.0.1:2; } proxy_pass http://$up; }
        location /re/ { if ($uri ~ ^/re/admin/(.*)) { return 403; } proxy_pass http://127.0.0.1:1; }
    }`)
	srv, _ := f.routes.Server("0.0.0.0:80", "h")
	for _, uri := range []string{"/plain/x", "/set/x", "/re/x"} {
		vc := &vars.Ctx{URI: uri}
		st := &State{}
		f.serve(vc, st, srv) // the first run sizes the State's buffer and the set slots
		n := testing.AllocsPerRun(100, func() {
			vc.URI = uri
			st.Reset()
			f.serve(vc, st, srv)
		})
		if n != 0 {
			t.Errorf("%s: got %v allocations per request; want 0", uri, n)
		}
	}
}
