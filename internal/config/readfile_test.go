package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestIncludeNotRegular: an include, or the main file, that names
// something other than a regular file is an error at the include that
// says what the file is and what to do, found without reading it (a named
// pipe would wait for a writer, /dev/zero never ends).
func TestIncludeNotRegular(t *testing.T) {
	dir := writeFiles(t, map[string]string{"d/x.conf": "", "g/a.conf": "a 1;", "g/sub/x.conf": "", "ok.conf": "ok 1;"})
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "p", "b.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.conf")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		main string // main file; "" writes nginx.conf with conf
		conf string
		want []string // one error each, in order: substrings
	}{
		{desc: "dev zero", conf: "include /dev/zero;", want: []string{
			`nginx.conf:1:1: "/dev/zero" is a character device, not a regular file: wsgate reads configuration only from regular files`}},
		{desc: "dev null", conf: "include /dev/null;", want: []string{`"/dev/null" is a character device, not a regular file`}},
		{desc: "symlink to dev zero", conf: "include zero.conf;", want: []string{`zero.conf" is a character device`}},
		{desc: "named pipe", conf: "include pipe;", want: []string{`pipe" is a named pipe, not a regular file`}},
		{desc: "directory", conf: "\n  include d;", want: []string{
			`nginx.conf:2:3: "` + dir + `/d" is a directory, not a regular file: to include the files in it, write "include ` + dir + `/d/*;"`}},
		{desc: "glob matches a directory", conf: "include g/*;", want: []string{`g/sub" is a directory`}},
		{desc: "glob matches a named pipe", conf: "include p/*;", want: []string{`p/b.conf" is a named pipe`}},
		{desc: "main file is dev zero", main: "/dev/zero", want: []string{
			`"/dev/zero" is a character device, not a regular file: wsgate reads configuration only from regular files, which end and which a reload reads again; write the configuration to a file and name that`}},
		{desc: "main file is a named pipe", main: fifo, want: []string{`pipe" is a named pipe`}},
		{desc: "main file is a directory", main: filepath.Join(dir, "d"), want: []string{`d" is a directory, not a regular file: name a configuration file, not its directory`}},
		{desc: "the rest is read", conf: "include /dev/zero;\ninclude ok.conf;\ninclude pipe;", want: []string{"/dev/zero", "pipe"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			main := tc.main
			if main == "" {
				main = filepath.Join(dir, "nginx.conf")
				if err := os.WriteFile(main, []byte(tc.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, errs := ParseFile(main, ParseOptions{})
			if len(errs) != len(tc.want) {
				t.Fatalf("got errors %v; want %d", errs, len(tc.want))
			}
			for i, w := range tc.want {
				if got := errs[i].Error(); !strings.Contains(got, w) {
					t.Errorf("error %d: got %q; want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// TestConfigSizeBound: what one configuration reads, all files together,
// stops at MaxConfigSize with an error that names the bound.
func TestConfigSizeBound(t *testing.T) {
	half := bytes.Repeat([]byte("\n"), MaxConfigSize/2+1)
	read := func(string) ([]byte, error) { return half, nil }
	ast, errs := parse("/conf/nginx.conf", []byte("include a.conf;\ninclude b.conf;\n"), ParseOptions{ReadFile: read})
	if len(errs) != 1 {
		t.Fatalf("got errors %v; want one", errs)
	}
	if got, want := errs[0].Error(), `/conf/nginx.conf:2:1: reading "/conf/b.conf" would take the configuration past 64 MiB`; !strings.Contains(got, want) {
		t.Errorf("got %q; want it to contain %q", got, want)
	}
	if got := len(ast.Files); got != 2 {
		t.Errorf("files read: got %d; want 2 (the main file and a.conf)", got)
	}
}

// TestReadFile checks ReadFile's bound and its answers for what is not a
// regular file.
func TestReadFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ten": "0123456789", "empty": ""})
	tests := []struct {
		desc  string
		path  string
		limit int64
		want  string // content; "" with err set: an error
		err   any
	}{
		{desc: "within", path: "ten", limit: 10, want: "0123456789"},
		{desc: "empty", path: "empty", limit: 10},
		{desc: "past the limit", path: "ten", limit: 9, err: new(*TooLargeError)},
		{desc: "device", path: "/dev/zero", limit: 10, err: new(*NotRegularError)},
		{desc: "directory", path: ".", limit: 10, err: new(*NotRegularError)},
		{desc: "missing", path: "nope", limit: 10, err: new(*os.PathError)},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := tc.path
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := ReadFile(p, tc.limit)
			if tc.err != nil {
				if !errors.As(err, tc.err) {
					t.Fatalf("got %q, %v; want an error of type %T", b, err, tc.err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %q, %v; want %q", b, err, tc.want)
			}
		})
	}
}
