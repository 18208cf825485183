package probe

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// The seed tutorial's locations, with the WebSocket backend and the app
// replaced by %[1]s and %[2]s.
const (
	tutorialWS = `location /ws/ {
            proxy_pass http://%[1]s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 86400;
        }`
	tutorialApp = `location / {
            proxy_pass http://%[2]s;
        }`
)

// startNginx runs real nginx with the given locations in one server on a
// free loopback port, and returns that "127.0.0.1:PORT".
func startNginx(t *testing.T, locations string) string {
	t.Helper()
	return proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(`
    server {
        listen %s;
        server_name localhost;
        %s
    }`, proxytest.FreeAddr(t), locations))).Addr
}

// TestThroughNginx runs the probe through real nginx with the seed
// tutorial's configuration and with each of its pitfalls, and checks the
// diagnosis.
func TestThroughNginx(t *testing.T) {
	proxytest.NeedNginx(t)
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	app := proxytest.NewNonUpgrade(t, 200)
	refusing := proxytest.NewNonUpgrade(t, 200)
	down := proxytest.FreeAddr(t)
	drop := func(s, line string) string {
		if !strings.Contains(s, line) {
			panic("test config lacks " + line)
		}
		return strings.Replace(s, line, "", 1)
	}
	tests := []struct {
		name    string
		ws      string // the /ws/ location, %[1]s is the backend
		backend string
		path    string
		opts    Options
		want    Cause
		words   []string
		check   func(t *testing.T, r *Result)
	}{
		{
			name: "tutorial config", ws: tutorialWS, backend: echo.Addr, path: "/ws/echo",
			opts: Options{Count: 3, Size: 1000}, want: CauseOK,
			check: func(t *testing.T, r *Result) {
				if !strings.HasPrefix(headerValue(r, "Server"), "nginx") {
					t.Errorf("Server: got %q; want nginx/...", headerValue(r, "Server"))
				}
				if r.Echo == nil || r.Echo.Received != 3 {
					t.Errorf("echo: got %+v; want 3 received", r.Echo)
				}
			},
		},
		{
			name: "missing proxy_http_version 1.1", ws: drop(tutorialWS, "proxy_http_version 1.1;"), backend: echo.Addr, path: "/ws/echo",
			want: CauseNotForwarded, words: []string{"proxy_http_version 1.1;", "HTTP/1.0"},
			check: func(t *testing.T, r *Result) {
				if r.Status != 426 && r.Status != 400 {
					t.Errorf("status: got %d; want 426 or 400 from the backend", r.Status)
				}
			},
		},
		{
			name:    "missing Upgrade and Connection headers",
			ws:      drop(drop(tutorialWS, "proxy_set_header Upgrade $http_upgrade;"), `proxy_set_header Connection "upgrade";`),
			backend: echo.Addr, path: "/ws/echo",
			want: CauseNotForwarded, words: []string{"proxy_set_header Upgrade $http_upgrade;", `proxy_set_header Connection "upgrade";`},
		},
		{
			name: "proxy_read_timeout 1s, held 3s", ws: strings.Replace(tutorialWS, "proxy_read_timeout 86400;", "proxy_read_timeout 1s;", 1),
			backend: echo.Addr, path: "/ws/echo", opts: Options{Hold: 3 * time.Second},
			want: CauseIdleCut, words: []string{"cut after", "idle", "proxy_read_timeout"},
			check: func(t *testing.T, r *Result) {
				if h := r.Hold; h == nil || h.CutAfterMS < 700 || h.CutAfterMS > 2900 {
					t.Errorf("hold: got %+v; want cut after about 1s", r.Hold)
				}
			},
		},
		{
			name: "tutorial config held 2s", ws: tutorialWS, backend: echo.Addr, path: "/ws/echo",
			opts: Options{Hold: 2 * time.Second}, want: CauseOK,
		},
		{
			name: "backend refuses upgrades (200)", ws: tutorialWS, backend: refusing.Addr, path: "/ws/echo",
			want: CauseNotUpgraded, words: []string{"not upgraded"},
		},
		{
			name: "wrong location: the app answers", ws: tutorialWS, backend: echo.Addr, path: "/chat",
			want: CauseNotUpgraded, words: []string{"location /ws/"},
		},
		{
			name: "backend down (502)", ws: tutorialWS, backend: down, path: "/ws/echo",
			want: CauseBackendDown, words: []string{"502", "proxy_pass"},
		},
		{
			name: "missing trailing slash (301)", ws: tutorialWS, backend: echo.Addr, path: "/ws",
			want: CauseTrailingSlash, words: []string{"/ws/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startNginx(t, fmt.Sprintf(tt.ws+"\n        "+tutorialApp, tt.backend, app.Addr))
			o := tt.opts
			o.URL = "ws://" + addr + tt.path
			if o.Count == 0 {
				o.Count = 1
			}
			r := run(t, o)
			wantCause(t, r, tt.want, tt.words...)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func headerValue(r *Result, name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
