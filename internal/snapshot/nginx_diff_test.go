package snapshot

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/proxytest"
)

// The differential test runs real nginx (when installed) in front of a raw
// recording backend and checks that, for the same client request, the
// functions of this package produce exactly the bytes nginx sent upstream
// and the head nginx sent back.

// startNginx runs nginx with the server block body, serving example.com
// on a free port, and returns that port.
func startNginx(t *testing.T, serverBody string) int {
	t.Helper()
	n := proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(`
    server {
        listen %s;
        server_name example.com;
%s
    }`, proxytest.FreeAddr(t), serverBody)))
	_, port, _ := net.SplitHostPort(n.Addr)
	p, _ := strconv.Atoi(port)
	return p
}

// headOf is a recorded request's head: its bytes up to the blank line.
func headOf(r proxytest.Request) []byte {
	if i := bytes.Index(r.Raw, []byte("\r\n\r\n")); i >= 0 {
		return r.Raw[:i+4]
	}
	return r.Raw
}

// rawExchange sends a raw request to nginx and returns its response head.
func rawExchange(t *testing.T, port int, req string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var head bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading nginx response: %v (so far %q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			if bytes.HasPrefix(head.Bytes(), []byte("HTTP/1.1 100 ")) {
				head.Reset() // the interim answer to Expect: 100-continue
				continue
			}
			return head.Bytes()
		}
	}
}

var (
	dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)
	clLine   = regexp.MustCompile(`Content-Length: [0-9]+`)
)

func TestAgainstNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	proxytest.NeedNginx(t)
	var response atomic.Pointer[string]
	rec := proxytest.NewRecordingFunc(t, func(*proxytest.Request) []byte { return []byte(*response.Load()) })
	bport := proxytest.PortOf(rec.Addr)
	b := rec.Addr

	static := func(uri string) *config.ProxyPass {
		return &config.ProxyPass{Raw: "http://" + b + uri, Scheme: "http", Host: "127.0.0.1",
			Port: strconv.Itoa(bport), URI: uri, HasURI: uri != ""}
	}
	type loc struct {
		path string
		conf string
		lc   *config.LocConf
	}
	seed := seedWSConf()
	seed.ProxyPass = static("")
	locs := []loc{
		{"/ws/", "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; proxy_set_header Host $host;", seed},
		{"/", "", &config.LocConf{ProxyPass: static(""), ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true, ServerTokens: true, AbsoluteRedirect: true, PortInRedirect: true}},
		{"/api/", "", &config.LocConf{ProxyPass: static("/v1/"), ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true, ServerTokens: true, AbsoluteRedirect: true, PortInRedirect: true}},
		{"/nos", "", &config.LocConf{ProxyPass: static("/x"), ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true, ServerTokens: true, AbsoluteRedirect: true, PortInRedirect: true}},
		{"/hdr/", "proxy_set_header X-Empty $http_x_none; proxy_set_header User-Agent \"\"; proxy_set_header X-Const c; proxy_set_header x-forwarded-for $host;",
			&config.LocConf{ProxyPass: static(""), ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true, ServerTokens: true, AbsoluteRedirect: true, PortInRedirect: true,
				ProxySetHeaders: []config.HeaderSet{{Name: "X-Empty", Value: "$http_x_none"}, {Name: "User-Agent", Value: ""},
					{Name: "X-Const", Value: "c"}, {Name: "x-forwarded-for", Value: "$host"}}}},
		{"/hide/", "proxy_pass_header Server; proxy_hide_header X-Secret; proxy_redirect off;",
			&config.LocConf{ProxyPass: static(""), ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true, ServerTokens: true, AbsoluteRedirect: true, PortInRedirect: true,
				ProxyPassHeaders: []string{"server"}, ProxyHideHeaders: []string{"x-secret"}, ProxyRedirectOff: true}},
	}
	var body strings.Builder
	for _, l := range locs {
		fmt.Fprintf(&body, "        location %s { proxy_pass %s; %s }\n", l.path, l.lc.ProxyPass.Raw, l.conf)
	}
	port := startNginx(t, body.String())
	byPath := map[string]*config.LocConf{}
	for _, l := range locs {
		byPath[l.path] = l.lc
	}

	okResp := "HTTP/1.1 200 OK\r\nServer: app\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nX-Accel-Buffering: no\r\n" +
		"Keep-Alive: timeout=5\r\nConnection: keep-alive\r\nX-Pad: x\r\nX-Secret: s\r\nStatus: 299\r\nLast-Modified: Tue, 01 Jan 2030 00:00:00 GMT\r\n" +
		"Content-Type: text/plain\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n"
	redirResp := func(loc string) string {
		return "HTTP/1.1 302 Found\r\nX-A: 1\r\nLocation: " + loc + "\r\nRefresh: 3; url=" + loc + "\r\nContent-Length: 0\r\n\r\n"
	}
	tests := []struct {
		name      string
		loc       string
		target    ClientTarget
		method    string
		headers   string
		bodyLen   int64
		body      string
		response  string
		clientCL  int64
		wsUpgrade bool
	}{
		{
			name: "seed handshake", loc: "/ws/", method: "GET",
			target:  ClientTarget{RequestURI: []byte("/ws/chat?room=1"), URI: []byte("/ws/chat"), Args: []byte("room=1")},
			headers: seedHandshake, bodyLen: -1, wsUpgrade: true,
			response: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: backend\r\nX-Backend: ws\r\n\r\n",
			clientCL: -1,
		},
		{
			name: "plain get with hop-by-hop noise", loc: "/", method: "GET",
			target: ClientTarget{RequestURI: []byte("/"), URI: []byte("/")},
			headers: "Host: example.com\nConnection: keep-alive\nUser-Agent: Mozilla/5.0 test\nAccept: text/html\nKeep-Alive: 300\n" +
				"TE: trailers\nProxy-Connection: keep-alive\nX-Forwarded-For: 192.0.2.1\nUpgrade: h2c\nX-Hop: 1\n",
			bodyLen: -1, response: okResp, clientCL: 0,
		},
		{
			name: "raw target kept", loc: "/", method: "POST",
			target:  ClientTarget{RequestURI: []byte("/p%2Fq/../r?a=%2F"), URI: []byte("/r"), Args: []byte("a=%2F"), Quoted: true},
			headers: "Host: example.com\nExpect: 100-continue\nContent-Length: 3\n", bodyLen: 3, body: "abc",
			response: okResp, clientCL: 0,
		},
		{
			name: "uri part with quoted path", loc: "/api/", method: "GET",
			target: ClientTarget{RequestURI: []byte("/api/a/../b%2Fc//d%20e?q=%20&r=1"), URI: []byte("/api/b/c/d e"),
				Args: []byte("q=%20&r=1"), Quoted: true},
			headers: "Host: example.com\n", bodyLen: -1, response: redirResp("http://" + b + "/v1/next"), clientCL: 0,
		},
		{
			name: "length cut", loc: "/nos", method: "GET",
			target:  ClientTarget{RequestURI: []byte("/nosfoo/bar?a=1"), URI: []byte("/nosfoo/bar"), Args: []byte("a=1")},
			headers: "Host: example.com\n", bodyLen: -1, response: redirResp("http://" + b + "/x/y"), clientCL: 0,
		},
		{
			name: "set headers", loc: "/hdr/", method: "GET",
			target:  ClientTarget{RequestURI: []byte("/hdr/x"), URI: []byte("/hdr/x")},
			headers: "Host: Example.COM:80\nUser-Agent: ua\nX-Empty: e\nx-CONST: dup\nX-Forwarded-For: 1.2.3.4\nA: 1\nA: 2\n",
			bodyLen: -1, response: redirResp("http://" + b + "/hdr/z"), clientCL: 0,
		},
		{
			name: "hide and pass", loc: "/hide/", method: "GET",
			target:  ClientTarget{RequestURI: []byte("/hide/x"), URI: []byte("/hide/x")},
			headers: "Host: example.com\n", bodyLen: -1,
			response: "HTTP/1.1 302 Found\r\nServer: app\r\nX-Secret: s\r\nLocation: http://" + b + "/x\r\nX-Accel-Buffering: no\r\nContent-Length: 0\r\n\r\n",
			clientCL: 0,
		},
	}
	env := map[string]string{"http_upgrade": "websocket", "host": "example.com"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			response.Store(&tc.response)
			rec.Reset()
			rawReq := tc.method + " " + string(tc.target.RequestURI) + " HTTP/1.1\r\n" + crlf(tc.headers) + "\r\n" + tc.body
			nginxResp := rawExchange(t, port, rawReq)
			reqs := rec.WaitRequests(1, 10*time.Second)
			if len(reqs) == 0 {
				t.Fatal("backend got no request")
			}
			upstream := headOf(reqs[0])

			lc := byPath[tc.loc]
			rule := NewTargetRule(lc.ProxyPass, tc.loc, false)
			target, err := rule.Append(nil, &tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := NewHeaderPlan(lc, compileWith(env))
			if err != nil {
				t.Fatal(err)
			}
			got := plan.AppendRequest(nil, &UpstreamRequest{
				Method: []byte(tc.method), Target: target, Headers: parseHead(t, tc.headers),
				BodyLength: tc.bodyLen, Upgrade: tc.wsUpgrade,
			})
			diffBytes(t, got, upstream)

			// The response head: nginx's Server and Date normalized to ours.
			statusLine, rest, _ := strings.Cut(tc.response, "\r\n")
			code, _ := strconv.Atoi(statusLine[9:12])
			rplan, err := NewResponsePlan(lc, tc.loc, false, "1.22.1", compileWith(env))
			if err != nil {
				t.Fatal(err)
			}
			headBlock, _, _ := strings.Cut(rest, "\r\n\r\n")
			conn := ConnKeepAlive
			gotResp := rplan.AppendResponse(nil,
				&UpstreamResponse{Status: code, StatusLine: []byte(statusLine[9:]), Headers: parseHead(t, headBlock)},
				&ClientResponse{Date: []byte(testDate), ContentLength: tc.clientCL, Conn: conn,
					Host: []byte("example.com"), Port: port})
			want := bytes.ReplaceAll(nginxResp, []byte("Server: nginx/1.22.1\r\n"), []byte("Server: wsgate/1.22.1\r\n"))
			want = dateLine.ReplaceAll(want, []byte("Date: "+testDate+"\r"))
			diffBytes(t, gotResp, want)
		})
	}
}

func TestErrorPageAgainstNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	dead := proxytest.FreePort(t) // nothing listens there: connect() is refused
	port := startNginx(t, fmt.Sprintf("        location / { proxy_pass http://127.0.0.1:%d; }\n", dead))
	// wsgate's side is the page the serving path writes for a refused
	// connect: ResponseWriter.WriteError with the status the proxy's
	// Classify gives it (502, pinned by the proxy's errors_test).
	gate := serveHTTP1(t, "wsgate/1.22.1", func(w *http1.ResponseWriter, _ *http1.Request) {
		w.WriteError(502)
	})
	tests := []struct {
		name, ua string
	}{
		{"plain client", "curl/8.0"},
		{"chrome gets padding", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: " + tc.ua + "\r\nConnection: close\r\n\r\n"
			want := readAll(t, fmt.Sprintf("127.0.0.1:%d", port), req)
			want = bytes.ReplaceAll(want, []byte("nginx/1.22.1"), []byte("wsgate/1.22.1"))
			// The body names the server once: "wsgate" is one byte longer.
			want = clLine.ReplaceAllFunc(want, func(m []byte) []byte {
				n, _ := strconv.Atoi(string(m[len("Content-Length: "):]))
				return []byte("Content-Length: " + strconv.Itoa(n+len("wsgate")-len("nginx")))
			})
			want = dateLine.ReplaceAll(want, []byte("Date: "+testDate+"\r"))
			got := dateLine.ReplaceAll(readAll(t, gate, req), []byte("Date: "+testDate+"\r"))
			diffBytes(t, got, want)
		})
	}
}

// serveHTTP1 runs http1.Serve with h on a loopback listener and returns
// its address; serverName is the Server header and page footer.
func serveHTTP1(t *testing.T, serverName string, h http1.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := http1.DefaultConnConfig()
	cfg.ServerName = serverName
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				http1.Serve(c, &cfg, h)
			}()
		}
	}()
	return ln.Addr().String()
}

// readAll sends req to addr and reads until the server closes.
func readAll(t *testing.T, addr, req string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
