package files

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"wsgate/internal/http1"
	"wsgate/internal/proxytest"
	"wsgate/internal/route"
	"wsgate/internal/vars"
)

// fixedMtime is the modification time every test file gets: ETag
// "65937d25-SIZE", Last-Modified "Tue, 02 Jan 2024 03:04:05 GMT".
var fixedMtime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// writeTree creates files under dir: a key ending in "/" is a directory,
// "a -> b" a symbolic link; every entry gets fixedMtime.
func writeTree(t testing.TB, dir string, tree map[string]string) {
	t.Helper()
	for name, content := range tree {
		if from, to, ok := strings.Cut(name, " -> "); ok {
			p := filepath.Join(dir, from)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(to, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		os.Chtimes(p, fixedMtime, fixedMtime)
		return nil
	})
}

func compileFunc(t testing.TB) CompileFunc {
	c, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(raw string) (Template, error) {
		tm, err := c.Compile(raw)
		if err != nil {
			return nil, err
		}
		return tm, nil
	}
}

func newHandler(t testing.TB, c Config) *Handler {
	t.Helper()
	h, err := New(c, compileFunc(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// serveHandler serves h on a loopback listener through http1.Serve, acting
// on Results as a caller does: error pages with their extra lines, a 301
// with the relative Location, internal redirects served again by h (one
// location stands for all), named locations as 502 so tests can see them.
func serveHandler(t testing.TB, h *Handler) string {
	return serveRegex(t, h, nil)
}

// serveRegex is serveHandler for a regex location: re's groups are the
// request's captures.
func serveRegex(t testing.TB, h *Handler, re *regexp.Regexp) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := http1.DefaultConnConfig()
	cfg.ServerName = "wsgate"
	cfg.Limits.KeepaliveRequests = 1 << 30 // benchmarks run one connection long
	// One connection's handler keeps its variables, request and scratch,
	// as the proxy's connection does.
	handlerFor := func(vc *vars.Ctx, r *Request, sc *Scratch) http1.HandlerFunc {
		return func(w *http1.ResponseWriter, req *http1.Request) {
			serveOne(h, re, w, req, vc, r, sc)
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go http1.Serve(c, &cfg, handlerFor(&vars.Ctx{}, &Request{}, &Scratch{}))
		}
	}()
	return ln.Addr().String()
}

// serveOne is one request through h, acting on the Result.
func serveOne(h *Handler, re *regexp.Regexp, w *http1.ResponseWriter, req *http1.Request, vc *vars.Ctx, r *Request, sc *Scratch) {
	{
		*vc = vars.Ctx{Method: bstr(req.Method), URI: bstr(req.NormalizedPath),
			Args: bstr(req.Query), HasArgs: req.HasQuery}
		if re != nil {
			vc.Captures = route.Captures{Subject: vc.URI, Index: re.FindStringSubmatchIndex(vc.URI), Names: re.SubexpNames()}
		}
		*r = Request{Method: vc.Method, HTTP09: req.ProtoMajor == 0, Headers: req, Vars: vc}
		for range 10 {
			res := h.Serve(w, r, sc)
			switch res.Action {
			case Done:
				return
			case Error:
				w.WriteErrorWith(res.Status, res.Charset, res.Extra)
				if res.Close {
					w.Abort()
				}
				return
			case Redirect:
				w.AddServerDate()
				w.AddHeader("Content-Type", "text/html")
				w.MarkFraming()
				w.SetLocation(res.Location)
				addLines(w, res.Extra)
				w.WriteHeader(res.Status, "", 0)
				return
			case Named:
				w.AddHeader("X-Named", res.Name)
				w.WriteErrorWith(502, "", nil)
				return
			case Internal:
				vc.URI, vc.Args, vc.HasArgs = res.URI, res.Args, res.HasArgs
			}
		}
		w.WriteError(500)
	}
}

// bstr views b as a string without copying, as the proxy does for the
// request's fields (valid while the request is).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// exchange sends raw requests on one connection and reads one response
// for each.
func exchange(t testing.TB, addr string, reqs ...string) []*proxytest.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	var out []*proxytest.Response
	for _, req := range reqs {
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		method, _, _ := strings.Cut(req, " ")
		resp, err := proxytest.ReadResponse(br, method)
		if err != nil {
			t.Fatalf("reading response to %q: %v", req, err)
		}
		out = append(out, resp)
	}
	return out
}

// get sends one GET with extra header lines ("Name: value").
func get(t testing.TB, addr, method, target string, headers ...string) *proxytest.Response {
	t.Helper()
	req := method + " " + target + " HTTP/1.1\r\nHost: x\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	return exchange(t, addr, req+"\r\n")[0]
}

// headText is the response head without Server and Date, one line each.
func headText(r *proxytest.Response) string {
	var b strings.Builder
	b.WriteString(r.StatusLine)
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "Server") || strings.EqualFold(h.Name, "Date") {
			continue
		}
		b.WriteString("\n" + h.String())
	}
	return b.String()
}
