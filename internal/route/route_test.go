package route

import (
	"errors"
	"strings"
	"testing"

	"wsgate/internal/config"
)

// locs builds test locations and remembers a name for each.
type locs struct {
	name map[*config.Location]string
	line int
}

func newLocs() *locs { return &locs{name: make(map[*config.Location]string)} }

// L makes a location; proxied sets proxy_pass (which enables the auto
// redirect for names ending in "/").
func (b *locs) L(kind config.MatchKind, path, name string, proxied bool, nested ...*config.Location) *config.Location {
	b.line++
	l := &config.Location{Pos: config.Pos{File: "t.conf", Line: b.line, Col: 1}, Match: kind, Path: path, Locations: nested}
	if proxied {
		l.Conf.ProxyPass = &config.ProxyPass{Raw: "http://127.0.0.1:1", Scheme: "http", Host: "127.0.0.1", Port: "1"}
	}
	b.name[l] = name
	return l
}

const (
	pre   = config.MatchPrefix
	exact = config.MatchExact
	noRe  = config.MatchPrefixNoRe
	re    = config.MatchRegex
	reCI  = config.MatchRegexNoCase
)

// locationFixture is the location set shared by the table test, the
// differential test against nginx and the benchmark.
func locationFixture(b *locs) []*config.Location {
	return []*config.Location{
		b.L(exact, "/", "root-exact", false),
		b.L(pre, "/", "root", false),
		b.L(pre, "/ws/", "ws", true),
		b.L(pre, "/api", "api", false),
		b.L(pre, "/api/v1/", "api-v1", true),
		b.L(noRe, "/static/", "static", false),
		b.L(re, `\.(png|jpg)$`, "img", false),
		b.L(reCI, `^/IMG/(?P<name>\w+)`, "img-ci", false),
		b.L(pre, "/files/", "files", false,
			b.L(re, `\.txt$`, "files-txt", false),
			b.L(pre, "/files/deep/", "files-deep", false),
			b.L(exact, "/files/exact", "files-exact", false),
		),
		b.L(re, `^/files/(.*)\.pdf$`, "pdf", false),
		b.L(noRe, "/nore/", "nore", false,
			b.L(re, `\.png$`, "nore-png", false),
			b.L(pre, "/nore/sub/", "nore-sub", false),
			b.L(noRe, "/nore/stop/", "nore-stop", false),
		),
		b.L(exact, "/b/", "b-exact", true),
		b.L(pre, "/c/", "c", true),
		b.L(pre, "/c", "c-noslash", false),
		b.L(pre, "/d/", "d", true),
		b.L(re, `^/d$`, "d-re", false),
		b.L(re, `/re/`, "re", false,
			b.L(pre, "/re/x/", "re-x", true),
			b.L(re, `\.gif$`, "re-gif", false),
		),
		b.L(pre, "/p", "p", false),
		b.L(pre, "/p-q", "p-dash", false),
		b.L(pre, "/p/q", "p-slash", false),
		b.L(pre, "/p.q", "p-dot", false),
		b.L(exact, "/e", "e-exact", false),
		b.L(pre, "/e/", "e", true),
		b.L(re, `^/cap/(\d+)/(\w+)`, "cap", false),
		b.L(re, `^/nocap/`, "nocap", false),
	}
}

type locCase struct {
	uri      string
	want     string // location name, "" for none
	redirect bool
	cap1     string
}

var locCases = []locCase{
	{"/", "root-exact", false, ""},
	{"/x", "root", false, ""},
	{"/ws/", "ws", false, ""},
	{"/ws/chat", "ws", false, ""},
	{"/ws", "ws", true, ""},
	{"/wss", "root", false, ""},
	{"/api", "api", false, ""},
	{"/api/v", "api", false, ""},
	{"/api/v1", "api-v1", true, ""},
	{"/api/v1/x", "api-v1", false, ""},
	{"/api/v1/x.png", "img", false, "png"},
	{"/static/x.png", "static", false, ""},
	{"/static", "root", false, ""},
	{"/IMG/Foo", "img-ci", false, "Foo"},
	{"/img/foo", "img-ci", false, "foo"},
	{"/files/a", "files", false, ""},
	{"/files/a.txt", "files-txt", false, ""},
	{"/files/deep/a", "files-deep", false, ""},
	{"/files/deep/a.txt", "files-txt", false, ""},
	{"/files/exact", "files-exact", false, ""},
	{"/files/deep/x.pdf", "pdf", false, "deep/x"},
	{"/files/x.pdf", "pdf", false, "x"},
	{"/nore/a.png", "nore-png", false, ""},
	{"/nore/sub/a.png", "nore-png", false, ""},
	{"/nore/sub/a", "nore-sub", false, ""},
	{"/nore/stop/a.png", "nore-stop", false, ""},
	{"/nore/a.pdf", "nore", false, ""},
	{"/b", "b-exact", true, ""},
	{"/b/", "b-exact", false, ""},
	{"/b/x", "root", false, ""},
	{"/c", "c-noslash", false, ""},
	{"/c/", "c", false, ""},
	{"/cx", "c-noslash", false, ""},
	{"/d", "d", true, ""},
	{"/d/", "d", false, ""},
	{"/re/a", "re", false, ""},
	{"/re/x/a", "re", false, ""}, // no static tree inside a regex location
	{"/re/x", "re", false, ""},
	{"/re/x/a.gif", "re-gif", false, ""},
	{"/p", "p", false, ""},
	{"/p-q", "p-dash", false, ""},
	{"/p-qr", "p-dash", false, ""},
	{"/p/q", "p-slash", false, ""},
	{"/p/qq", "p-slash", false, ""},
	{"/p.q", "p-dot", false, ""},
	{"/p.", "p", false, ""},
	{"/p/", "p", false, ""},
	{"/e", "e-exact", false, ""},
	{"/e/", "e", false, ""},
	{"/cap/12/ab", "cap", false, "12"},
	{"/nocap/x", "nocap", false, ""},
	{"/z.jpg", "img", false, "jpg"},
}

