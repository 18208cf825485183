package probe

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
)

func run(t *testing.T, o Options) *Result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Run(ctx, o)
}

// wantCause fails unless r's cause is want and its explanation holds every
// one of words.
func wantCause(t *testing.T, r *Result, want Cause, words ...string) {
	t.Helper()
	if r.Cause != want {
		t.Fatalf("cause: got %q (%s); want %q", r.Cause, r.Explanation, want)
	}
	if r.OK != (want == CauseOK) {
		t.Errorf("OK: got %v; want %v", r.OK, want == CauseOK)
	}
	for _, w := range words {
		if !strings.Contains(r.Explanation+"\n"+r.Fix, w) {
			t.Errorf("explanation and fix: got %q / %q; want them to mention %q", r.Explanation, r.Fix, w)
		}
	}
}

func TestEchoBackendDirect(t *testing.T) {
	b := proxytest.NewWSEcho(t, proxytest.WSOptions{Subprotocols: []string{"chat"}})
	tests := []struct {
		name  string
		opts  Options
		count int
	}{
		{name: "defaults", opts: Options{URL: "ws://" + b.Addr + "/ws/echo", Count: 1}, count: 1},
		{name: "http scheme, many large messages", opts: Options{URL: "http://" + b.Addr + "/x", Count: 5, Size: 70000}, count: 5},
		{name: "no echo", opts: Options{URL: "ws://" + b.Addr + "/", Count: 0}},
		{name: "subprotocol and origin", opts: Options{URL: "ws://" + b.Addr + "/", Count: 2, Subprotocols: []string{"chat"}, Origin: "http://example.com"}, count: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.opts)
			wantCause(t, r, CauseOK)
			if !r.Upgraded || !r.AcceptOK || r.Status != 101 {
				t.Errorf("upgraded, accept ok, status: got %v %v %d; want true true 101", r.Upgraded, r.AcceptOK, r.Status)
			}
			if !strings.HasPrefix(r.StatusLine, "HTTP/1.1 101") {
				t.Errorf("status line: got %q; want HTTP/1.1 101 ...", r.StatusLine)
			}
			if tt.count > 0 && (r.Echo == nil || r.Echo.Received != tt.count || r.Echo.AvgMS <= 0) {
				t.Errorf("echo: got %+v; want %d received with a round trip", r.Echo, tt.count)
			}
			if r.Ping == nil || !r.Ping.Pong {
				t.Errorf("ping: got %+v; want a pong", r.Ping)
			}
			if want := strings.Join(tt.opts.Subprotocols, ""); r.Subprotocol != want {
				t.Errorf("subprotocol: got %q; want %q", r.Subprotocol, want)
			}
		})
	}
	if got := len(b.Requests()); got != len(tests) {
		t.Errorf("handshakes at the backend: got %d; want %d", got, len(tests))
	}
}

func TestHoldSurvives(t *testing.T) {
	b := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	r := run(t, Options{URL: "ws://" + b.Addr + "/", Count: 1, Hold: 300 * time.Millisecond})
	wantCause(t, r, CauseOK)
	if r.Hold == nil || !r.Hold.Survived {
		t.Errorf("hold: got %+v; want survived", r.Hold)
	}
}

