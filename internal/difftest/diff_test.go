package difftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
)

const caseDir = "../../testdata/diff"

func needNginx(t *testing.T) {
	t.Helper()
	proxytest.NeedNginx(t)
}

// secondTarget is wsgate when WSGATE_BIN names a binary, else a second
// nginx (which proves the harness itself: two nginx runs must agree).
func secondTarget() Target {
	if bin := os.Getenv("WSGATE_BIN"); bin != "" {
		return WsgateTarget{Bin: bin}
	}
	return NginxTarget{Label: "nginx#2"}
}

// TestCases runs every case against nginx and the second target, checks
// nginx against the values the case states, and compares the two.
func TestCases(t *testing.T) {
	needNginx(t)
	cases, err := LoadCases(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 150 {
		t.Errorf("got %d cases; want at least 150", len(cases))
	}
	ref, other := NginxTarget{}, secondTarget()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			e := StartBackends(t, c)
			ra := Run(t, c, e, ref)
			for _, m := range Check(c, e, ref, ra) {
				t.Errorf("%s", m.Format())
			}
			if rej, ok := c.RejectedBy(other.Name()); ok {
				ct, can := other.(ConfigTester)
				if !can {
					t.Fatalf("case expects %s to reject its configuration, and %s cannot test one", other.Name(), other.Name())
				}
				accepted, out := ct.TestConfig(t, WriteConfig(t, c, e, t.TempDir(), "127.0.0.1:1"))
				if accepted || !strings.Contains(out, rej.Contains) {
					t.Errorf("%s -t: got accepted=%v, output %q; want a rejection (%s) saying %q", other.Name(), accepted, out, rej.Reason, rej.Contains)
				}
				return
			}
			for _, r := range c.Requests {
				for i, d := range r.Diffs {
					if d.Value != nil {
						v := e.Render(*d.Value)
						r.Diffs[i].Value = &v
					}
				}
			}
			rb := Run(t, c, e, other)
			for _, m := range Compare(c, ref, other, ra, rb) {
				t.Errorf("%s", m.Format())
			}
		})
	}
}

// mutated is nginx run on a config with extra http-level directives: a
// target that must be found to differ.
type mutated struct {
	NginxTarget
	extra string
}

func (m mutated) Name() string { return "mutated" }

func (m mutated) Start(t testing.TB, confPath string) (string, func()) {
	data, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "http {\n", "http {\n"+m.extra+"\n", 1)
	p := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return m.NginxTarget.Start(t, p)
}

const probeCase = `A proxied GET and a return.
=== config
server {
    listen {{listen}};
    location /p { proxy_pass http://{{backend:app}}; }
    location /r { return 200 "r\n"; }
}
=== backend app
=== request get
GET /p?x=1 HTTP/1.1
Host: example.com

=== upstream get
@app
GET /p?x=1 HTTP/1.0
Host: {{backend:app}}
Connection: close
=== response get
HTTP/1.1 200 OK
Content-Type: text/plain
Content-Length: 6
Connection: keep-alive

hello\n
=== request ret
GET /r HTTP/1.1
Host: example.com

=== response ret match=contains
HTTP/1.1 200 OK
Content-Length: 2
[conn: open]
`