func buildFixture(t testing.TB) (*Server, *locs) {
	t.Helper()
	b := newLocs()
	h := &config.HTTP{Servers: []*config.Server{{
		Listens:   []config.Listen{{Addr: "127.0.0.1:8080"}},
		Names:     []config.ServerName{{Kind: config.NameExact, Name: "example.com"}},
		Locations: locationFixture(b),
	}}}
	tab, err := Build(h)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	s, _ := tab.Server("127.0.0.1:8080", "example.com")
	if s == nil {
		t.Fatal("no server")
	}
	return s, b
}

func TestLocation(t *testing.T) {
	s, b := buildFixture(t)
	for _, tc := range locCases {
		t.Run(tc.uri, func(t *testing.T) {
			m := s.Location(tc.uri)
			got := b.name[m.Location]
			if got != tc.want || m.Redirect != tc.redirect {
				t.Fatalf("got %q redirect=%v; want %q redirect=%v", got, m.Redirect, tc.want, tc.redirect)
			}
			if m.Location == nil && m.Conf != s.Conf || m.Location != nil && m.Conf != &m.Location.Conf {
				t.Errorf("got Conf %p; want the matched level's", m.Conf)
			}
			if g := m.Captures.Group(1); g != tc.cap1 {
				t.Errorf("got $1 %q; want %q", g, tc.cap1)
			}
		})
	}
}

func TestLocationNone(t *testing.T) {
	b := newLocs()
	h := &config.HTTP{Servers: []*config.Server{{
		Listens:   []config.Listen{{Addr: "0.0.0.0:80"}},
		Locations: []*config.Location{b.L(pre, "/a/", "a", true), b.L(exact, "/x", "x", false)},
	}}}
	tab, err := Build(h)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := tab.Server("0.0.0.0:80", "")
	for _, tc := range []struct {
		uri  string
		want string
	}{{"/", ""}, {"/b", ""}, {"/x", "x"}, {"/xy", ""}, {"/a/z", "a"}} {
		t.Run(tc.uri, func(t *testing.T) {
			m := s.Location(tc.uri)
			if got := b.name[m.Location]; got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
			if m.Location == nil && m.Conf != &h.Servers[0].Conf {
				t.Fatalf("got Conf %p; want the server's", m.Conf)
			}
		})
	}
}

// TestNamedLocation checks that named locations are found by name only,
// the first of a name winning, and never by a URI.
func TestNamedLocation(t *testing.T) {
	b := newLocs()
	fb, dup := b.L(config.MatchNamed, "@fb", "fb", true), b.L(config.MatchNamed, "@fb", "dup", false)
	other := b.L(config.MatchNamed, "@other", "other", false)
	h := &config.HTTP{Servers: []*config.Server{{
		Listens:   []config.Listen{{Addr: "0.0.0.0:80"}},
		Locations: []*config.Location{b.L(pre, "/a/", "a", false)},
		Named:     []*config.Location{fb, dup, other},
	}}}
	tab, err := Build(h)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := tab.Server("0.0.0.0:80", "")
	for _, tc := range []struct {
		name string
		want *config.Location
	}{{"@fb", fb}, {"@other", other}, {"@FB", nil}, {"@f", nil}, {"fb", nil}, {"", nil}} {
		if got := s.Named(tc.name); got != tc.want {
			t.Errorf("Named(%q): got %p; want %p", tc.name, got, tc.want)
		}
	}
	for _, uri := range []string{"@fb", "/@fb", "/", "/fb"} {
		if m := s.Location(uri); m.Location != nil {
			t.Errorf("Location(%q): got %q; want no location", uri, b.name[m.Location])
		}
	}
}