// idleCloser completes the handshake, echoes, and closes the connection
// after idle of silence, as nginx's proxy_read_timeout does.
func idleCloser(t *testing.T, idle time.Duration, closeFrame bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			ctx, cancel := context.WithTimeout(r.Context(), idle)
			typ, p, err := c.Read(ctx)
			cancel()
			if err != nil {
				if closeFrame {
					c.Close(websocket.StatusGoingAway, "idle")
				}
				return
			}
			c.Write(r.Context(), typ, p)
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestHoldCut(t *testing.T) {
	u := idleCloser(t, 700*time.Millisecond, false)
	r := run(t, Options{URL: u + "/", Count: 1, Hold: 5 * time.Second})
	wantCause(t, r, CauseIdleCut, "cut after", "proxy_read_timeout 86400s")
	if r.Hold == nil || r.Hold.Survived || r.Hold.CutAfterMS < 400 || r.Hold.CutAfterMS > 4000 {
		t.Errorf("hold: got %+v; want cut after about 0.7s", r.Hold)
	}
}

func TestStatuses(t *testing.T) {
	raw := func(status string, extra string) string {
		return "HTTP/1.1 " + status + "\r\n" + extra + "Content-Length: 5\r\n\r\nnope\n"
	}
	tests := []struct {
		name     string
		response string
		path     string
		want     Cause
		words    []string
	}{
		{name: "200 from an app", response: raw("200 OK", "Content-Type: text/html\r\n"), path: "/ws/", want: CauseNotUpgraded, words: []string{"not upgraded", "location /ws/"}},
		{name: "426 from a backend", response: raw("426 Upgrade Required", ""), path: "/ws/", want: CauseNotForwarded, words: []string{"proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade", `proxy_set_header Connection "upgrade"`}},
		{name: "400 from a backend", response: raw("400 Bad Request", ""), path: "/ws/", want: CauseNotForwarded, words: []string{"proxy_http_version 1.1"}},
		{name: "301 to the slash", response: raw("301 Moved Permanently", "Location: http://h/ws/\r\n"), path: "/ws", want: CauseTrailingSlash, words: []string{"trailing slash", "/ws/"}},
		{name: "302 elsewhere", response: raw("302 Found", "Location: /login\r\n"), path: "/ws/", want: CauseRedirect, words: []string{"/login"}},
		{name: "403", response: raw("403 Forbidden", ""), path: "/ws/", want: CauseForbidden, words: []string{"--origin"}},
		{name: "404", response: raw("404 Not Found", ""), path: "/nope", want: CauseNotFound, words: []string{"/nope"}},
		{name: "502", response: raw("502 Bad Gateway", "Server: nginx\r\n"), path: "/ws/", want: CauseBackendDown, words: []string{"proxy_pass"}},
		{name: "504", response: raw("504 Gateway Timeout", ""), path: "/ws/", want: CauseBackendSlow, words: []string{"proxy_read_timeout"}},
		{name: "plain to TLS port (nginx)", response: raw("400 Bad Request", "") + "", path: "/", want: CauseNotForwarded},
		{name: "101 with a wrong accept", response: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n", path: "/", want: CauseBadHandshake, words: []string{"Sec-WebSocket-Accept"}},
		{name: "h2c frame", response: "\x00\x00\x00\x04\x00\x00\x00\x00\x00", path: "/", want: CauseHTTP2Only, words: []string{"HTTP/2"}},
		{name: "TLS alert bytes", response: "\x15\x03\x01\x00\x02\x02\x46", path: "/", want: CauseTLSPort, words: []string{"wss://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := proxytest.NewRecording(t, tt.response)
			r := run(t, Options{URL: "ws://" + b.Addr + tt.path, Count: 1})
			wantCause(t, r, tt.want, tt.words...)
		})
	}
}

func TestNginxPlainToTLSPortBody(t *testing.T) {
	body := "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n</html>\r\n"
	b := proxytest.NewRecording(t, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	r := run(t, Options{URL: "ws://" + b.Addr + "/ws/"})
	wantCause(t, r, CauseTLSPort, "wss://")
}

func TestConnectFailures(t *testing.T) {
	closedAddr := proxytest.FreeAddr(t) // nothing listens there
	tests := []struct {
		name string
		url  string
		want Cause
	}{
		{name: "refused", url: "ws://" + closedAddr + "/ws/", want: CauseRefused},
		{name: "bad scheme", url: "ftp://" + closedAddr + "/", want: CauseBadURL},
		{name: "no host", url: "ws:///ws/", want: CauseBadURL},
		{name: "closed without answer", url: "ws://" + proxytest.NewAbrupt(t, proxytest.CloseAfterRequest).Addr + "/", want: CauseNoResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCause(t, run(t, Options{URL: tt.url}), tt.want)
		})
	}
}

func wsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, p)
		}
	})
}

func TestTLS(t *testing.T) {
	good := httptest.NewUnstartedServer(wsHandler())
	good.Config.ErrorLog = log.New(io.Discard, "", 0) // the failing cases log handshake errors
	good.StartTLS()
	t.Cleanup(good.Close)
	h2only := h2OnlyServer(t, good.TLS.Certificates)
	plain := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	hostport := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "https://") }

	tests := []struct {
		name     string
		url      string
		insecure bool
		want     Cause
		words    []string
	}{
		{name: "verified", url: "wss://" + hostport(good) + "/", insecure: true, want: CauseOK},
		{name: "unknown authority", url: "wss://" + hostport(good) + "/", want: CauseTLSCert, words: []string{"--insecure"}},
		{name: "http2 only", url: "wss://" + h2only + "/", insecure: true, want: CauseHTTP2Only, words: []string{"HTTP/2", "http/1.1"}},
		{name: "wss to a plain port", url: "wss://" + plain.Addr + "/", want: CauseNotTLS, words: []string{"ws://"}},
		{name: "ws to a TLS port", url: "ws://" + hostport(good) + "/", want: CauseTLSPort, words: []string{"wss://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Options{URL: tt.url, Insecure: tt.insecure, Count: 1})
			wantCause(t, r, tt.want, tt.words...)
			if tt.want == CauseOK && (r.TLS == nil || r.TLS.ALPN != "http/1.1" && r.TLS.ALPN != "") {
				t.Errorf("TLS: got %+v; want TLS with ALPN http/1.1 or none", r.TLS)
			}
		})
	}
}

// h2OnlyServer is a TLS server that speaks only HTTP/2: whatever ALPN says,
// it sends its SETTINGS frame (the server connection preface, RFC 9113
// 3.4) and closes.
func h2OnlyServer(t *testing.T, certs []tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: certs, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.Write([]byte("\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
				buf := make([]byte, 1024)
				c.Read(buf)
			}()
		}
	}()
	return ln.Addr().String()
}
