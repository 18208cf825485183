package proxy_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// TestRewriteLogs checks what the rewrite module writes to the error log:
// rewrite_log's notices where it is on, and the warning for a variable
// read before any set assigned it, which uninitialized_variable_warn off
// silences (in an if block's configuration too).
func TestRewriteLogs(t *testing.T) {
	addr, dir := proxytest.FreeAddr(t), t.TempDir()
	conf := `events {}
http {
    access_log off;
    server {
        listen ` + addr + `;
        location /logged/ {
            rewrite_log on;
            rewrite ^/logged/(.*)$ /done/$1 last;
        }
        location /done/ { return 200 "[$never]\n"; }
        location /quiet/ {
            if ($arg_q) { uninitialized_variable_warn off; }
            return 200 "[$never2]\n";
        }
        location /late/ { set $never2 x; set $never y; }
    }
}
`
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs proxytest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := server.Start(server.Options{ConfPath: path, Prefix: dir + "/", Version: "1.2.3", Log: log})
	if err != nil {
		t.Fatalf("starting wsgate: %v", err)
	}
	t.Cleanup(srv.Stop)
	g := &gate{t: t, addr: addr, dir: dir, srv: srv}

	if r := g.get("/logged/a"); r.Status != 200 || string(r.Body) != "[]\n" {
		t.Fatalf("got %d %q; want 200 \"[]\\n\"", r.Status, r.Body)
	}
	// The lines are written while the request is served, before its
	// response.
	for _, want := range []string{
		`\"^/logged/(.*)$\" matches \"/logged/a\"`,
		`rewritten data: \"/done/a\", args: \"\"`,
		`using uninitialized \"never\" variable`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("error log lacks %s:\n%s", want, logs.String())
		}
	}
	if r := g.get("/quiet/?q=1"); r.Status != 200 {
		t.Fatalf("got %d; want 200", r.Status)
	}
	if r := g.get("/quiet/"); r.Status != 200 {
		t.Fatalf("got %d; want 200", r.Status)
	}
	if n := strings.Count(logs.String(), `\"never2\"`); n != 1 {
		t.Errorf("got %d warnings for never2; want 1 (the if block turns them off)\n%s", n, logs.String())
	}
}