func TestNamedCapture(t *testing.T) {
	s, _ := buildFixture(t)
	m := s.Location("/IMG/Abc")
	if v, ok := m.Captures.Named("name"); !ok || v != "Abc" {
		t.Fatalf("got %q %v; want \"Abc\" true", v, ok)
	}
	if _, ok := m.Captures.Named("nope"); ok {
		t.Fatal("got a group named nope; want none")
	}
	if !m.Regex {
		t.Fatal("got Regex false; want true")
	}
	if m := s.Location("/nocap/x"); !m.Regex || m.Captures.Len() != 0 {
		t.Fatalf("got Regex %v with %d groups; want true with 0 (a match without groups resets $1)", m.Regex, m.Captures.Len())
	}
	if m := s.Location("/ws/"); m.Regex {
		t.Fatal("got Regex true for a prefix match; want false")
	}
}

func TestAppendRedirect(t *testing.T) {
	b := newLocs()
	l := b.L(pre, "/a b/", "x", true)
	m := Match{Location: l, Redirect: true}
	for _, tc := range []struct{ args, want string }{
		{"", "/a%20b/"},
		{"x=1", "/a%20b/?x=1"},
	} {
		if got := string(m.AppendRedirect(nil, tc.args)); got != tc.want {
			t.Errorf("got %q; want %q", got, tc.want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	b := newLocs()
	tests := []struct {
		desc string
		h    *config.HTTP
		want string
	}{
		{"duplicate prefix", &config.HTTP{Servers: []*config.Server{{
			Locations: []*config.Location{b.L(pre, "/a", "1", false), b.L(pre, "/a", "2", false)},
		}}}, `duplicate location "/a"`},
		{"duplicate exact", &config.HTTP{Servers: []*config.Server{{
			Locations: []*config.Location{b.L(exact, "/a", "1", false), b.L(exact, "/a", "2", false)},
		}}}, `duplicate location "/a"`},
		{"bad regex", &config.HTTP{Servers: []*config.Server{{
			Locations: []*config.Location{b.L(re, "(", "1", false)},
		}}}, `compiling location regex "("`},
		{"bad server regex", &config.HTTP{Servers: []*config.Server{{
			Names: []config.ServerName{{Kind: config.NameRegex, Name: "("}},
		}}}, `compiling server name regex "("`},
		{"two defaults", &config.HTTP{Servers: []*config.Server{
			{Listens: []config.Listen{{Addr: "0.0.0.0:80", DefaultServer: true}}},
			{Listens: []config.Listen{{Addr: "0.0.0.0:80", DefaultServer: true}}},
		}}, "a duplicate default server for 0.0.0.0:80"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Build(tc.h)
			var el config.ErrorList
			if !errors.As(err, &el) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an ErrorList containing %q", err, tc.want)
			}
		})
	}
	// An exact and a prefix location of the same name are not duplicates.
	if _, err := Build(&config.HTTP{Servers: []*config.Server{{
		Locations: []*config.Location{b.L(exact, "/a", "1", false), b.L(pre, "/a", "2", false)},
	}}}); err != nil {
		t.Fatalf("got %v; want nil", err)
	}
}

func TestCaptureNames(t *testing.T) {
	b := newLocs()
	h := &config.HTTP{Servers: []*config.Server{{
		Names: []config.ServerName{sn(config.NameRegex, `^(?P<sub>\w+)\.x$`, false)},
		Locations: []*config.Location{
			b.L(pre, "/a/", "a", false, b.L(re, `^/a/(?P<inner>\w+)`, "in", false)),
			b.L(re, `^/(?P<top>\w+)/(?P<sub>\w+)`, "top", false),
		},
	}}}
	tab, err := Build(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tab.CaptureNames(), " "), "sub top inner"; got != want {
		t.Fatalf("got %q; want %q", got, want)
	}
}

// BenchmarkLocation looks up URIs in a server with 50 locations: prefix
// matches, an exact match, a regex without groups and one with groups.
func BenchmarkLocation(b *testing.B) {
	lb := newLocs()
	ls := locationFixture(lb)
	for i := len(ls); i < 50; i++ {
		ls = append(ls, lb.L(pre, "/svc"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"/", "svc", true))
	}
	tab, err := Build(&config.HTTP{Servers: []*config.Server{{Locations: ls}}})
	if err != nil {
		b.Fatal(err)
	}
	s := tab.Default("0.0.0.0:80")
	for _, uri := range []string{"/ws/chat", "/files/deep/a", "/", "/static/x.png", "/z.jpg", "/cap/12/ab"} {
		b.Run(uri, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Location(uri)
			}
		})
	}
}
