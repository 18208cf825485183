package snapshot

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
	"wsgate/internal/ws"
)

// buildConf builds an http block body into a snapshot.
func buildConf(t *testing.T, body string) *Snapshot {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(path, []byte("events {}\nhttp {\n"+body+"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, errs := config.Load(path, config.ParseOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	snap, err := Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestClosedRoutes checks which routes a reload closes tunnels on, and
// with which code and window: the old route's.
func TestClosedRoutes(t *testing.T) {
	const old = `server {
    listen 127.0.0.1:8000;
    location /ws/ { proxy_pass http://127.0.0.1:9000; ws_reload_close_code 1001; ws_drain_window 30s; }
    location /chat/ { proxy_pass http://127.0.0.1:9001; }
    location / { proxy_pass http://127.0.0.1:9002; }
}`
	tests := []struct {
		name string
		next string
		// want maps the locations whose tunnels are closed to how.
		want map[string]RouteClose
	}{
		{"nothing changed", old, map[string]RouteClose{}},
		{"changed route keeps its old policy",
			`server {
    listen 127.0.0.1:8000;
    location /ws/ { proxy_pass http://127.0.0.1:9100; }
    location /chat/ { proxy_pass http://127.0.0.1:9001; }
    location / { proxy_pass http://127.0.0.1:9002; }
}`,
			map[string]RouteClose{"/ws/": {Code: ws.CloseGoingAway, Window: 30 * time.Second}}},
		{"removed route gets the defaults, 1012 over 10s",
			`server {
    listen 127.0.0.1:8000;
    location /ws/ { proxy_pass http://127.0.0.1:9000; ws_reload_close_code 1001; ws_drain_window 30s; }
    location / { proxy_pass http://127.0.0.1:9002; }
}`,
			map[string]RouteClose{"/chat/": {Code: ws.CloseServiceRestart, Window: 10 * time.Second}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := buildConf(t, old), buildConf(t, tc.next)
			got := a.ClosedRoutes(b)
			want := map[string]RouteClose{}
			for _, loc := range a.Locs {
				if loc.Location == nil {
					continue
				}
				if p, ok := tc.want[loc.Location.Path]; ok {
					want[loc.Key] = p
				}
			}
			// The server levels' own routes are unchanged in every case.
			if len(got) != len(want) {
				t.Fatalf("got %d closed routes %v; want %d", len(got), got, len(want))
			}
			for key, p := range want {
				if got[key] != p {
					t.Errorf("route %s: got %+v; want %+v", key, got[key], p)
				}
			}
		})
	}
}
