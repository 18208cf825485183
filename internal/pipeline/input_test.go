package pipeline_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/proxytest"
	"wsgate/internal/tunnel"
)

// TestInputHeaders checks headers-more's input commands at the end of the
// rewrite phase: the lines sent upstream, $http_NAME and $host read the
// changed headers, an if block's commands run after the location's, and
// a cleared Authorization leaves no $remote_user.
func TestInputHeaders(t *testing.T) {
	app := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	conf := strings.ReplaceAll(`
events {}
http {
	access_log off;
	more_set_input_headers "X-Outer: o";
	server {
		listen 127.0.0.1:8080;
		location / {
			more_clear_input_headers Cookie "X-Drop-*" Authorization;
			more_set_input_headers "Host: Other.Example:81" "X-From: $http_x_a";
			more_set_input_headers -r "X-Absent: no";
			if ($arg_if) {
				more_set_input_headers "X-If: yes";
			}
			proxy_set_header X-Host $host;
			proxy_set_header X-User "[$remote_user]";
			proxy_pass http://APP;
		}
	}
}
`, "APP", app.Addr)
	ph := &proxy.Handler{Tunnels: tunnel.NewRegistry(), Buffers: tunnel.NewBufferPool(0), Log: slog.New(slog.DiscardHandler)}
	// Each connection is served on a goroutine of its own: no Local is
	// kept from one to the next (nil).
	addr, _ := serveWith(t, conf, func(xc *exchange.Conn) pipeline.Content { return ph.Conn(xc, nil) })
	tests := []struct{ desc, target, want string }{
		{"location", "/x", "GET /x HTTP/1.0|X-Host: other.example|X-User: []|Host: " + app.Addr + "|Connection: close|X-A: 1|X-Outer: o|X-From: 1"},
		{"if block", "/x?if=1", "GET /x?if=1 HTTP/1.0|X-Host: other.example|X-User: []|Host: " + app.Addr + "|Connection: close|X-A: 1|X-Outer: o|X-From: 1|X-If: yes"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			app.Reset()
			req := "GET " + tt.target + " HTTP/1.1\r\nHost: h\r\nCookie: c=1\r\nX-A: 1\r\nX-Drop-Me: 1\r\nAuthorization: Basic dTpw\r\nConnection: close\r\n\r\n"
			if line, _, _ := strings.Cut(rawRoundTrip(t, addr, req), "\r\n"); line != "HTTP/1.1 200 OK" {
				t.Fatalf("got %q; want 200", line)
			}
			reqs := app.WaitRequests(1, 10*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("app got %d requests; want 1", len(reqs))
			}
			if got := strings.ReplaceAll(reqs[0].HeadText(), "\n", "|"); got != tt.want {
				t.Errorf("app got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
