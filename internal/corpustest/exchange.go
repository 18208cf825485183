package corpustest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// ioTimeout bounds each request's exchange; a request still unanswered
// then is reported as "(no response: timeout)".
const ioTimeout = 5 * time.Second

// wsKey is the handshake key of RFC 6455 §1.3's example; its accept value
// is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
const (
	wsKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	wsAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// Request is one request the test sends to both proxies.
type Request struct {
	Name string // "GET / (server 1, Host example.com)": stable across runs
	Addr string // the listen address to dial
	TLS  bool
	Raw  string // the request bytes
}

// Requests builds the requests for a plan: for each server (on its first
// plain listen address, else its first TLS one, with the Host its first
// server name matches), GET /, a GET of its first static path and a
// WebSocket handshake to its first WebSocket location.
func Requests(plan []Server) []Request {
	var out []Request
	seen := map[string]bool{}
	for i, srv := range plan {
		if len(srv.Listen) == 0 {
			continue
		}
		l := srv.Listen[0]
		for _, x := range srv.Listen {
			if !x.SSL {
				l = x
				break
			}
		}
		host := hostFor(srv.Names)
		get := func(path string) string {
			return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: corpustest\r\nAccept: */*\r\nConnection: close\r\n\r\n"
		}
		add := func(what, raw string) {
			name := fmt.Sprintf("%s (server %d, Host %s)", what, i+1, host)
			if seen[name] {
				return
			}
			seen[name] = true
			out = append(out, Request{Name: name, Addr: l.Addr, TLS: l.SSL, Raw: raw})
		}
		add("GET /", get("/"))
		if len(srv.Static) > 0 {
			add("GET "+srv.Static[0], get(srv.Static[0]))
		}
		if len(srv.WS) > 0 {
			p := srv.WS[0]
			add("WebSocket "+p, "GET "+p+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: corpustest\r\n"+
				"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+wsKey+"\r\n"+
				"Sec-WebSocket-Version: 13\r\n\r\n")
		}
	}
	return out
}

// hostFor returns a Host header value the server names match: the first
// exact name, else a wildcard's with "www" for its star, else "localhost".
func hostFor(names []string) string {
	for _, n := range names {
		if n != "" && n != "_" && !strings.HasPrefix(n, "~") && !strings.ContainsAny(n, "*$") {
			return strings.TrimPrefix(n, ".")
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "*.") {
			return "www" + n[1:]
		}
		if strings.HasSuffix(n, ".*") {
			return n[:len(n)-1] + "com"
		}
	}
	return "localhost"
}

// Result is what one request produced on one proxy, each part as text to
// compare.
type Result struct {
	Status   string // status line, or "(no response: eof|reset|timeout|malformed)"
	Headers  string // header lines but Date, Server and Content-Length, in order
	Body     string // with an error page's signature as "{{server}}"
	Upstream string // the requests the backend received, or "(none)"
}

// Parts names Result's parts in the order they are compared.
var Parts = []string{"status", "headers", "body", "upstream"}

// Part returns the named part.
func (r Result) Part(name string) string {
	switch name {
	case "status":
		return r.Status
	case "headers":
		return r.Headers
	case "body":
		return r.Body
	case "upstream":
		return r.Upstream
	}
	return ""
}

// signatureRE matches the server's name and version in the last line of
// a built-in error page; the name is a documented difference.
var signatureRE = regexp.MustCompile(`<center>(?:nginx|wsgate)(?:/[0-9A-Za-z.+-]+)?</center>`)

// Do sends req on a new connection and reads the answer; backend is
// asked afterwards what reached it (and then reset).
func Do(req Request, backend *proxytest.Backend) Result {
	backend.Reset()
	res := exchange(req)
	res.Upstream = upstreamText(backend)
	backend.Reset()
	return res
}

func exchange(req Request) Result {
	var res Result
	c, err := net.DialTimeout("tcp", req.Addr, ioTimeout)
	if err != nil {
		res.Status = "(no response: dial: " + errKind(err) + ")"
		return res
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if req.TLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: serverName(req.Raw)})
		if err := tc.Handshake(); err != nil {
			res.Status = "(no response: TLS handshake: " + errKind(err) + ")"
			return res
		}
		c = tc
	}
	if _, err := io.WriteString(c, req.Raw); err != nil {
		res.Status = "(no response: write: " + errKind(err) + ")"
		return res
	}
	resp, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		res.Status = "(no response: " + errKind(err) + ")"
		return res
	}
	res.Status = resp.StatusLine
	var hs []string
	for _, h := range resp.Headers {
		switch strings.ToLower(h.Name) {
		case "date", "server", "content-length":
			continue
		}
		if strings.EqualFold(h.Name, "Expires") {
			h.Value = relativeDate(h.Value, time.Now())
		}
		hs = append(hs, h.String())
	}
	res.Headers = strings.Join(hs, "\n")
	res.Body = signatureRE.ReplaceAllLiteralString(string(resp.Body), "<center>{{server}}</center>")
	return res
}

// relativeDate renders an Expires value the expires directive made
// from the clock ("expires 30d") as its distance from now in whole
// minutes, "{{now+43200m}}", so that two answers a second apart compare
// equal; other values (expires epoch, max, a fixed @time) stay as sent.
// Only dates within five years of now are taken as relative.
func relativeDate(v string, now time.Time) string {
	t, err := http.ParseTime(v)
	if err != nil || v == expiresMax {
		return v
	}
	d := t.Sub(now)
	if d < -5*365*24*time.Hour || d > 5*365*24*time.Hour {
		return v
	}
	m := d.Round(time.Minute)
	if diff := d - m; diff < -5*time.Second || diff > 5*time.Second {
		return v
	}
	return fmt.Sprintf("{{now%+dm}}", int64(m/time.Minute))
}

// expiresMax is the Expires value of "expires max" (nginx's
// ngx_http_set_expires).
const expiresMax = "Thu, 31 Dec 2037 23:55:55 GMT"

// serverName is the request's Host, for SNI.
func serverName(raw string) string {
	_, rest, _ := strings.Cut(raw, "\r\nHost: ")
	h, _, _ := strings.Cut(rest, "\r\n")
	return h
}

// requestIDRE matches a $request_id value, different on every request.
var requestIDRE = regexp.MustCompile(`\b[0-9a-f]{32}\b`)

func upstreamText(b *proxytest.Backend) string {
	var parts []string
	for _, r := range b.Requests() {
		parts = append(parts, requestIDRE.ReplaceAllLiteralString(r.HeadText(), "{{request_id}}"))
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, "\n--\n")
}

// NewBackend starts the recording backend every upstream of a stubbed
// file points at: a WebSocket handshake gets a 101 (and an echo tunnel),
// anything else proxytest's default 200.
func NewBackend(t testing.TB) *proxytest.Backend {
	t.Helper()
	return proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		if proxytest.IsUpgrade(r) {
			return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + wsAccept + "\r\n\r\n")
		}
		return []byte(proxytest.DefaultResponse)
	})
}

func errKind(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case strings.Contains(err.Error(), "reset"), strings.Contains(err.Error(), "broken pipe"):
		return "reset"
	case strings.Contains(err.Error(), "refused"):
		return "refused"
	}
	return "malformed"
}
