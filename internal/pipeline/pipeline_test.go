package pipeline_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/pipeline"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// scripted is a content handler for the proxied locations of these
// tests: it answers what its location's entry in do says, an internal
// redirect or a body, and counts its calls.
type scripted struct {
	do    map[string]exchange.Result // by location path; no entry: answer
	calls atomic.Int32
}

func (h *scripted) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	h.calls.Add(1)
	if res, ok := h.do[loc.Location.Path]; ok {
		return res
	}
	body := fmt.Sprintf("%s uri=%s args=%s req=%s", loc.Name, vc.URI, vc.Args, vc.RequestURI)
	w.AddServerDate()
	w.MarkFraming()
	w.WriteHeader(200, "", int64(len(body)))
	io.WriteString(w, body)
	return exchange.Result{}
}

// serve builds conf, serves it on a loopback listener with h as the
// proxy content handler and returns the address and the log lines of
// the observer.
func serve(t *testing.T, conf string, h pipeline.Content) (string, *observed) {
	t.Helper()
	return serveWith(t, conf, func(*exchange.Conn) pipeline.Content { return h })
}

// serveWith is serve with the proxy content handler of each connection
// made by content.
func serveWith(t *testing.T, conf string, content func(*exchange.Conn) pipeline.Content) (string, *observed) {
	t.Helper()
	snap := buildSnapshot(t, conf)
	var cur atomic.Pointer[snapshot.Snapshot]
	cur.Store(snap)
	obs := &observed{ch: make(chan observation, 16)}
	p := &pipeline.Pipeline{Snapshot: &cur, Log: slog.New(slog.DiscardHandler), Observer: obs}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	listenAddr := snap.Listens[0].Addr
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var pc pipeline.Conn
				xc := &exchange.Conn{NetConn: nc, ListenAddr: listenAddr, LocalAddr: "127.0.0.1", LocalPort: "80"}
				p.Open(&pc, xc)
				pc.SetContent(snapshot.ContentProxy, content(xc))
				cfg := http1.DefaultConnConfig()
				http1.Serve(nc, &cfg, http1.HandlerFunc(func(w *http1.ResponseWriter, r *http1.Request) {
					pc.ServeRequest(w, &r.Request)
				}))
				pc.Close()
			}()
		}
	}()
	return ln.Addr().String(), obs
}

// buildSnapshot compiles the configuration text conf.
func buildSnapshot(t *testing.T, conf string) *snapshot.Snapshot {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, errs := config.Load(path, config.ParseOptions{})
	if len(errs) > 0 {
		t.Fatalf("loading config: %v", errs)
	}
	ups := upstream.NewRegistry(upstream.Options{})
	t.Cleanup(ups.Close)
	snap, err := snapshot.Build(context.Background(), spec, &snapshot.Env{Upstreams: ups, Version: "test"})
	if err != nil {
		t.Fatalf("building snapshot: %v", err)
	}
	return snap
}

// observation is what the log phase reported of one request.
type observation struct {
	Location string
	Status   int
	// Request and Method are $request and $request_method.
	Request, Method string
	// Sent is sentVar's value: the response head as the log phase sees it.
	Sent string
}

// requestVar is "$request", as an access log line has it.
var requestVar = mustTemplate("$request")

// sentVar shows the head sent and the answer's completion to the log phase.
var sentVar = mustTemplate("$sent_http_content_type|$sent_http_x_a|$sent_http_connection|$sent_http_server|$request_completion")

func mustTemplate(s string) *vars.Template {
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		panic(err)
	}
	t, err := vc.Compile(s)
	if err != nil {
		panic(err)
	}
	return t
}

// observed collects what the log phase reports.
type observed struct {
	ch chan observation
}

func (o *observed) ObserveRequest(loc *snapshot.Loc, vc *vars.Ctx) {
	o.ch <- observation{Location: loc.Name, Status: vc.Status, Request: string(requestVar.Append(nil, vc)), Method: vc.Method,
		Sent: string(sentVar.AppendEscaped(nil, vc, vars.EscapeDefault))}
}

// next returns the next observation, failing after a bound.
func (o *observed) next(t *testing.T) observation {
	t.Helper()
	select {
	case ob := <-o.ch:
		return ob
	case <-time.After(10 * time.Second):
		t.Fatal("no observation")
		return observation{}
	}
}

