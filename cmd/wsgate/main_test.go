package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigTest(t *testing.T) {
	seed, err := filepath.Abs("../../testdata/config/seed.conf")
	if err != nil {
		t.Fatal(err)
	}
	// -T dumps a configuration that passes the whole check; the main file
	// and an included one.
	dumpDir := t.TempDir()
	full := filepath.Join(dumpDir, "nginx.conf")
	os.MkdirAll(filepath.Join(dumpDir, "conf.d"), 0o755)
	os.WriteFile(full, []byte("events {}\nhttp {\n    access_log off;\n    include conf.d/*.conf;\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dumpDir, "conf.d", "site.conf"), []byte("server {\n    listen 127.0.0.1:8000;\n    location / { return 204; }\n}\n"), 0o644)
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("server {\n    listen 80;\n    bogus on;\n    location /x { proxy_pass ftp://a; }\n}\n"), 0o644)
	tests := []struct {
		desc      string
		args      []string
		code      int
		stdout    []string // substrings
		stderr    []string
		notStderr []string
	}{
		{
			desc: "seed is ok",
			args: []string{"-t", "-c", seed},
			stderr: []string{
				"wsgate: the configuration file " + seed + " syntax is ok\n",
				"wsgate: configuration file " + seed + " test is successful\n",
				"implicit http { }",
			},
		},
		{
			desc:      "quiet prints nothing on success",
			args:      []string{"-q", "-t", "-c", seed},
			notStderr: []string{"syntax is ok", "notice"},
		},
		{
			desc:   "dump marks every file",
			args:   []string{"-T", "-c", full},
			stdout: []string{"# configuration file " + full + ":\n", "# configuration file " + filepath.Join(dumpDir, "conf.d", "site.conf") + ":\n"},
		},
		{
			desc: "every error at once",
			args: []string{"-t", "-c", bad},
			code: 1,
			stderr: []string{
				bad + `:3:5: unknown directive "bogus"`,
				bad + `:4:30: invalid URL prefix in "ftp://a"`,
				"wsgate: configuration file " + bad + " test failed\n",
			},
		},
		{
			desc:   "missing file",
			args:   []string{"-t", "-c", "/nonexistent/nginx.conf"},
			code:   1,
			stderr: []string{`open() "/nonexistent/nginx.conf" failed`},
		},
		{
			desc:   "glued option value",
			args:   []string{"-t", "-c" + seed},
			stderr: []string{"test is successful"},
		},
		{
			desc:   "version",
			args:   []string{"-v"},
			stderr: []string{"wsgate version: wsgate/" + version + "\n"},
		},
		{
			desc:   "build info",
			args:   []string{"-V"},
			stderr: []string{"built with go", "configure arguments: --with-http_ssl_module", "--with-http_v2_module", "--with-http_v3_module", "--with-http_sub_module", "--with-http_gzip_static_module"},
			// HTTP/2 and HTTP/3 are built; return (the rewrite module's)
			// works, and gzip.
			notStderr: []string{"without-http_rewrite_module", "without-http_gzip_module"},
		},
		{
			desc:   "unknown option",
			args:   []string{"-x"},
			code:   1,
			stderr: []string{`wsgate: invalid option: "x"`},
		},
		{
			desc:   "bad signal",
			args:   []string{"-s", "restart"},
			code:   1,
			stderr: []string{`invalid option: "-s restart"`},
		},
		{
			desc:   "reload without a running wsgate",
			args:   []string{"-s", "reload", "-c", seed},
			code:   1,
			stderr: []string{"open()", ".pid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != tt.code {
				t.Errorf("got exit %d; want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q; got:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q; got:\n%s", s, stderr)
				}
			}
			for _, s := range tt.notStderr {
				if strings.Contains(stderr, s) {
					t.Errorf("stderr has %q; got:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestLintWarningsWithFix(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pit.conf")
	os.WriteFile(conf, []byte("server {\n    listen 127.0.0.1:8000;\n    location /ws/ {\n        proxy_pass http://127.0.0.1:8080;\n    }\n}\n"), 0o644)
	code, _, stderr := runArgs(t, "-t", "-c", conf)
	if code != 0 {
		t.Fatalf("got exit %d; want 0 (warnings are not errors)\n%s", code, stderr)
	}
	for _, want := range []string{
		conf + ":3:5:",
		"fix: proxy_http_version 1.1;",
		`fix: proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";`,
		"proxy_read_timeout",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q; got:\n%s", want, stderr)
		}
	}
}
