package pipeline_test

import (
	"testing"

	"wsgate/internal/exchange"
	"wsgate/internal/pipeline"
)

// TestIfProxiedThenNone checks an if block with a proxy_pass followed by
// a matching one without, in a location that does not proxy: nginx's
// content handler stays the proxy module's, which finds no upstream in
// the last block's configuration and answers 500 (proxy_if.t's
// /proxy-inside-if-crash); either block alone is served as usual, and
// a search after a rewrite forgets the first block.
func TestIfProxiedThenNone(t *testing.T) {
	conf := `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		root /nonexistent;
		location /m/ {
			if ($arg_p) { proxy_pass http://127.0.0.1:1; }
			if ($arg_q) { }
			if ($arg_r) { rewrite ^ /n/ last; }
		}
		location /n/ { }
	}
}
`
	addr, _ := serveWith(t, conf, func(*exchange.Conn) pipeline.Content { return answered{} })
	tests := []struct{ target, want string }{
		{"/m/x", "HTTP/1.1 404 Not Found"},
		{"/m/x?p=1", "HTTP/1.1 200 OK"},
		{"/m/x?q=1", "HTTP/1.1 404 Not Found"},
		{"/m/x?p=1&q=1", "HTTP/1.1 500 Internal Server Error"},
		{"/m/x?p=1&r=1", "HTTP/1.1 404 Not Found"},
	}
	for _, tt := range tests {
		if status, _ := get(t, addr, tt.target); status != tt.want {
			t.Errorf("%s: got %q; want %q", tt.target, status, tt.want)
		}
	}
}
