package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
)

// TestContentHandlers: each of ws_metrics and ws_status makes its
// location's content handler, and sharing a location with another
// content handler is an error at the location, not a silent choice.
func TestContentHandlers(t *testing.T) {
	tests := []struct {
		name, loc string
		want      Content
		err       string // substring of the build error; "" for none
	}{
		{"metrics", "ws_metrics;", ContentMetrics, ""},
		{"status", "ws_status;", ContentStatus, ""},
		{"stub_status", "stub_status;", ContentStubStatus, ""},
		{"metrics and proxy_pass", "ws_metrics; proxy_pass http://127.0.0.1:9000;", 0, "cannot share a location"},
		{"status and metrics", "ws_status; ws_metrics;", 0, "cannot share a location"},
		{"status and stub_status", "stub_status; ws_status;", 0, "cannot share a location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nginx.conf")
			conf := "events {}\nhttp {\nserver { listen 127.0.0.1:8000; location /x { " + tt.loc + " } }\n}\n"
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			spec, errs := config.Load(path, config.ParseOptions{})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			snap, err := Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{})})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "nginx.conf:3:") {
					t.Fatalf("got error %v; want one at the location saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, loc := range snap.Locs {
				if loc.Location != nil && loc.Location.Path == "/x" && loc.Content != tt.want {
					t.Errorf("content: got %d; want %d", loc.Content, tt.want)
				}
			}
		})
	}
}
