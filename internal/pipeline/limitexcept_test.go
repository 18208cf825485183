package pipeline_test

import (
	"log/slog"
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

// TestLimitExceptProxyPass checks proxy_pass inside limit_except: the
// methods the block does not name (an unknown one too) are checked with
// the block's rules and proxied by its proxy_pass, the request line as
// the client sent it (the block's proxy_pass has no URI part); the
// methods it names (GET brings HEAD) go to the location's, whose URI
// part replaces the location's prefix; without a proxy_pass of its own
// the block's methods are proxied by the location's; a location whose
// block alone proxies serves the named methods itself (no root here:
// 404). Checked against nginx 1.22 (proxy_if.t's
// /proxy-pass-uri-lmt-different and testdata/diff).
func TestLimitExceptProxyPass(t *testing.T) {
	loc := proxytest.NewRecording(t, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nloc")
	blk := proxytest.NewRecording(t, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nblk")
	conf := strings.NewReplacer("LOC", loc.Addr, "BLK", blk.Addr).Replace(`
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		location /a/ {
			proxy_pass http://LOC/r/;
			limit_except GET { allow all; proxy_pass http://BLK; }
		}
		location /d/ {
			proxy_pass http://LOC/r/;
			limit_except GET { deny all; proxy_pass http://BLK; }
		}
		location /i/ {
			proxy_pass http://LOC/r/;
			limit_except GET { allow all; }
		}
		location /b/ {
			root /nonexistent;
			limit_except GET { proxy_pass http://BLK; }
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
		desc, method, target string
		wantStatus, wantBody string
		be                   *proxytest.Backend // nil: no backend is asked
		wantLine             string
	}{
		{"named method: the location's proxy_pass", "GET", "/a/x?q", "HTTP/1.1 200 OK", "loc", loc, "GET /r/x?q HTTP/1.0"},
		{"HEAD with GET", "HEAD", "/a/x", "HTTP/1.1 200 OK", "", loc, "HEAD /r/x HTTP/1.0"},
		{"other method: the block's proxy_pass", "POST", "/a/x?q", "HTTP/1.1 200 OK", "blk", blk, "POST /a/x?q HTTP/1.0"},
		{"unknown method: the block's", "FOO", "/a/x", "HTTP/1.1 200 OK", "blk", blk, "FOO /a/x HTTP/1.0"},
		{"the block's rules first", "POST", "/d/x", "HTTP/1.1 403 Forbidden", "", nil, ""},
		{"the block's named method", "GET", "/d/x", "HTTP/1.1 200 OK", "loc", loc, "GET /r/x HTTP/1.0"},
		{"block without proxy_pass: the location's", "POST", "/i/x", "HTTP/1.1 200 OK", "loc", loc, "POST /r/x HTTP/1.0"},
		{"location without proxy_pass, named method", "GET", "/b/x", "HTTP/1.1 404 Not Found", "", nil, ""},
		{"location without proxy_pass, other method", "DELETE", "/b/x", "HTTP/1.1 200 OK", "blk", blk, "DELETE /b/x HTTP/1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			loc.Reset()
			blk.Reset()
			req := tt.method + " " + tt.target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
			if tt.method == "POST" {
				req += "Content-Length: 0\r\n"
			}
			status, body := roundTrip(t, addr, req+"\r\n")
			if status != tt.wantStatus {
				t.Fatalf("got status %q; want %q", status, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("got body %q; want %q", body, tt.wantBody)
			}
			if tt.be == nil {
				if n := len(loc.Requests()) + len(blk.Requests()); n != 0 {
					t.Errorf("backends got %d requests; want none", n)
				}
				return
			}
			reqs := tt.be.WaitRequests(1, 10*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("backend got %d requests; want 1", len(reqs))
			}
			if reqs[0].Line != tt.wantLine {
				t.Errorf("backend got %q; want %q", reqs[0].Line, tt.wantLine)
			}
		})
	}
}
