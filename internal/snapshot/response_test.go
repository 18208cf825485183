package snapshot

import (
	"bytes"
	"testing"
	"time"

	"wsgate/internal/config"
)

const testDate = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestAppendResponse(t *testing.T) {
	env := map[string]string{"scheme": "http", "host": "example.com"}
	tests := []struct {
		name       string
		lc         *config.LocConf
		loc        string
		status     int
		statusLine string
		headers    string
		cl         int64
		chunked    bool
		conn       ConnMode
		want       string
	}{
		{
			// §9.1: the 101 the client gets.
			name: "seed 101", lc: seedWSConf(), loc: "/ws/", status: 101, statusLine: "101 Switching Protocols",
			headers: "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nServer: backend\nX-Backend: ws\n",
			cl:      -1, conn: ConnClose,
			want: "HTTP/1.1 101 Switching Protocols\nServer: wsgate/1.0\nDate: " + testDate +
				"\nConnection: upgrade\nUpgrade: websocket\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nX-Backend: ws\n\n",
		},
		{
			// §9.2: hidden and hop-by-hop lines dropped, Content-Type moved.
			name: "seed 200", lc: seedRootConf(), loc: "/", status: 200, statusLine: "200 OK",
			headers: "Server: app\nDate: Tue, 01 Jan 2030 00:00:00 GMT\nX-Accel-Buffering: no\nKeep-Alive: timeout=5\n" +
				"Connection: keep-alive\nX-Pad: avoid browser bug\nContent-Type: text/plain\nContent-Length: 6\n",
			cl: 6, conn: ConnKeepAlive,
			want: "HTTP/1.1 200 OK\nServer: wsgate/1.0\nDate: " + testDate +
				"\nContent-Type: text/plain\nContent-Length: 6\nConnection: keep-alive\n\n",
		},
		{
			// keepalive_timeout 60 50: nginx's header filter adds its own
			// Keep-Alive line; the backend's is dropped.
			name: "keepalive header", lc: func() *config.LocConf { lc := seedRootConf(); lc.KeepaliveHeader = 50 * time.Second; return lc }(),
			loc: "/", status: 200, statusLine: "200 OK",
			headers: "Keep-Alive: timeout=5\nContent-Length: 6\n",
			cl:      6, conn: ConnKeepAlive,
			want: "HTTP/1.1 200 OK\nServer: wsgate/1.0\nDate: " + testDate +
				"\nContent-Length: 6\nConnection: keep-alive\nKeep-Alive: timeout=50\n\n",
		},
		{
			// §2.2 [run]: proxy_redirect default makes the seed's absolute
			// backend Location relative, then the header filter absolute.
			name: "redirect default", lc: seedRootConf(), loc: "/", status: 302, statusLine: "302 Found",
			headers: "X-A: 1\nLocation: http://localhost:3000/login\nX-B: 2\n", cl: 0, conn: ConnKeepAlive,
			want: "HTTP/1.1 302 Found\nServer: wsgate/1.0\nDate: " + testDate +
				"\nContent-Length: 0\nLocation: http://example.com:8080/login\nConnection: keep-alive\nX-A: 1\nX-B: 2\n\n",
		},
		{
			name: "relative location stays relative and in place", lc: seedRootConf(), loc: "/", status: 302, statusLine: "302 Found",
			headers: "X-A: 1\nLocation: /rel\n", cl: -1, chunked: true, conn: ConnKeepAlive,
			want: "HTTP/1.1 302 Found\nServer: wsgate/1.0\nDate: " + testDate +
				"\nTransfer-Encoding: chunked\nConnection: keep-alive\nX-A: 1\nLocation: /rel\n\n",
		},
		{
			name: "foreign location untouched", lc: seedRootConf(), loc: "/", status: 301, statusLine: "301 Moved Permanently",
			headers: "Location: http://other/x\n", cl: -1, conn: ConnClose,
			want: "HTTP/1.1 301 Moved Permanently\nServer: wsgate/1.0\nDate: " + testDate +
				"\nConnection: close\nLocation: http://other/x\n\n",
		},
		{
			name: "default with uri part maps to location name",
			lc: &config.LocConf{
				ProxyPass:    &config.ProxyPass{Raw: "http://b:81/v1/", Scheme: "http", Host: "b", Port: "81", URI: "/v1/", HasURI: true},
				ServerTokens: false,
			},
			loc: "/api/", status: 302, statusLine: "302 Found",
			headers: "Location: http://b:81/v1/x?y\nRefresh: 5; URL=http://b:81/v1/r\n", cl: -1, conn: ConnClose,
			want: "HTTP/1.1 302 Found\nServer: wsgate\nDate: " + testDate +
				"\nLocation: http://example.com:8080/api/x?y\nConnection: close\nRefresh: 5; URL=/api/r\n\n",
		},
		{
			name: "proxy_redirect off, pass and hide headers",
			lc: &config.LocConf{
				ProxyPass:        &config.ProxyPass{Raw: "http://b", Scheme: "http", Host: "b"},
				ProxyRedirectOff: true,
				ProxyPassHeaders: []string{"server", "date", "x-accel-buffering"},
				ProxyHideHeaders: []string{"x-secret"},
				ServerTokens:     true,
			},
			loc: "/", status: 302, statusLine: "302 Moved",
			headers: "Server: app\nX-Secret: s\nLocation: http://b/x\nX-Accel-Buffering: no\nStatus: 302\n", cl: -1, conn: ConnClose,
			want: "HTTP/1.1 302 Moved\n" +
				"Connection: close\nServer: app\nLocation: http://b/x\nX-Accel-Buffering: no\nStatus: 302\n\n",
		},
		{
			name: "explicit and regex redirects",
			lc: &config.LocConf{
				ProxyPass: &config.ProxyPass{Raw: "http://b", Scheme: "http", Host: "b"},
				ProxyRedirect: []config.Redirect{
					{From: "http://nomatch/", To: "/x/"},
					{From: `^http://(?P<h>[a-z]+)\.internal/(.*)$`, To: "https://$1.pub/${h}/$2$", Regex: true},
				},
			},
			loc: "/", status: 302, statusLine: "302 Found",
			headers: "Location: http://api.internal/a\n", cl: -1, conn: ConnClose,
			want: "HTTP/1.1 302 Found\nServer: wsgate\nDate: " + testDate +
				"\nConnection: close\nLocation: https://api.pub/api/a$\n\n",
		},
		{
			name: "explicit redirect with variables",
			lc: &config.LocConf{
				ProxyPass:     &config.ProxyPass{Raw: "http://b", Scheme: "http", Host: "b"},
				ProxyRedirect: []config.Redirect{{From: "http://b/", To: "$scheme://$host/app/"}},
			},
			loc: "/", status: 302, statusLine: "302 Found",
			headers: "Location: http://b/x\n", cl: -1, conn: ConnClose,
			want: "HTTP/1.1 302 Found\nServer: wsgate\nDate: " + testDate +
				"\nConnection: close\nLocation: http://example.com/app/x\n\n",
		},
		{
			name: "pass_header Server without upstream Server sends none",
			lc: &config.LocConf{
				ProxyPass: &config.ProxyPass{Raw: "http://b", Scheme: "http", Host: "b"}, ProxyPassHeaders: []string{"server"},
			},
			loc: "/", status: 204, statusLine: "204 No Content", headers: "X: y\n", cl: -1, conn: ConnKeepAlive,
			want: "HTTP/1.1 204 No Content\nDate: " + testDate + "\nConnection: keep-alive\nX: y\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// nginx's defaults, which config.Check sets.
			tc.lc.AbsoluteRedirect, tc.lc.PortInRedirect = true, true
			plan, err := NewResponsePlan(tc.lc, tc.loc, false, "1.0", compileWith(env))
			if err != nil {
				t.Fatal(err)
			}
			up := &UpstreamResponse{Status: tc.status, StatusLine: []byte(tc.statusLine), Headers: parseHead(t, tc.headers)}
			c := &ClientResponse{
				Date: []byte(testDate), ContentLength: tc.cl, Chunked: tc.chunked, Conn: tc.conn,
				Host: []byte("example.com"), Port: 8080,
			}
			diffBytes(t, plan.AppendResponse(nil, up, c), []byte(crlf(tc.want)))
		})
	}
}

