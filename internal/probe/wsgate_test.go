package probe

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// startWsgate serves the locations with wsgate itself on a free loopback
// port and returns "127.0.0.1:PORT".
func startWsgate(t *testing.T, locations string) string {
	t.Helper()
	return gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(`
    access_log off;
    server {
        listen {{listen}};
        server_name localhost;
        %s
    }`, locations)), gatetest.Options{Graceful: true}).Addr
}

// TestThroughWsgate is TestThroughNginx against wsgate. Where wsgate is
// deliberately better than nginx the expected cause differs: it forwards
// a client's upgrade even without proxy_http_version 1.1 and the
// Upgrade/Connection lines, and it ends an idle tunnel with Close 1001.
func TestThroughWsgate(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	app := proxytest.NewNonUpgrade(t, 200)
	refusing := proxytest.NewNonUpgrade(t, 200)
	down := proxytest.FreeAddr(t)
	tests := []struct {
		name    string
		ws      string
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
				if !strings.HasPrefix(headerValue(r, "Server"), "wsgate") {
					t.Errorf("Server: got %q; want wsgate/...", headerValue(r, "Server"))
				}
			},
		},
		{
			name: "missing proxy_http_version 1.1 still upgrades", ws: strings.Replace(tutorialWS, "proxy_http_version 1.1;", "", 1),
			backend: echo.Addr, path: "/ws/echo", want: CauseOK,
		},
		{
			name: "proxy_read_timeout 1s, held 3s", ws: strings.Replace(tutorialWS, "proxy_read_timeout 86400;", "proxy_read_timeout 1s;", 1),
			backend: echo.Addr, path: "/ws/echo", opts: Options{Hold: 3 * time.Second},
			want: CauseIdleCut, words: []string{"cut after", "proxy_read_timeout"},
			check: func(t *testing.T, r *Result) {
				if h := r.Hold; h == nil || h.CutAfterMS < 700 || h.CutAfterMS > 2900 {
					t.Errorf("hold: got %+v; want cut after about 1s", r.Hold)
				}
				if h := r.Hold; h != nil && (h.How != "close frame" || h.CloseCode != 1001) {
					t.Errorf("hold: cut by %q with code %d; want a Close frame with 1001", h.How, h.CloseCode)
				}
			},
		},
		{
			name: "backend refuses upgrades (200)", ws: tutorialWS, backend: refusing.Addr, path: "/ws/echo",
			want: CauseNotUpgraded,
		},
		{
			name: "backend down (502)", ws: tutorialWS, backend: down, path: "/ws/echo",
			want: CauseBackendDown, words: []string{"502"},
		},
		{
			name: "missing trailing slash (301)", ws: tutorialWS, backend: echo.Addr, path: "/ws",
			want: CauseTrailingSlash, words: []string{"/ws/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startWsgate(t, fmt.Sprintf(tt.ws+"\n        "+tutorialApp, tt.backend, app.Addr))
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
