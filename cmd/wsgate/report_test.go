package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckShowsEverything: one -t run prints the notices and warnings of
// a configuration that also has errors, and the errors last, so that one
// pass shows the whole picture.
func TestCheckShowsEverything(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "all.conf")
	os.WriteFile(conf, []byte("server {\n    listen 127.0.0.1:8000;\n    sendfile on;\n    bogus on;\n"+
		"    location /ws/ {\n        proxy_pass http://127.0.0.1:8080;\n    }\n}\n"), 0o644)
	code, _, stderr := runArgs(t, "-t", "-c", conf)
	if code != 1 {
		t.Fatalf("got exit %d; want 1\n%s", code, stderr)
	}
	// In this order: notices, warnings, errors, the verdict.
	order := []string{
		"wsgate: [notice] " + conf + ":3:5:",
		"wsgate: [warn] " + conf + ":5:5:",
		"wsgate: [emerg] " + conf + `:4:5: unknown directive "bogus"`,
		"test failed",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(stderr[at:], want)
		if i < 0 {
			t.Fatalf("stderr lacks %q after offset %d (want %q in this order); got:\n%s", want, at, order, stderr)
		}
		at += i + len(want)
	}
}

// TestStartFailureLogged: a configuration rejected at start leaves its
// errors in the -e error log as nginx does, and on standard error.
func TestStartFailureLogged(t *testing.T) {
	tests := []struct {
		desc string
		conf string // %s: a free address
		want string
	}{
		{desc: "unknown directive", conf: "events {}\nhttp {\n    server {\n        listen 127.0.0.1:1;\n        bogus on;\n    }\n}\n",
			want: `:5:9: unknown directive "bogus"`},
		{desc: "unknown variable, found after the syntax check",
			conf: "events {}\nhttp {\n    access_log off;\n    server {\n        listen 127.0.0.1:1;\n        location / { proxy_set_header X $bogus_var; proxy_pass http://127.0.0.1:9; }\n    }\n}\n",
			want: `unknown "bogus_var" variable`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "nginx.conf")
			os.WriteFile(conf, []byte(tt.conf), 0o644)
			logPath := filepath.Join(dir, "logs", "error.log")
			os.MkdirAll(filepath.Dir(logPath), 0o755)
			code, _, stderr := runArgs(t, "-e", "logs/error.log", "-p", dir, "-c", "nginx.conf")
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("got exit %d; want 1 and %q on stderr; got:\n%s", code, tt.want, stderr)
			}
			b, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatalf("reading the error log: %v", err)
			}
			if got := string(b); !strings.Contains(got, "[emerg] ") || !strings.Contains(got, tt.want) {
				t.Errorf("error log: got %q; want an [emerg] line with %q", got, tt.want)
			}
		})
	}
}
