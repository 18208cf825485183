package route

import (
	"fmt"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
)

func sn(kind config.NameKind, name string, dot bool) config.ServerName {
	return config.ServerName{Kind: kind, Name: name, Dot: dot}
}

// serverFixture is shared by the table test and the nginx comparison.
func serverFixture(addr string) []*config.Server {
	l := []config.Listen{{Addr: addr}}
	ld := []config.Listen{{Addr: addr, DefaultServer: true}}
	return []*config.Server{
		{Listens: l, Names: []config.ServerName{sn(config.NameExact, "example.com", false), sn(config.NameExact, "www.example.com", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameWildStart, ".example.com", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameWildStart, ".example.org", true)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameWildEnd, "www.example.", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameRegex, `^(?P<sub>\w+)\.regex\.test$`, false), sn(config.NameRegex, `^(\d+)\.num\.`, false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameExact, "", false), sn(config.NameExact, "other.test", false)}},
		{Listens: ld, Names: []config.ServerName{sn(config.NameExact, "default.test", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameWildStart, ".a.example.com", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameWildEnd, "mail.", false), sn(config.NameWildEnd, "mail.x.", false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameRegex, `^WWW\.caps\.test$`, false)}},
		{Listens: l, Names: []config.ServerName{sn(config.NameExact, "example.com", false)}}, // conflicting: the first keeps it
	}
}

var hostCases = []struct {
	host string
	want int // index into serverFixture
	cap1 string
}{
	{"example.com", 0, ""},
	{"EXAMPLE.com.", 0, ""},
	{"www.example.com", 0, ""},
	{"foo.example.com", 1, ""},
	{"a.b.example.com", 1, ""},
	{"x.a.example.com", 7, ""},
	{"y.x.a.example.com", 7, ""},
	{"a.example.com", 1, ""},
	{"example.org", 2, ""},
	{"sub.example.org", 2, ""},
	{"www.example.net", 3, ""},
	{"www.example.co.uk", 3, ""},
	{"abc.regex.test", 4, "abc"},
	{"123.num.x", 4, "123"},
	{"other.test", 5, ""},
	{"default.test", 6, ""},
	{"unknown.host", 6, ""},
	{"mail.example.com", 1, ""},
	{"mail.example.net", 8, ""},
	{"mail.x.y", 8, ""},
	{"mail", 6, ""},
	{"www.caps.test", 9, ""},
	{"WwW.Caps.Test", 9, ""},
	{"127.0.0.1", 6, ""},
}

func TestServer(t *testing.T) {
	srvs := serverFixture("127.0.0.1:8080")
	tab, err := Build(&config.HTTP{Servers: srvs})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostCases {
		t.Run(tc.host, func(t *testing.T) {
			s, caps := tab.Server("127.0.0.1:8080", tc.host)
			if s == nil || s.Config != srvs[tc.want] {
				t.Fatalf("got %v; want server %d", s, tc.want)
			}
			if g := caps.Group(1); g != tc.cap1 {
				t.Errorf("got $1 %q; want %q", g, tc.cap1)
			}
		})
	}
	t.Run("regex named group", func(t *testing.T) {
		_, caps := tab.Server("127.0.0.1:8080", "abc.regex.test")
		if v, ok := caps.Named("sub"); !ok || v != "abc" {
			t.Fatalf("got %q %v; want \"abc\" true", v, ok)
		}
	})
	t.Run("empty host", func(t *testing.T) {
		// HTTP/1.0 without Host: the server with server_name "".
		if s, _ := tab.Server("127.0.0.1:8080", ""); s.Config != srvs[5] {
			t.Fatalf("got %v; want server 5", s)
		}
	})
	t.Run("unknown address", func(t *testing.T) {
		if s, _ := tab.Server("127.0.0.2:8080", "example.com"); s != nil {
			t.Fatalf("got %v; want nil", s)
		}
	})
}

