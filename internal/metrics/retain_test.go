package metrics

import (
	"os"
	"path/filepath"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/proxy"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
)

// build compiles an http block body into a snapshot.
func build(t *testing.T, ups *upstream.Registry, body string) *snapshot.Snapshot {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nginx.conf")
	if err := os.WriteFile(path, []byte("events {}\nhttp {\n"+body+"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, errs := config.Load(path, config.ParseOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	snap, err := snapshot.Build(t.Context(), spec, &snapshot.Env{Upstreams: ups})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestRetainOpenTunnel: a series whose location a reload removed while a
// tunnel was open on it is dropped when the tunnel ends, unless a later
// reload brought the location back first.
func TestRetainOpenTunnel(t *testing.T) {
	ups := upstream.NewRegistry(upstream.Options{})
	const with = `upstream u { server 127.0.0.1:9000; } server { listen 127.0.0.1:8000; server_name s; location /ws/ { proxy_pass http://u; } }`
	const without = `upstream u { server 127.0.0.1:9000; } server { listen 127.0.0.1:8000; server_name s; location /other/ { proxy_pass http://u; } }`
	tests := []struct {
		name    string
		reloads []string // after the tunnel opened
		kept    bool
	}{
		{"removed", []string{without}, false},
		{"removed and back", []string{without, with}, true},
		{"unchanged", []string{with}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			m.SetEnabled(true)
			m.Retain(build(t, ups, with))
			tun := proxy.Tunnel{Server: "s", Location: "location /ws/", Pool: "u", Upstream: "127.0.0.1:9000", Client: "127.0.0.1:5000", FrameAware: true}
			m.TunnelStart(tun)
			for _, conf := range tt.reloads {
				m.Retain(build(t, ups, conf))
			}
			m.TunnelEnd(tun, tunnel.Result{ClosedBy: tunnel.CauseClient})
			_, kept := m.tunnels[tunnelKey{"s", "location /ws/", "u", "127.0.0.1:9000"}]
			if kept != tt.kept {
				t.Errorf("series kept: got %v; want %v", kept, tt.kept)
			}
		})
	}
}