func TestRegexRedirectRejectsOtherVariables(t *testing.T) {
	lc := &config.LocConf{
		ProxyPass:     &config.ProxyPass{Raw: "http://b", Scheme: "http", Host: "b"},
		ProxyRedirect: []config.Redirect{{From: "^/(.*)", To: "$scheme://x/$1", Regex: true}},
	}
	if _, err := NewResponsePlan(lc, "/", false, "", compileWith(nil)); err == nil {
		t.Errorf("got no error for $scheme in a regex replacement; want one")
	}
}

func TestAppendResponseAllocs(t *testing.T) {
	for _, lc := range []*config.LocConf{seedRootConf(), withFileHeaders(seedRootConf())} {
		appendResponseAllocs(t, lc)
	}
}

// withFileHeaders adds charset and "expires modified 1h" to lc: the
// headers the files family puts on proxied responses too.
func withFileHeaders(lc *config.LocConf) *config.LocConf {
	lc.Files.Charset, lc.Files.CharsetTypes = "utf-8", []string{"text/html"}
	lc.Files.Expires = config.Expires{Mode: config.ExpiresModified, Time: time.Hour}
	return lc
}

func appendResponseAllocs(t *testing.T, lc *config.LocConf) {
	plan, err := NewResponsePlan(lc, "/", false, "1.0", compileWith(nil))
	if err != nil {
		t.Fatal(err)
	}
	up := &UpstreamResponse{Status: 302, StatusLine: []byte("302 Found"),
		Headers: parseHead(t, "Server: app\nContent-Type: text/html\nLocation: http://localhost:3000/login\nSet-Cookie: a=b\n")}
	c := &ClientResponse{Date: []byte(testDate), ContentLength: 0, Conn: ConnKeepAlive, Host: []byte("example.com"), Port: 80}
	buf := make([]byte, 0, 4096)
	c.Scratch = make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() { buf = plan.AppendResponse(buf[:0], up, c) })
	if allocs != 0 {
		t.Errorf("got %v allocs per response; want 0", allocs)
	}
	if lc.Files.Expires.Mode != config.ExpiresOff {
		// A 302 gets no charset; expires counts from now without the
		// backend's Last-Modified.
		if !bytes.Contains(buf, []byte("\r\nSet-Cookie: a=b\r\nExpires: ")) || !bytes.Contains(buf, []byte("\r\nCache-Control: max-age=3600\r\n\r\n")) ||
			bytes.Contains(buf, []byte("charset")) {
			t.Errorf("with charset and expires: got\n%s", buf)
		}
		return
	}
	want := crlf("HTTP/1.1 302 Found\nServer: wsgate/1.0\nDate: " + testDate +
		"\nContent-Type: text/html\nContent-Length: 0\nLocation: http://example.com/login\nConnection: keep-alive\nSet-Cookie: a=b\n\n")
	diffBytes(t, buf, []byte(want))
}

func BenchmarkAppendResponseSeed101(b *testing.B) {
	plan, err := NewResponsePlan(seedWSConf(), "/ws/", false, "1.0", compileWith(nil))
	if err != nil {
		b.Fatal(err)
	}
	up := &UpstreamResponse{Status: 101, StatusLine: []byte("101 Switching Protocols"),
		Headers: parseHead(b, "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nServer: backend\nX-Backend: ws\n")}
	c := &ClientResponse{Date: []byte(testDate), ContentLength: -1}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = plan.AppendResponse(buf[:0], up, c)
	}
}