func TestServerAddresses(t *testing.T) {
	a := &config.Server{Listens: []config.Listen{{Addr: "0.0.0.0:80", Wildcard: true}}, Names: []config.ServerName{sn(config.NameExact, "a", false)}}
	b := &config.Server{Listens: []config.Listen{{Addr: "127.0.0.1:80"}}, Names: []config.ServerName{sn(config.NameExact, "b", false)}}
	c := &config.Server{Listens: []config.Listen{{Addr: "[::]:80", Wildcard: true}, {Addr: "0.0.0.0:80", Wildcard: true, DefaultServer: true}}}
	d := &config.Server{} // no listen: *:80
	tab, err := Build(&config.HTTP{Servers: []*config.Server{a, b, c, d}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr, host string
		want       *config.Server
	}{
		{"0.0.0.0:80", "a", a},
		{"0.0.0.0:80", "zzz", c},  // default_server
		{"127.0.0.1:80", "a", b},  // the specific address has only b
		{"10.1.2.3:80", "a", a},   // a local address falls back to the wildcard
		{"[::]:80", "b", c},       // only c listens there
		{"[::1]:80", "x", c},      // v6 local address → [::]:80
		{"10.1.2.3:81", "a", nil}, // nothing on port 81
		{"0.0.0.0:80", "", c},     // c is the first with the implicit server_name ""
	}
	for _, tc := range tests {
		t.Run(tc.addr+" "+tc.host, func(t *testing.T) {
			s, _ := tab.Server(tc.addr, tc.host)
			if (s == nil) != (tc.want == nil) || s != nil && s.Config != tc.want {
				t.Fatalf("got %v; want %v", s, tc.want)
			}
		})
	}
	if got, want := strings.Join(tab.Addrs(), " "), "0.0.0.0:80 127.0.0.1:80 [::]:80"; got != want {
		t.Errorf("got Addrs %q; want %q", got, want)
	}
	if tab.Default("0.0.0.0:80").Config != c {
		t.Error("got wrong Default; want the default_server")
	}
}

func TestServerName(t *testing.T) {
	tests := []struct {
		names []config.ServerName
		want  string
	}{
		{nil, ""},
		{[]config.ServerName{sn(config.NameExact, "a.com", false)}, "a.com"},
		{[]config.ServerName{sn(config.NameWildStart, ".a.com", true)}, "a.com"},
		{[]config.ServerName{sn(config.NameWildStart, ".a.com", false)}, "*.a.com"},
		{[]config.ServerName{sn(config.NameWildEnd, "www.", false)}, "www.*"},
		{[]config.ServerName{sn(config.NameRegex, `^x$`, false)}, "~^x$"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			tab, err := Build(&config.HTTP{Servers: []*config.Server{{Names: tc.names}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := tab.Default("0.0.0.0:80").Name; got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
}

var validHostCases = []struct {
	in, want string
	ok       bool
}{
	{"example.com", "example.com", true},
	{"Example.COM:8080", "example.com", true},
	{"example.com.", "example.com", true},
	{"example.com.:80", "example.com", true},
	{"[::1]:80", "[::1]", true},
	{"[::1]", "[::1]", true},
	{"127.0.0.1:80", "127.0.0.1", true},
	{"exa..mple", "", false},
	{"a:1..2", "", false},
	{"a/b", "", false},
	{"a b", "", false},
	{"a\x7fb", "", false},
	{"a\tb", "", false},
	{"", "", false},
	{".", "", false},
	{":80", "", false},
	{"a\\b", "a\\b", true},
	{"ex\xc3\xa9.com", "ex\xc3\xa9.com", true},
	{".a", ".a", true},
}

func TestValidHost(t *testing.T) {
	for _, tc := range validHostCases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ValidHost(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %q %v; want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func renderName(n config.ServerName) string {
	switch n.Kind {
	case config.NameWildStart:
		if n.Dot {
			return n.Name
		}
		return "*" + n.Name
	case config.NameWildEnd:
		return n.Name + "*"
	case config.NameRegex:
		return "~" + nginxPattern(n.Name)
	}
	if n.Name == "" {
		return `""`
	}
	return n.Name
}

func TestServerAgainstNginx(t *testing.T) {
	port := proxytest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srvs := serverFixture(addr)
	var conf strings.Builder
	for i, s := range srvs {
		fmt.Fprintf(&conf, "server {\n listen %s", addr)
		if s.Listens[0].DefaultServer {
			conf.WriteString(" default_server")
		}
		conf.WriteString(";\n")
		if len(s.Names) > 0 {
			conf.WriteString(" server_name")
			for _, n := range s.Names {
				conf.WriteString(" " + renderName(n))
			}
			conf.WriteString(";\n")
		}
		fmt.Fprintf(&conf, " location / { return 200 \"srv=%d 1=$1 host=$host\\n\"; }\n}\n", i)
	}
	proxytest.StartNginx(t, proxytest.NginxHTTP(conf.String()))
	tab, err := Build(&config.HTTP{Servers: srvs})
	if err != nil {
		t.Fatal(err)
	}
	index := func(s *Server) int {
		for i, c := range srvs {
			if s.Config == c {
				return i
			}
		}
		return -1
	}
	hosts := []string{"", "Example.Com:80", "a..b", "a/b", "x.y.z"}
	for _, tc := range hostCases {
		hosts = append(hosts, tc.host)
	}
	for _, vc := range validHostCases {
		if !strings.ContainsAny(vc.in, " \t\x7f") && vc.in != "" {
			hosts = append(hosts, vc.in)
		}
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			var status int
			var body string
			if host == "" {
				status, _, body = rawGet(t, port, "/") // HTTP/1.0, no Host
			} else {
				status, _, body = rawGet(t, port, "/", "Host: "+host)
			}
			want := strings.TrimSuffix(body, "\n")
			if status != 200 {
				want = fmt.Sprint(status)
			}
			h, ok := "", true
			if host != "" {
				h, ok = ValidHost(host)
			}
			got := "400"
			if ok {
				s, caps := tab.Server(addr, h)
				hv := h
				if hv == "" {
					hv = s.Name
				}
				got = fmt.Sprintf("srv=%d 1=%s host=%s", index(s), caps.Group(1), hv)
			}
			if got != want {
				t.Fatalf("got %q; want %q (nginx)", got, want)
			}
		})
	}
}
