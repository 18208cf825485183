package errorpage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// pagesOf checks an http block with one server and compiles the error
// pages of its location path ("" for the server level).
func pagesOf(t *testing.T, server string) func(path string) *Pages {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.conf")
	if err := os.WriteFile(path, []byte("events {}\nhttp { server { "+server+" } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, errs := config.Load(path, config.ParseOptions{})
	if len(errs) > 0 {
		t.Fatalf("checking: %v", errs)
	}
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := spec.HTTP.Servers[0]
	return func(path string) *Pages {
		lc := &srv.Conf
		for _, l := range append(srv.Locations, srv.Named...) {
			if l.Path == path {
				lc = &l.Conf
			}
		}
		var errs config.ErrorList
		p := Compile(lc, vc, &errs)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return p
	}
}

// TestAct pins ngx_http_send_error_page: the action for each kind of
// target, and the status the answer carries.
func TestAct(t *testing.T) {
	pages := pagesOf(t, `
		error_page 404 /404.html;
		error_page 500 /err?code=500&x;
		error_page 502 = @backend;
		error_page 503 =200 /maint$uri?u=$uri;
		error_page 504 =0 /to;
		error_page 403 http://example.com/forbidden;
		error_page 401 =301 https://$host/login;
		error_page 400 =204 http://example.com/;
		error_page 497 https://$host$request_uri;
	`)("")
	tests := []struct {
		name   string
		status int
		method string
		want   Action
		carry  int // State.Status after Act
	}{
		{"uri keeps the status", 404, "POST", Action{Kind: Internal, URI: "/404.html", GET: true}, 404},
		{"HEAD stays HEAD", 404, "HEAD", Action{Kind: Internal, URI: "/404.html"}, 404},
		{"literal args", 500, "GET", Action{Kind: Internal, URI: "/err", Args: "code=500&x", GET: true}, 500},
		{"named keeps the method", 502, "POST", Action{Kind: Named, Name: "@backend"}, 0},
		{"=code with variables split per request", 503, "GET", Action{Kind: Internal, URI: "/maint/a%20b", Args: "u=/a%20b", GET: true}, 200},
		{"=0 is =", 504, "GET", Action{Kind: Internal, URI: "/to", GET: true}, 0},
		{"url is a 302", 403, "GET", Action{Kind: Redirect, Location: []byte("http://example.com/forbidden"), Status: 302}, 302},
		{"=301 url", 401, "GET", Action{Kind: Redirect, Location: []byte("https://h.example/login"), Status: 301}, 301},
		{"=204 url is a 302", 400, "GET", Action{Kind: Redirect, Location: []byte("http://example.com/"), Status: 302}, 302},
		{"497 is answered 400, so a 302", 497, "GET", Action{Kind: Redirect, Location: []byte("https://h.example/a%20b?q"), Status: 302}, 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			pg, ok := st.Find(pages, tt.status, true)
			if !ok {
				t.Fatalf("Find(%d): got no page", tt.status)
			}
			vc := &vars.Ctx{Method: tt.method, URI: "/a%20b", RequestURI: "/a%20b?q", Host: "h.example"}
			got, _ := pg.Act(&st, tt.status, tt.method, vc, make([]byte, 0, 64))
			if got.Kind != tt.want.Kind || got.URI != tt.want.URI || got.Args != tt.want.Args || got.GET != tt.want.GET ||
				got.Name != tt.want.Name || string(got.Location) != string(tt.want.Location) || got.Status != tt.want.Status {
				t.Errorf("got %+v (Location %q); want %+v (Location %q)", got, got.Location, tt.want, tt.want.Location)
			}
			if st.Status != tt.carry {
				t.Errorf("answer carries %d; want %d", st.Status, tt.carry)
			}
		})
	}
}

// TestFind pins ngx_http_special_response_handler's choice over a
// request's errors: once per request without recursive_error_pages (even
// when the first error had no page), again where it is on, none after
// the request ran out of redirects, the first page of a code.
func TestFind(t *testing.T) {
	pages := pagesOf(t, `
		location /plain { error_page 404 /a; error_page 404 /b; error_page 500 /c; }
		location /rec { recursive_error_pages on; error_page 404 /a; }
		location /none { }
	`)
	plain, rec, none := pages("/plain"), pages("/rec"), pages("/none")
	if none != nil {
		t.Fatalf("a location without error_page: got %+v; want nil Pages", none)
	}
	type step struct {
		p      *Pages
		status int
		left   bool
		want   string // the page's literal target, "" for none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first of a code", []step{{plain, 404, true, "/a"}}},
		{"once", []step{{plain, 404, true, "/a"}, {plain, 500, true, ""}}},
		{"a miss uses it up", []step{{plain, 403, true, ""}, {plain, 404, true, ""}}},
		{"recursive", []step{{rec, 404, true, "/a"}, {rec, 404, true, "/a"}, {plain, 500, true, "/c"}, {rec, 404, true, ""}}},
		{"no redirects left", []step{{plain, 404, false, ""}, {plain, 404, true, "/a"}}},
		{"no pages", []step{{nil, 404, true, ""}, {plain, 404, true, "/a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			for i, s := range tt.steps {
				pg, ok := st.Find(s.p, s.status, s.left)
				got := ""
				if ok {
					got = pg.lit
				}
				if got != s.want {
					t.Errorf("step %d (%d): got page %q; want %q", i, s.status, got, s.want)
				}
			}
		})
	}
}

// TestIntercepts pins ngx_http_upstream_intercept_errors' test.
func TestIntercepts(t *testing.T) {
	pages := pagesOf(t, `
		location /on { proxy_intercept_errors on; error_page 404 502 /e; }
		location /off { error_page 404 /e; }
		location /nopages { proxy_intercept_errors on; }
	`)
	tests := []struct {
		path   string
		status int
		want   bool
	}{
		{"/on", 404, true}, {"/on", 502, true}, {"/on", 500, false}, {"/on", 200, false},
		{"/off", 404, false}, {"/nopages", 404, false},
	}
	for _, tt := range tests {
		if got := pages(tt.path).Intercepts(tt.status); got != tt.want {
			t.Errorf("%s %d: got %v; want %v", tt.path, tt.status, got, tt.want)
		}
	}
}

// TestCompileErrors checks that a target's unknown variable is reported.
func TestCompileErrors(t *testing.T) {
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	pos := config.Pos{File: "t.conf", Line: 3, Col: 20}
	lc := &config.LocConf{ErrorPages: []config.ErrorPage{{Pos: pos, Status: 404, Target: "/x$nosuch"}}}
	var errs config.ErrorList
	Compile(lc, vc, &errs)
	if len(errs) != 1 || errs[0].Pos.Line != pos.Line || errs[0].Pos.Col != pos.Col || !strings.Contains(errs[0].Msg, `unknown "nosuch" variable`) {
		t.Fatalf("got %v; want one error at %v about the unknown variable", errs, pos)
	}
}

// TestActAllocs checks that finding and acting on a page allocates
// nothing with a buffer that is large enough.
func TestActAllocs(t *testing.T) {
	pages := pagesOf(t, `error_page 404 /nf$uri?u=$uri; error_page 502 @b;`)("")
	vc := &vars.Ctx{Method: "GET", URI: "/x"}
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		for _, status := range []int{404, 502} {
			var st State
			pg, _ := st.Find(pages, status, true)
			_, buf = pg.Act(&st, status, "GET", vc, buf[:0])
		}
	})
	if n != 0 {
		t.Errorf("got %v allocations; want 0", n)
	}
}
