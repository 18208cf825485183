// Package difftest runs the same configuration and the same raw requests
// through two proxies (real nginx and wsgate) with recording backends
// behind them, and compares what reached the backends and what came back.
//
// # Case files
//
// A case is one text file, testdata/diff/NAME.txt. Lines before the first
// section header are its description. A section starts with a line
//
//	=== KIND [NAME] [WORD ...] [key=value ...]
//
// and runs to the next header. Kinds:
//
//	=== config
//	    The contents of the http{} block, nginx syntax. The harness wraps it
//	    as "events {}\nhttp {\n...\n}\n". Placeholders:
//	    {{listen}} (127.0.0.1:PORT, the target's listening address),
//	    {{listen_port}}, {{backend:B}} (127.0.0.1:PORT of backend B) and
//	    {{port:B}}.
//	=== backend B [raw|once|refused|garbage|silent]
//	    A backend named B. raw (the default) is a proxytest recording
//	    backend answering with the section's bytes (empty: a 200 "hello\n";
//	    a 101 answer turns the connection into an echo tunnel); once writes
//	    the section's bytes and closes, one request per connection; refused
//	    is a loopback port nobody listens on; garbage answers non-HTTP
//	    bytes and closes; silent records one request per connection and
//	    never answers (for proxy_read_timeout). Backends are numbered in
//	    file order, so a sequence of requests through an upstream{} block
//	    shows in each request's upstream section which server took it.
//	=== file PATH
//	    A file under the document root both targets serve, {{root}} in
//	    config (a fresh directory per case): the section's lines joined
//	    with "\n" and unescaped as request lines are (\r \n \t \\ \xHH);
//	    trailing blank lines are dropped, so a final newline is written
//	    "\n". A PATH
//	    ending in "/" is a directory. Every file and directory gets the
//	    modification time 2024-01-02 03:04:05 UTC, so ETag and
//	    Last-Modified are fixed: ETag "65937d25-SIZE in hex".
//	=== request R [conn=new] [tunnel=TEXT] [probe=MS]
//	    Raw bytes sent to the target. Every line is sent followed by CRLF
//	    except a line ending in a lone "\" (sent without terminator).
//	    Escapes: \r \n \t \\ \xHH. Placeholders as in config. Requests run
//	    in file order on one connection; conn=new opens a new one. After a
//	    101, tunnel=TEXT sends TEXT and reads back as many bytes.
//	=== upstream R
//	    The expected bytes received by the backends while R was handled,
//	    each request as "@B" then its raw bytes split at CRLF into lines;
//	    "(none)" when nothing reached a backend. Checked against nginx.
//	=== response R [match=contains]
//	    The expected response to R: status line, header lines without
//	    Date and Server, a blank line, the body, optionally a last line
//	    "[conn: open|closed]". With match=contains each line must appear in
//	    the observed response in order. Checked against nginx.
//	=== expect-diff R PART [target=wsgate]
//	    A documented difference: the first line is the reason; an optional
//	    "---" line followed by the value PART takes on the named target.
//	    PART is upstream, status, headers, body or conn. When the second
//	    target is the named one, the harness asserts that PART differs (and
//	    equals the value, if given) instead of asserting equality.
//	=== expect-reject [target=wsgate]
//	    A configuration nginx serves and the named target refuses on
//	    purpose: the first line is the reason; an optional "---" line is
//	    followed by text the target's configuration test (wsgate -t) must
//	    print. The requests still run against nginx and are checked against
//	    the stated values; the target is only asked to reject the file.
//
// The server's own name in the signature line of built-in error pages
// ("<hr><center>nginx/1.22.1</center>", wsgate's "wsgate/0.1.0") is
// observed as "<hr><center>{{server}}</center>": the name is a documented
// difference, the rest of the page is compared. Date and Server header
// lines are not compared at all.
//
// Expected values in upstream/response sections use {{listen}} and
// {{listen_port}} for the proxy's own address (observed text is normalised
// back to these placeholders, so two targets on different ports compare
// equal) and {{backend:B}}/{{port:B}} for backends.
package difftest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Case is one parsed case file.
type Case struct {
	Name     string // file name without .txt
	Doc      string // the description lines
	Config   string // http{} contents, placeholders unrendered
	Backends []BackendSpec
	Files    []FileSpec
	Requests []*RequestSpec
	Rejects  []Reject
}

// Reject is one "=== expect-reject" section.
type Reject struct {
	Target   string // default "wsgate"
	Reason   string
	Contains string // text the target's configuration test prints; "" for any
}

