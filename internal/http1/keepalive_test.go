package http1

import (
	"strings"
	"testing"
	"time"
)

// TestKeepaliveDisableAndHeader: keepalive_disable closes the connection
// after a POST from MSIE 6 (its default) and after any request from
// Safari (when named), and keepalive_timeout's second value adds
// "Keep-Alive: timeout=N" to a response that keeps the connection
// (nginx-tests http_keepalive.t).
func TestKeepaliveDisableAndHeader(t *testing.T) {
	const (
		msie6  = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"
		safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
	)
	tests := []struct {
		name           string
		msie6, safari  bool // keepalive_disable
		header         time.Duration
		method, agent  string
		want, wantNone string
	}{
		{"msie6 POST, default", true, false, 0, "POST", msie6, "Connection: close\r\n", ""},
		{"msie6 GET", true, false, 0, "GET", msie6, "Connection: keep-alive\r\n", "Keep-Alive"},
		{"msie6 POST, none", false, false, 0, "POST", msie6, "Connection: keep-alive\r\n", ""},
		{"safari, default", true, false, 0, "GET", safari, "Connection: keep-alive\r\n", ""},
		{"safari, named", true, true, 0, "GET", safari, "Connection: close\r\n", "Keep-Alive"},
		{"header", true, false, 50 * time.Second, "GET", "curl/8", "Connection: keep-alive\r\nKeep-Alive: timeout=50\r\n", ""},
		{"header, closing", true, true, 50 * time.Second, "GET", safari, "Connection: close\r\n", "Keep-Alive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConnConfig()
			cfg.Limits.KeepaliveDisableMSIE6 = tt.msie6
			cfg.Limits.KeepaliveDisableSafari = tt.safari
			cfg.Limits.KeepaliveHeader = tt.header
			addr, _ := startServer(t, cfg, echoHandler)
			// A second request that closes ends the exchange when the
			// first kept the connection.
			out := roundTrip(t, addr, tt.method+" / HTTP/1.1\r\nHost: a\r\nUser-Agent: "+tt.agent+"\r\nContent-Length: 0\r\n\r\n"+
				"GET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)
			first, _, _ := strings.Cut(out, "\r\n\r\n")
			if !strings.Contains(first+"\r\n", tt.want) {
				t.Errorf("first head:\n%s\nwant %q", first, tt.want)
			}
			if tt.wantNone != "" && strings.Contains(first, tt.wantNone) {
				t.Errorf("first head:\n%s\nhas %q", first, tt.wantNone)
			}
			if n := strings.Count(out, "HTTP/1.1 200"); (n == 2) != strings.Contains(tt.want, "keep-alive") {
				t.Errorf("%d responses; want the second only on a kept connection:\n%s", n, out)
			}
		})
	}
}
