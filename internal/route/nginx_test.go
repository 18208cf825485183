package route

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
)

// These tests run the real nginx on a loopback port with the same servers
// and locations, every location answering `return 200 "loc=NAME $1"`, and
// compare its choice with ours. They skip when nginx is not installed.

// rawGet sends one request with the given raw head lines and returns the
// status code, the Location header and the body.
func rawGet(t *testing.T, port int, target string, headers ...string) (int, string, string) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	proto := "HTTP/1.1"
	if len(headers) == 0 {
		proto = "HTTP/1.0"
	}
	req := "GET " + target + " " + proto + "\r\n" + strings.Join(append(headers, "Connection: close"), "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var status int
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading status: %v", err)
	}
	fmt.Sscanf(line, "HTTP/1.1 %d", &status)
	var location string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading header: %v", err)
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "location") {
			location = strings.TrimSpace(v)
		}
	}
	body, _ := io.ReadAll(br)
	return status, location, string(body)
}

func nginxPattern(p string) string { return strings.ReplaceAll(p, "(?P<", "(?<") }

func renderLocation(b *strings.Builder, l *config.Location, names map[*config.Location]string, indent string) {
	fmt.Fprintf(b, "%slocation %s %s {\n", indent, l.Match, nginxPattern(l.Path))
	if l.Conf.ProxyPass != nil {
		fmt.Fprintf(b, "%s  proxy_pass %s;\n", indent, l.Conf.ProxyPass.Raw)
	}
	fmt.Fprintf(b, "%s  return 200 \"loc=%s $1\\n\";\n", indent, names[l])
	for _, n := range l.Locations {
		renderLocation(b, n, names, indent+"  ")
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

func TestLocationAgainstNginx(t *testing.T) {
	port := proxytest.FreePort(t)
	b := newLocs()
	ls := locationFixture(b)
	var conf strings.Builder
	fmt.Fprintf(&conf, "server {\n listen 127.0.0.1:%d;\n server_name example.com;\n", port)
	for _, l := range ls {
		renderLocation(&conf, l, b.name, " ")
	}
	conf.WriteString("}\n")
	proxytest.StartNginx(t, proxytest.NginxHTTP(conf.String()))

	h := &config.HTTP{Servers: []*config.Server{{
		Listens:   []config.Listen{{Addr: fmt.Sprintf("127.0.0.1:%d", port)}},
		Locations: ls,
	}}}
	tab, err := Build(h)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := tab.Server(fmt.Sprintf("127.0.0.1:%d", port), "example.com")
	uris := []string{"/nothing/here", "/ws/x/y", "/api/", "/apix", "/files", "/files/", "/filesx",
		"/nore", "/nore/", "/IMG", "/Img/x.PNG", "/files/deep/", "/p-", "/p/", "/p.qq", "/p0", "/e0"}
	for _, tc := range locCases {
		uris = append(uris, tc.uri)
	}
	for _, uri := range uris {
		t.Run(uri, func(t *testing.T) {
			status, loc, body := rawGet(t, port, uri+"?a=1", "Host: example.com")
			m := s.Location(uri)
			var want string
			switch {
			case status == 301:
				want = "301 " + loc
			case status == 200:
				want = strings.TrimSuffix(body, "\n")
			default:
				want = fmt.Sprint(status)
			}
			var got string
			switch {
			case m.Redirect:
				got = fmt.Sprintf("301 http://example.com:%d%s", port, m.AppendRedirect(nil, "a=1"))
			case m.Location != nil:
				got = "loc=" + b.name[m.Location] + " " + m.Captures.Group(1)
			default:
				got = "404"
			}
			if got != want {
				t.Fatalf("got %q; want %q (nginx)", got, want)
			}
		})
	}
}