// RejectedBy returns the case's expect-reject section for the named
// target, if any.
func (c *Case) RejectedBy(target string) (Reject, bool) {
	for _, r := range c.Rejects {
		if r.Target == target {
			return r, true
		}
	}
	return Reject{}, false
}

// BackendSpec is one "=== backend" section.
type BackendSpec struct {
	Name     string
	Kind     string // raw, once, refused, garbage, silent
	Response string // raw bytes (placeholders unrendered) for kinds raw and once
}

// FileSpec is one "=== file" section.
type FileSpec struct {
	Path string // relative to the document root; a trailing "/" makes a directory
	Data string
}

// RequestSpec is one "=== request" section and what is expected of it.
type RequestSpec struct {
	Name    string
	Raw     string // bytes to send, placeholders unrendered
	NewConn bool
	Tunnel  string // sent after a 101 and expected back
	ProbeMS int    // how long to watch for a close after the response; default 400

	Upstream      *string // expected upstream text, nil when not stated
	Response      *string // expected response text, nil when not stated
	ResponseMatch string  // "" (exact) or "contains"
	Diffs         []ExpectDiff
}

// ExpectDiff is one documented difference.
type ExpectDiff struct {
	Part   string // upstream, status, headers, body, conn
	Target string // name of the target that differs; default "wsgate"
	Reason string
	Value  *string // what Part is on Target, when stated
}

var parts = map[string]bool{"upstream": true, "status": true, "headers": true, "body": true, "conn": true}

// LoadCases parses every *.txt file in dir, sorted by name.
func LoadCases(dir string) ([]*Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var cases []*Case
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading case: %w", err)
		}
		c, err := ParseCase(strings.TrimSuffix(filepath.Base(f), ".txt"), data)
		if err != nil {
			return nil, fmt.Errorf("parsing case %s: %w", f, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

type section struct {
	line  int
	words []string
	attrs map[string]string
	body  []string
}

// ParseCase parses one case file (see the package documentation).
func ParseCase(name string, data []byte) (*Case, error) {
	c := &Case{Name: name}
	var doc []string
	var secs []*section
	for i, l := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if rest, ok := strings.CutPrefix(l, "=== "); ok {
			s := &section{line: i + 1, attrs: map[string]string{}}
			for _, w := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(w, "="); ok {
					s.attrs[k] = v
				} else {
					s.words = append(s.words, w)
				}
			}
			if len(s.words) == 0 {
				return nil, fmt.Errorf("line %d: section header without a kind", i+1)
			}
			secs = append(secs, s)
			continue
		}
		if len(secs) == 0 {
			doc = append(doc, l)
		} else {
			secs[len(secs)-1].body = append(secs[len(secs)-1].body, l)
		}
	}
	c.Doc = strings.TrimSpace(strings.Join(doc, "\n"))
	reqs := map[string]*RequestSpec{}
	backends := map[string]bool{}
	for _, s := range secs {
		// A section's trailing blank lines separate it from the next header
		// and are not part of it, except where a request ends with the
		// blank line that terminates its head: that one is kept.
		body := trimTrailingBlank(s.body)
		kind := s.words[0]
		arg := func(i int) string {
			if i < len(s.words) {
				return s.words[i]
			}
			return ""
		}
		switch kind {
		case "config":
			c.Config = strings.Join(body, "\n")
		case "backend":
			b := BackendSpec{Name: arg(1), Kind: arg(2)}
			if b.Name == "" {
				return nil, fmt.Errorf("line %d: backend without a name", s.line)
			}
			if b.Kind == "" {
				b.Kind = "raw"
			}
			if b.Kind != "raw" && b.Kind != "once" && b.Kind != "refused" && b.Kind != "garbage" && b.Kind != "silent" {
				return nil, fmt.Errorf("line %d: unknown backend kind %q", s.line, b.Kind)
			}
			if backends[b.Name] {
				return nil, fmt.Errorf("line %d: duplicate backend %q", s.line, b.Name)
			}
			backends[b.Name] = true
			if len(body) > 0 {
				raw, err := rawLines(s.body)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", s.line, err)
				}
				b.Response = raw
			}
			c.Backends = append(c.Backends, b)
		case "file":
			f := FileSpec{Path: arg(1)}
			if f.Path == "" || strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
				return nil, fmt.Errorf("line %d: file needs a relative path inside the root", s.line)
			}
			data, err := Unescape(strings.Join(body, "\n"))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", s.line, err)
			}
			f.Data = data
			c.Files = append(c.Files, f)
		case "request":
			r := &RequestSpec{Name: arg(1), Tunnel: s.attrs["tunnel"], ProbeMS: 400}
			if r.Name == "" {
				return nil, fmt.Errorf("line %d: request without a name", s.line)
			}
			if reqs[r.Name] != nil {
				return nil, fmt.Errorf("line %d: duplicate request %q", s.line, r.Name)
			}
			r.NewConn = s.attrs["conn"] == "new" || len(c.Requests) == 0
			if v, ok := s.attrs["probe"]; ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("line %d: invalid probe %q", s.line, v)
				}
				r.ProbeMS = n
			}
			raw, err := rawLines(s.body)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", s.line, err)
			}
			r.Raw = raw
			reqs[r.Name] = r
			c.Requests = append(c.Requests, r)
		case "expect-reject":
			r := Reject{Target: s.attrs["target"]}
			if r.Target == "" {
				r.Target = "wsgate"
			}
			reason, contains, _ := strings.Cut(strings.Join(body, "\n"), "\n---\n")
			r.Reason, r.Contains = strings.TrimSpace(reason), strings.TrimSpace(contains)
			if r.Reason == "" {
				return nil, fmt.Errorf("line %d: expect-reject without a reason", s.line)
			}
			c.Rejects = append(c.Rejects, r)
		case "upstream", "response", "expect-diff":
			r := reqs[arg(1)]
			if r == nil {
				return nil, fmt.Errorf("line %d: %s for unknown request %q (requests come first)", s.line, kind, arg(1))
			}
			text := strings.Join(body, "\n")
			switch kind {
			case "upstream":
				r.Upstream = &text
			case "response":
				r.Response = &text
				r.ResponseMatch = s.attrs["match"]
			default:
				d := ExpectDiff{Part: arg(2), Target: s.attrs["target"]}
				if !parts[d.Part] {
					return nil, fmt.Errorf("line %d: expect-diff part %q is not one of upstream, status, headers, body, conn", s.line, d.Part)
				}
				if d.Target == "" {
					d.Target = "wsgate"
				}
				reason, value, hasValue := strings.Cut(text, "\n---\n")
				if strings.HasSuffix(text, "\n---") {
					reason, value, hasValue = strings.TrimSuffix(text, "\n---"), "", true
				}
				d.Reason = strings.TrimSpace(reason)
				if d.Reason == "" {
					return nil, fmt.Errorf("line %d: expect-diff without a reason", s.line)
				}
				if hasValue {
					d.Value = &value
				}
				r.Diffs = append(r.Diffs, d)
			}
		default:
			return nil, fmt.Errorf("line %d: unknown section kind %q", s.line, kind)
		}
	}
	if c.Config == "" {
		return nil, fmt.Errorf("no config section")
	}
	if len(c.Requests) == 0 {
		return nil, fmt.Errorf("no request section")
	}
	return c, nil
}

func trimTrailingBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// rawLines turns a request or response section into bytes. Trailing blank
// lines are dropped; then, when the section has no blank line and its last
// line does not end in a lone backslash, a blank line ends the head.
func rawLines(lines []string) (string, error) {
	n := len(lines)
	for n > 0 && lines[n-1] == "" {
		n--
	}
	headEnded := false
	for _, l := range lines[:n] {
		headEnded = headEnded || l == ""
	}
	lines = lines[:n:n]
	if !headEnded && n > 0 && !strings.HasSuffix(lines[n-1], `\`) {
		lines = append(lines, "") // the blank line ending the head
	}
	var b bytes.Buffer
	for _, l := range lines {
		noEOL := strings.HasSuffix(l, `\`) && !strings.HasSuffix(l, `\\`)
		if noEOL {
			l = l[:len(l)-1]
		}
		u, err := Unescape(l)
		if err != nil {
			return "", err
		}
		b.WriteString(u)
		if !noEOL {
			b.WriteString("\r\n")
		}
	}
	return b.String(), nil
}

// Unescape turns \r \n \t \\ and \xHH into bytes; any other backslash
// sequence is an error.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("dangling backslash in %q", s)
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("short \\x escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("invalid \\x escape in %q", s)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return b.String(), nil
}

// Escape renders bytes for display and comparison: printable ASCII as is,
// backslash doubled, everything else as \r \n \t or \xHH.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lines renders raw bytes as text lines split at CRLF, each line escaped
// (so a bare LF shows as \n), joined by "\n".
func lines(raw string) string {
	ls := strings.Split(raw, "\r\n")
	for i, l := range ls {
		ls[i] = Escape(l)
	}
	return strings.Join(ls, "\n")
}