// TestHarnessFindsDifferences proves that Compare reports a difference in
// what reaches the backend and in the response, and that expect-diff turns
// a stated difference into the assertion.
func TestHarnessFindsDifferences(t *testing.T) {
	needNginx(t)
	c, err := ParseCase("probe", []byte(probeCase))
	if err != nil {
		t.Fatal(err)
	}
	e := StartBackends(t, c)
	ref := NginxTarget{}
	ra := Run(t, c, e, ref)
	if ms := Check(c, e, ref, ra); len(ms) != 0 {
		for _, m := range ms {
			t.Errorf("%s", m.Format())
		}
	}
	mut := mutated{extra: "    proxy_set_header X-Injected 1;\n    add_header X-Added 1;"}
	rb := Run(t, c, e, mut)
	ms := Compare(c, ref, mut, ra, rb)
	got := map[string]bool{}
	for _, m := range ms {
		got[m.Request+"/"+m.Part] = true
	}
	for _, want := range []string{"get/upstream", "get/headers", "ret/headers"} {
		if !got[want] {
			t.Errorf("no mismatch reported for %s; got %v", want, got)
		}
	}
	if len(ms) != 3 {
		t.Errorf("got %d mismatches; want 3", len(ms))
	}
	if s := ms[0].Format(); !strings.Contains(s, "| ") || !strings.Contains(s, "[mutated]") {
		t.Errorf("mismatch not shown side by side:\n%s", s)
	}

	// Declared, the same differences are what is asserted.
	c.Requests[0].Diffs = []ExpectDiff{
		{Part: "upstream", Target: "mutated", Reason: "adds X-Injected"},
		{Part: "headers", Target: "mutated", Reason: "adds X-Added"},
	}
	val := "Content-Type: text/plain\nContent-Length: 2\nConnection: keep-alive\nX-Added: 1"
	c.Requests[1].Diffs = []ExpectDiff{{Part: "headers", Target: "mutated", Reason: "adds X-Added", Value: &val}}
	if ms := Compare(c, ref, mut, ra, rb); len(ms) != 0 {
		for _, m := range ms {
			t.Errorf("declared difference still reported: %s", m.Format())
		}
	}
	// And a declared difference that does not happen is reported.
	if ms := Compare(c, ref, ref, ra, ra); len(ms) != 0 {
		t.Errorf("got %d mismatches comparing a run with itself; want 0", len(ms))
	}
	c.Requests[0].Diffs[0].Target = ref.Name()
	if ms := Compare(c, mut, ref, rb, rb); len(ms) != 1 || !strings.Contains(ms[0].What, "not observed") {
		t.Errorf("got %v; want one 'documented difference not observed'", ms)
	}
}

func TestParseCase(t *testing.T) {
	c, err := ParseCase("x", []byte("doc line\n=== config\nserver {}\n=== backend b\nHTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n=== request r conn=new tunnel=hi probe=10\nPOST / HTTP/1.0\nContent-Length: 3\n\nab\\x63\\\n\n=== request r2\nGET /\\r\\n\\\n=== expect-diff r2 body target=t\nbecause\n---\nvalue\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Doc != "doc line" || c.Config != "server {}" {
		t.Errorf("got doc %q config %q", c.Doc, c.Config)
	}
	if got, want := c.Backends[0].Response, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"; got != want {
		t.Errorf("backend response: got %q; want %q", got, want)
	}
	r := c.Requests[0]
	if got, want := r.Raw, "POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"; got != want {
		t.Errorf("request: got %q; want %q", got, want)
	}
	if !r.NewConn || r.Tunnel != "hi" || r.ProbeMS != 10 {
		t.Errorf("attributes: got %+v", r)
	}
	r2 := c.Requests[1]
	if r2.Raw != "GET /\r\n" || r2.NewConn {
		t.Errorf("request 2: got %q new=%v; want %q on the same connection", r2.Raw, r2.NewConn, "GET /\r\n")
	}
	if d := r2.Diffs; len(d) != 1 || d[0].Reason != "because" || d[0].Value == nil || *d[0].Value != "value" || d[0].Target != "t" {
		t.Errorf("expect-diff: got %+v", d)
	}
	for _, bad := range []string{
		"=== request r\nGET / HTTP/1.1\n",                             // no config
		"=== config\nx\n",                                             // no request
		"=== config\nx\n=== upstream r\n",                             // unknown request
		"=== config\nx\n=== request r\nA\\q\n",                        // bad escape
		"=== config\nx\n=== request r\nA\n=== expect-diff r x\nwhy\n", // bad part
		"=== config\nx\n=== request r\nA\n=== expect-diff r body\n",   // no reason
	} {
		if _, err := ParseCase("bad", []byte(bad)); err == nil {
			t.Errorf("ParseCase(%q) succeeded; want an error", bad)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "a\r\nb", "\x00\xff\\x", "tab\there"} {
		u, err := Unescape(Escape(s))
		if err != nil || u != s {
			t.Errorf("Unescape(Escape(%q)) = %q, %v; want the input", s, u, err)
		}
	}
}
