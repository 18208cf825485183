package pipeline_test

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/proxytest"
	"wsgate/internal/tunnel"
)

// TestAuthRequest checks auth_request in the access phase with real
// loopback backends: the subrequest is a GET with the client's headers
// and no body, the client's body still reaches the backend after it,
// auth_request_set reads the subrequest's $upstream_http_*, and satisfy
// decides with the other checks (under "satisfy any" an auth_basic
// challenge is dropped when the subrequest lets the request through, as
// ngx_http_core_access_phase clears headers_out.www_authenticate; under
// "satisfy all" a refused auth_basic makes no subrequest).
func TestAuthRequest(t *testing.T) {
	auth := proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		if v, _ := r.Get("X-Token"); v == "good" {
			return []byte("HTTP/1.1 200 OK\r\nX-User: alice\r\nContent-Length: 5\r\n\r\nhello")
		}
		return []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n")
	})
	app := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("u:{PLAIN}p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("AUTH", auth.Addr, "APP", app.Addr, "DIR", dir).Replace(`
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		location /app/ {
			auth_request /_auth;
			auth_request_set $user $upstream_http_x_user;
			proxy_set_header X-User $user;
			proxy_pass http://APP;
		}
		location /any/ {
			satisfy any;
			auth_basic "r";
			auth_basic_user_file DIR/htpasswd;
			auth_request /_auth;
			proxy_pass http://APP;
		}
		location /all/ {
			auth_basic "r";
			auth_basic_user_file DIR/htpasswd;
			auth_request /_auth;
			proxy_pass http://APP;
		}
		location = /_auth {
			internal;
			proxy_pass http://AUTH/check;
		}
	}
}
`)
	ph := &proxy.Handler{Tunnels: tunnel.NewRegistry(), Buffers: tunnel.NewBufferPool(0), Log: slog.New(slog.DiscardHandler)}
	var mu sync.Mutex
	var locals []*proxy.Local
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range locals {
			l.Close()
		}
	})
	addr, _ := serveWith(t, conf, func(xc *exchange.Conn) pipeline.Content {
		l := new(proxy.Local)
		mu.Lock()
		locals = append(locals, l)
		mu.Unlock()
		return ph.Conn(xc, l)
	})
	tests := []struct {
		desc, req  string
		wantStatus string
		wantAuth   int    // requests the auth backend gets
		wantApp    string // the app's request line and X-User, "" for none
		wantBody   string // the body the app gets
		noHeader   string // a header the answer must not have
	}{
		{
			desc:       "allowed POST keeps its body for the backend",
			req:        "POST /app/x HTTP/1.1\r\nHost: h\r\nX-Token: good\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
			wantStatus: "HTTP/1.1 200 OK", wantAuth: 1, wantApp: "POST /app/x HTTP/1.0 alice", wantBody: "abc",
		},
		{
			desc:       "refused",
			req:        "GET /app/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			wantStatus: "HTTP/1.1 401 Unauthorized", wantAuth: 1,
		},
		{
			desc:       "satisfy any: the subrequest allows after auth_basic asked",
			req:        "GET /any/x HTTP/1.1\r\nHost: h\r\nX-Token: good\r\nConnection: close\r\n\r\n",
			wantStatus: "HTTP/1.1 200 OK", wantAuth: 1, wantApp: "GET /any/x HTTP/1.0 ", noHeader: "WWW-Authenticate",
		},
		{
			desc:       "satisfy all: no subrequest without credentials",
			req:        "GET /all/x HTTP/1.1\r\nHost: h\r\nX-Token: good\r\nConnection: close\r\n\r\n",
			wantStatus: "HTTP/1.1 401 Unauthorized", wantAuth: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			auth.Reset()
			app.Reset()
			resp := rawRoundTrip(t, addr, tt.req)
			if line, _, _ := strings.Cut(resp, "\r\n"); line != tt.wantStatus {
				t.Fatalf("got %q; want %q", line, tt.wantStatus)
			}
			if tt.noHeader != "" && strings.Contains(resp, tt.noHeader+":") {
				t.Errorf("answer has %s:\n%s", tt.noHeader, resp)
			}
			if tt.wantAuth > 0 {
				reqs := auth.WaitRequests(tt.wantAuth, 10*time.Second)
				if len(reqs) != tt.wantAuth {
					t.Fatalf("auth backend got %d requests; want %d", len(reqs), tt.wantAuth)
				}
				r := reqs[0]
				if r.Line != "GET /check HTTP/1.0" || len(r.Body) != 0 {
					t.Errorf("auth backend got %q with body %q; want a GET /check without body", r.Line, r.Body)
				}
			} else if n := len(auth.Requests()); n != 0 {
				t.Errorf("auth backend got %d requests; want none", n)
			}
			if tt.wantApp == "" {
				if n := len(app.Requests()); n != 0 {
					t.Errorf("app got %d requests; want none", n)
				}
				return
			}
			reqs := app.WaitRequests(1, 10*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("app got %d requests; want 1", len(reqs))
			}
			user, _ := reqs[0].Get("X-User")
			if got := reqs[0].Line + " " + user; got != tt.wantApp || string(reqs[0].Body) != tt.wantBody {
				t.Errorf("app got %q with body %q; want %q with %q", got, reqs[0].Body, tt.wantApp, tt.wantBody)
			}
		})
	}
}

// rawRoundTrip sends req and returns the whole answer, up to the
// connection's close.
func rawRoundTrip(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	resp, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return string(resp)
}
