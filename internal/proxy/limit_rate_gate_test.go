package proxy_test

import (
	"strings"
	"testing"

	"wsgate/internal/proxytest"
)

// TestLimitRateVariable checks $limit_rate as add_header shows it on a
// proxied response (testdata/diff/limit_rate_var.txt has the same against
// nginx): 0 for the location's limit_rate, which nginx's write filter
// reads only after the header filters; what set assigned; a backend's
// X-Accel-Limit-Rate over both, also with proxy_buffering off.
func TestLimitRateVariable(t *testing.T) {
	be := proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		h := ""
		if strings.Contains(r.Target, "xal") {
			h = "X-Accel-Limit-Rate: 13000\r\n"
		}
		return []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" + h + "\r\nok\n")
	})
	g := startGate(t, `
server { listen {{listen}};
  limit_rate 100k;
  add_header X-Rate $limit_rate;
  location /loc { proxy_pass http://{{b}}; }
  location /var { limit_rate $arg_l; proxy_pass http://{{b}}; }
  location /set { set $limit_rate 5k; proxy_pass http://{{b}}; }
  location /unbuffered { proxy_buffering off; proxy_pass http://{{b}}; }
}`, map[string]string{"b": be.Addr})
	tests := []struct{ path, want string }{
		{"/loc", "0"},
		{"/var?l=2k", "0"},
		{"/var?l=fast", "0"},
		{"/var", "0"},
		{"/set", "5120"},
		{"/set?xal", "13000"},
		{"/loc?xal", "13000"},
		{"/unbuffered", "0"},
		{"/unbuffered?xal", "13000"},
	}
	for _, tt := range tests {
		r := g.get(tt.path)
		if got, _ := r.Get("X-Rate"); r.Status != 200 || got != tt.want {
			t.Errorf("%s: got %d with $limit_rate %q; want 200 with %q", tt.path, r.Status, got, tt.want)
		}
	}
}
