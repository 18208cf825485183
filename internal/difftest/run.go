package difftest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// ioTimeout bounds every read and write of a request exchange.
const ioTimeout = 10 * time.Second

// Env is the backends of one case, shared by every target run against it
// so that backend addresses (and so Host lines) are the same.
type Env struct {
	Backends map[string]*proxytest.Backend // nil for kind refused
	Addrs    map[string]string             // name → 127.0.0.1:PORT
	// Root is the document root holding the case's files ({{root}}).
	Root string
}

// fileTime is every case file's modification time.
var fileTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// writeFiles creates the case's files under e.Root.
func (e *Env) writeFiles(t testing.TB, c *Case) {
	t.Helper()
	for _, f := range c.Files {
		p := filepath.Join(e.Root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Path, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(f.Data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	filepath.Walk(e.Root, func(p string, _ os.FileInfo, _ error) error {
		os.Chtimes(p, fileTime, fileTime)
		return nil
	})
}

// StartBackends starts the case's backends.
func StartBackends(t testing.TB, c *Case) *Env {
	t.Helper()
	e := &Env{Backends: map[string]*proxytest.Backend{}, Addrs: map[string]string{}, Root: t.TempDir()}
	e.writeFiles(t, c)
	for _, b := range c.Backends {
		switch b.Kind {
		case "refused":
			e.Addrs[b.Name] = proxytest.FreeAddr(t)
		case "garbage":
			be := proxytest.NewGarbage(t, nil)
			e.Backends[b.Name], e.Addrs[b.Name] = be, be.Addr
		case "silent":
			be := proxytest.NewSlow(t, 0, "")
			e.Backends[b.Name], e.Addrs[b.Name] = be, be.Addr
		case "once":
			be := proxytest.NewGarbage(t, []byte(b.Response))
			e.Backends[b.Name], e.Addrs[b.Name] = be, be.Addr
		default:
			// The response is rendered lazily: it may name other backends.
			name := b.Name
			resp := b.Response
			be := proxytest.NewRecordingFunc(t, func(*proxytest.Request) []byte {
				if resp == "" {
					return []byte(proxytest.DefaultResponse)
				}
				return []byte(e.render(resp, ""))
			})
			e.Backends[name], e.Addrs[name] = be, be.Addr
		}
	}
	return e
}

// Render substitutes the backend placeholders in s.
func (e *Env) Render(s string) string { return e.render(s, "") }

// render substitutes backend placeholders and, when listen is not "", the
// listen placeholders.
func (e *Env) render(s, listen string) string {
	s = strings.ReplaceAll(s, "{{root}}", e.Root)
	for name, addr := range e.Addrs {
		_, port, _ := net.SplitHostPort(addr)
		s = strings.ReplaceAll(s, "{{backend:"+name+"}}", addr)
		s = strings.ReplaceAll(s, "{{port:"+name+"}}", port)
	}
	if listen != "" {
		_, port, _ := net.SplitHostPort(listen)
		s = strings.ReplaceAll(s, "{{listen}}", listen)
		s = strings.ReplaceAll(s, "{{listen_port}}", port)
	}
	return s
}

// signatureRE matches the server's name and version in the last line of
// a built-in error page, as escaped by Escape.
var signatureRE = regexp.MustCompile(`<hr><center>(?:nginx|wsgate)(?:/[0-9A-Za-z.+-]+)?</center>`)

// normalize replaces a target's own listen address and port in observed
// text with the placeholders, and the server's name in an error page's
// signature with {{server}}.
func normalize(s, listen string) string {
	_, port, _ := net.SplitHostPort(listen)
	s = signatureRE.ReplaceAllLiteralString(s, "<hr><center>{{server}}</center>")
	s = strings.ReplaceAll(s, listen, "{{listen}}")
	return strings.ReplaceAll(s, ":"+port, ":{{listen_port}}")
}

// Result is what one request produced on one target, each part as
// comparable text.
type Result struct {
	Request  string
	Upstream string // "@B" + raw lines per backend request, or "(none)"
	Status   string // status line, or "(no response: ...)"
	Headers  string // header lines except Date and Server, in order
	Body     string // escaped body; after a 101 with tunnel=, "[tunnel] " + echo
	Conn     string // open, closed, data: ... then open/closed, or not probed
}

// Part returns the named part.
func (r *Result) Part(name string) string {
	switch name {
	case "upstream":
		return r.Upstream
	case "status":
		return r.Status
	case "headers":
		return r.Headers
	case "body":
		return r.Body
	case "conn":
		return r.Conn
	}
	return ""
}

// ResponseText is the response as a response section writes it.
func (r *Result) ResponseText() string {
	s := r.Status
	if r.Headers != "" {
		s += "\n" + r.Headers
	}
	s += "\n\n"
	if r.Body != "" {
		s += r.Body + "\n"
	}
	return s + "[conn: " + r.Conn + "]"
}

// WriteConfig renders the case's config for a target listening on listen
// and writes it into dir as nginx.conf, returning its path.
func WriteConfig(t testing.TB, c *Case, e *Env, dir, listen string) string {
	t.Helper()
	body := e.render(c.Config, listen)
	conf := "events {}\nhttp {\n" + body + "\n}\n"
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Run starts target on the case, sends every request and returns one
// Result per request. Observed text is normalised (see normalize).
func Run(t testing.TB, c *Case, e *Env, target Target) []Result {
	t.Helper()
	listen := proxytest.FreeAddr(t)
	confPath := WriteConfig(t, c, e, t.TempDir(), listen)
	addr, stop := target.Start(t, confPath)
	defer stop()
	for _, b := range e.Backends {
		b.Reset()
	}
	var results []Result
	var conn net.Conn
	var tee *teeConn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for i, rs := range c.Requests {
		if rs.NewConn || conn == nil {
			if conn != nil {
				conn.Close()
			}
			var err error
			conn, err = net.DialTimeout("tcp", addr, ioTimeout)
			if err != nil {
				t.Fatalf("%s: dialing %s: %v", target.Name(), addr, err)
			}
			tee = &teeConn{Conn: conn}
			br = bufio.NewReader(tee)
		}
		tee.seen = tee.seen[:0]
		last := i == len(c.Requests)-1 || c.Requests[i+1].NewConn
		res := exchange(tee, br, e.render(rs.Raw, listen), rs, last)
		res.Request = rs.Name
		res.Upstream = upstreamText(e, c)
		for _, p := range []*string{&res.Upstream, &res.Status, &res.Headers, &res.Body, &res.Conn} {
			*p = normalize(*p, addr)
		}
		results = append(results, res)
		for _, b := range e.Backends {
			b.Reset()
		}
	}
	return results
}

// upstreamText renders what the backends recorded, in backend order.
func upstreamText(e *Env, c *Case) string {
	var parts []string
	for _, bs := range c.Backends {
		b := e.Backends[bs.Name]
		if b == nil {
			continue
		}
		for _, r := range b.Requests() {
			parts = append(parts, "@"+bs.Name+"\n"+strings.TrimRight(lines(string(r.Raw)), "\n"))
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, "\n")
}

func method(raw string) string {
	m, _, _ := strings.Cut(raw, " ")
	return m
}

// teeConn keeps the bytes read from the connection since the last reset,
// so that an unparsable answer can be shown as it came.
type teeConn struct {
	net.Conn
	seen []byte
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if len(c.seen) < 64<<10 {
		c.seen = append(c.seen, p[:n]...)
	}
	return n, err
}

// exchange sends one request and reads its response.
func exchange(c *teeConn, br *bufio.Reader, raw string, rs *RequestSpec, probe bool) Result {
	var res Result
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, raw); err != nil {
		res.Status = "(no response: write failed: " + errKind(err) + ")"
		res.Conn = "closed"
		return res
	}
	resp, err := proxytest.ReadResponse(br, method(raw))
	if err != nil {
		// What follows an unparsable answer (an HTTP/0.9 relay, say) is
		// reported as the connection's data.
		res.Status = "(no response: " + errKind(err) + ")"
		if consumed := len(c.seen) - br.Buffered(); consumed > 0 {
			res.Body = Escape(string(c.seen[:consumed]))
		}
		res.Conn = probeConn(c, br, time.Duration(rs.ProbeMS)*time.Millisecond)
		return res
	}
	res.Status = resp.StatusLine
	var hs []string
	for _, h := range resp.Headers {
		if strings.EqualFold(h.Name, "Date") || strings.EqualFold(h.Name, "Server") {
			continue
		}
		hs = append(hs, Escape(h.String()))
	}
	res.Headers = strings.Join(hs, "\n")
	res.Body = Escape(string(resp.Body))
	if resp.ToEOF {
		res.Conn = "closed"
		return res
	}
	if resp.Status == 101 && rs.Tunnel != "" {
		io.WriteString(c, rs.Tunnel)
		buf := make([]byte, len(rs.Tunnel))
		n, err := io.ReadFull(br, buf)
		res.Body = "[tunnel] " + Escape(string(buf[:n]))
		if err != nil {
			res.Body += " (" + errKind(err) + ")"
		}
	}
	if !probe {
		res.Conn = "not probed"
		return res
	}
	res.Conn = probeConn(c, br, time.Duration(rs.ProbeMS)*time.Millisecond)
	return res
}

// probeConn watches c for d: bytes that arrive are reported, then whether
// the peer closed (EOF or reset) or the connection stayed open.
func probeConn(c net.Conn, br *bufio.Reader, d time.Duration) string {
	c.SetReadDeadline(time.Now().Add(d))
	data, err := io.ReadAll(io.LimitReader(br, 64<<10))
	state := "closed"
	if errors.Is(err, os.ErrDeadlineExceeded) {
		state = "open"
	}
	if len(data) > 0 {
		return "data: " + Escape(string(data)) + ", then " + state
	}
	return state
}

func errKind(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "malformed"
}

// Mismatch is one difference found by Compare or Check.
type Mismatch struct {
	Request             string
	Part                string // a Result part, or "response" for a response section
	What                string // one-line description
	Left                string // first target's (or the expected) text
	Right               string // second target's (or the observed) text
	LeftName, RightName string
}

// Format renders m with both sides next to each other.
func (m Mismatch) Format() string {
	return fmt.Sprintf("request %q, %s: %s\n%s", m.Request, m.Part, m.What,
		SideBySide(m.LeftName, m.Left, m.RightName, m.Right))
}

// Compare checks that two targets' results agree, part by part, except
// where the case documents a difference for the second target.
func Compare(c *Case, a, b Target, ra, rb []Result) []Mismatch {
	var out []Mismatch
	for i, rs := range c.Requests {
		if i >= len(ra) || i >= len(rb) {
			break
		}
		diffs := map[string]ExpectDiff{}
		for _, d := range rs.Diffs {
			if d.Target == b.Name() {
				diffs[d.Part] = d
			}
		}
		for _, p := range []string{"upstream", "status", "headers", "body", "conn"} {
			l, r := ra[i].Part(p), rb[i].Part(p)
			m := Mismatch{Request: rs.Name, Part: p, Left: l, Right: r, LeftName: a.Name(), RightName: b.Name()}
			d, documented := diffs[p]
			switch {
			case !documented && l != r:
				m.What = "targets differ"
				out = append(out, m)
			case documented && l == r:
				m.What = "documented difference not observed: " + d.Reason
				out = append(out, m)
			case documented && d.Value != nil && strings.TrimSpace(*d.Value) != strings.TrimSpace(r):
				m.What = "documented difference has another value: " + d.Reason
				m.Left, m.LeftName = *d.Value, "documented"
				out = append(out, m)
			}
		}
	}
	return out
}

// Check compares one target's results with the upstream and response
// sections of the case (rendered with the case's backends).
func Check(c *Case, e *Env, target Target, res []Result) []Mismatch {
	var out []Mismatch
	for i, rs := range c.Requests {
		if i >= len(res) {
			break
		}
		if rs.Upstream != nil {
			want := strings.TrimSpace(e.render(*rs.Upstream, ""))
			got := strings.TrimSpace(res[i].Upstream)
			if want != got {
				out = append(out, Mismatch{Request: rs.Name, Part: "upstream", What: "differs from the case's upstream section",
					Left: want, Right: got, LeftName: "expected", RightName: target.Name()})
			}
		}
		if rs.Response != nil {
			want := strings.TrimSpace(e.render(*rs.Response, ""))
			got := res[i].ResponseText()
			if !strings.Contains(want, "\n[conn: ") && !strings.HasPrefix(want, "[conn: ") {
				got = got[:strings.LastIndex(got, "\n[conn: ")]
			}
			got = strings.TrimSpace(got)
			ok := want == got
			if rs.ResponseMatch == "contains" {
				ok = containsInOrder(got, want)
			}
			if !ok {
				out = append(out, Mismatch{Request: rs.Name, Part: "response", What: "differs from the case's response section",
					Left: want, Right: got, LeftName: "expected", RightName: target.Name()})
			}
		}
	}
	return out
}

// containsInOrder reports whether every line of want occurs as a whole
// line of got, in order.
func containsInOrder(got, want string) bool {
	gl := strings.Split(got, "\n")
	j := 0
	for _, w := range strings.Split(want, "\n") {
		for j < len(gl) && gl[j] != w {
			j++
		}
		if j == len(gl) {
			return false
		}
		j++
	}
	return true
}

// SideBySide renders two texts in two columns, marking differing lines
// with "|" and equal ones with a space.
func SideBySide(lname, left, rname, right string) string {
	const width = 58
	cut := func(s string) string {
		if len(s) > width {
			return s[:width-1] + "…"
		}
		return s
	}
	ll, rl := strings.Split(left, "\n"), strings.Split(right, "\n")
	n := max(len(ll), len(rl))
	var b strings.Builder
	fmt.Fprintf(&b, "  %-*s   %s\n", width, cut("["+lname+"]"), cut("["+rname+"]"))
	for i := 0; i < n; i++ {
		var l, r string
		if i < len(ll) {
			l = ll[i]
		}
		if i < len(rl) {
			r = rl[i]
		}
		mark := " "
		if l != r {
			mark = "|"
		}
		fmt.Fprintf(&b, "  %-*s %s %s\n", width, cut(l), mark, cut(r))
	}
	return b.String()
}
