package pipeline_test

import "testing"

// TestLogPhaseSentHead checks that the log phase reads the head as it went
// out ($sent_http_NAME, after add_header; Server, which nginx writes
// itself, not found) and $request_completion, on an answer of the
// pipeline's own and on an error page.
func TestLogPhaseSentHead(t *testing.T) {
	conf := `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		location /r { add_header X-A a; return 200 "r"; }
		location /e { add_header X-A e always; return 404; }
	}
}
`
	addr, obs := serve(t, conf, nil)
	tests := []struct{ target, want string }{
		{"/r", "text/plain|a|close|-|OK"},
		{"/e", "text/html|e|close|-|OK"},
	}
	for _, tt := range tests {
		get(t, addr, tt.target)
		if got := obs.next(t).Sent; got != tt.want {
			t.Errorf("%s: log phase saw %q; want %q", tt.target, got, tt.want)
		}
	}
}
