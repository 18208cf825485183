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
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/vars"
)

// redirectOrProxy is the content handler of proxied locations in
// TestInternalRedirectProxied: the locations in redirect redirect
// internally, the others are proxied by the connection's proxy.
type redirectOrProxy struct {
	redirect map[string]exchange.Result
	proxy    proxy.ContentHandler
}

func (h *redirectOrProxy) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	if res, ok := h.redirect[loc.Location.Path]; ok {
		return res
	}
	return h.proxy.ServeContent(w, r, loc, vc)
}

// TestInternalRedirectProxied checks the request line the proxy sends
// after an internal redirect: nginx sends the new $uri, escaped, with the
// new $args, instead of the client's raw target (ngx_http_internal_redirect
// clears r->valid_unparsed_uri; ngx_http_proxy_create_request escapes
// r->uri when r->internal). Checked against nginx 1.22 with
// error_page 404 = "/b/x y?k=v".
func TestInternalRedirectProxied(t *testing.T) {
	be := proxytest.NewRecording(t, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
	conf := strings.ReplaceAll(`
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		location /a { proxy_pass http://BE; }
		location /c { proxy_pass http://BE; }
		location /b { proxy_pass http://BE; }
		location /d/ { proxy_pass http://BE/up/; }
	}
}
`, "BE", be.Addr)
	redirect := map[string]exchange.Result{
		"/a": {RedirectURI: "/b/x y", RedirectArgs: "k=v"},
		"/c": {RedirectURI: "/d/x y", RedirectArgs: "k=v"},
	}
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
		return &redirectOrProxy{redirect: redirect, proxy: ph.Conn(xc, l)}
	})
	tests := []struct{ desc, target, wantLine string }{
		{desc: "proxy_pass without a URI", target: "/a/1%41?q", wantLine: "GET /b/x%20y?k=v HTTP/1.0"},
		{desc: "proxy_pass with a URI", target: "/c/1?q", wantLine: "GET /up/x%20y?k=v HTTP/1.0"},
		{desc: "no redirect", target: "/b/1%41?q", wantLine: "GET /b/1%41?q HTTP/1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			be.Reset()
			if status, _ := get(t, addr, tt.target); status != "HTTP/1.1 200 OK" {
				t.Fatalf("got status %q; want 200", status)
			}
			reqs := be.WaitRequests(1, 10*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("backend got %d requests; want 1", len(reqs))
			}
			if reqs[0].Line != tt.wantLine {
				t.Errorf("backend got %q; want %q", reqs[0].Line, tt.wantLine)
			}
		})
	}
}