// get sends one GET and returns the status line and body.
func get(t *testing.T, addr, target string) (status, body string) {
	t.Helper()
	return roundTrip(t, addr, fmt.Sprintf("GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target))
}

// roundTrip sends the raw request req and returns the status line and
// body of the answer.
func roundTrip(t *testing.T, addr, req string) (status, body string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	resp, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	head, b, _ := strings.Cut(string(resp), "\r\n\r\n")
	line, _, _ := strings.Cut(head, "\r\n")
	return line, b
}

const redirectConf = `
events {}
http {
	access_log off;
	limit_req_zone $host zone=z:1m rate=100000r/s;
	limit_conn_zone $host zone=c:1m;
	server {
		listen 127.0.0.1:8080;
		location /a { proxy_pass http://127.0.0.1:9; }
		location /b { proxy_pass http://127.0.0.1:9; }
		location /loop { proxy_pass http://127.0.0.1:9; }
		location /to-return { proxy_pass http://127.0.0.1:9; }
		location /ret { return 200 "returned $uri"; }
		location /to-named { proxy_pass http://127.0.0.1:9; }
		location /status { stub_status; }
		location /conns { return 200 "$connections_active $connections_reading $connections_writing $connections_waiting"; }
		location /limited { limit_req zone=z burst=100000 nodelay; limit_conn c 10; limit_rate 100k; proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestInternalRedirect checks the pipeline's side of an internal redirect
// (ngx_http_internal_redirect): the new URI is searched again from the
// server's locations and answered there with $uri and $args changed and
// $request_uri kept; a location whose rewrite phase answers (return)
// answers it; the 11th redirect of a request, and a named location that
// does not exist, are answered 500 (r->uri_changes,
// ngx_http_named_location).
func TestInternalRedirect(t *testing.T) {
	h := &scripted{do: map[string]exchange.Result{
		"/a":         {RedirectURI: "/b/x", RedirectArgs: "k=v"},
		"/loop":      {RedirectURI: "/loop"},
		"/to-return": {RedirectURI: "/ret/y"},
		"/to-named":  {Named: "@nowhere"},
	}}
	addr, obs := serve(t, redirectConf, h)
	tests := []struct {
		desc, target string
		wantStatus   string
		wantBody     string // "" when not checked
		wantCalls    int32
		wantLoc      string // the location the log phase reports
	}{
		{desc: "no redirect", target: "/b/1?q", wantStatus: "HTTP/1.1 200 OK", wantBody: "location /b uri=/b/1 args=q req=/b/1?q", wantCalls: 1, wantLoc: "location /b"},
		{desc: "redirect to another location", target: "/a/1?q", wantStatus: "HTTP/1.1 200 OK", wantBody: "location /b uri=/b/x args=k=v req=/a/1?q", wantCalls: 2, wantLoc: "location /b"},
		{desc: "redirect to a return", target: "/to-return", wantStatus: "HTTP/1.1 200 OK", wantBody: "returned /ret/y", wantCalls: 1, wantLoc: "location /ret"},
		{desc: "redirect cycle", target: "/loop", wantStatus: "HTTP/1.1 500 Internal Server Error", wantCalls: 11, wantLoc: "location /loop"},
		{desc: "unknown named location", target: "/to-named", wantStatus: "HTTP/1.1 500 Internal Server Error", wantCalls: 1, wantLoc: "location /to-named"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h.calls.Store(0)
			status, body := get(t, addr, tt.target)
			if status != tt.wantStatus {
				t.Errorf("got status %q; want %q", status, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("got body %q; want %q", body, tt.wantBody)
			}
			if got := h.calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d content calls; want %d", got, tt.wantCalls)
			}
			ob := obs.next(t)
			code, _ := strconv.Atoi(strings.Fields(tt.wantStatus)[1])
			if ob.Location != tt.wantLoc || ob.Status != code {
				t.Errorf("log phase saw %q %d; want %q %d", ob.Location, ob.Status, tt.wantLoc, code)
			}
		})
	}
}

const phasesConf = `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		server_name phases;
		location /p/ { proxy_pass http://127.0.0.1:9; }
		location /r/ { proxy_pass http://127.0.0.1:9; return 200 "r"; }
		location /ret { return 200 "ret"; }
	}
	server {
		listen 127.0.0.1:8080;
		server_name early;
		return 200 "server level";
		location / { proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestPhases checks which phase answers: a server-level return answers
// before any location is searched (server rewrite phase); the
// find-config phase's trailing-slash redirect comes before the location's
// rewrite phase (its return) and content; the access phase refuses a
// malformed WebSocket handshake only where the content handler may open
// a tunnel (proxy_pass), and the content handler sees only what passed.
func TestPhases(t *testing.T) {
	h := &scripted{}
	addr, _ := serve(t, phasesConf, h)
	const badWS = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n"
	tests := []struct {
		desc, host, target, head string
		wantStatus               string
		wantBody                 string
		wantCalls                int32
	}{
		{desc: "server rewrite phase", host: "early", target: "/p/", wantStatus: "HTTP/1.1 200 OK", wantBody: "server level"},
		{desc: "content", host: "phases", target: "/p/x", wantStatus: "HTTP/1.1 200 OK", wantBody: "location /p/ uri=/p/x args= req=/p/x", wantCalls: 1},
		{desc: "trailing-slash redirect", host: "phases", target: "/p", wantStatus: "HTTP/1.1 301 Moved Permanently"},
		{desc: "redirect before return", host: "phases", target: "/r", wantStatus: "HTTP/1.1 301 Moved Permanently"},
		{desc: "return", host: "phases", target: "/r/", wantStatus: "HTTP/1.1 200 OK", wantBody: "r"},
		{desc: "bad handshake to a proxied location", host: "phases", target: "/p/x", head: badWS, wantStatus: "HTTP/1.1 426 "},
		{desc: "bad handshake to a return", host: "phases", target: "/ret", head: badWS, wantStatus: "HTTP/1.1 200 OK", wantBody: "ret"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h.calls.Store(0)
			status, body := roundTrip(t, addr, fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", tt.target, tt.host, tt.head))
			if status != tt.wantStatus {
				t.Errorf("got status %q; want %q", status, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("got body %q; want %q", body, tt.wantBody)
			}
			if got := h.calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d content calls; want %d", got, tt.wantCalls)
			}
		})
	}
}
