package accesslog

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
	"wsgate/internal/vars"
)

// logger compiles format (a log_format string) for access_log al in fs.
func logger(t *testing.T, fs *Files, al config.AccessLog, escape, format string) *Logger {
	t.Helper()
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := vc.Compile(format)
	if err != nil {
		t.Fatal(err)
	}
	if al.Pos.Line == 0 {
		al.Pos = config.Pos{File: "t.conf", Line: 1, Col: 1}
	}
	l, err := fs.Logger(al, &config.LogFormat{Name: "t", Escape: escape, Format: format}, tmpl, vc, LoggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLogLine(t *testing.T) {
	tests := []struct {
		desc, escape, format string
		ctx                  vars.Ctx
		want                 string
	}{
		{desc: "plain", escape: "default", format: "$request_method $uri $remote_addr",
			ctx: vars.Ctx{Method: "GET", URI: "/ws/", RemoteAddr: "127.0.0.1"}, want: "GET /ws/ 127.0.0.1\n"},
		{desc: "default escapes quotes as \\x22", escape: "default", format: "$uri",
			ctx: vars.Ctx{URI: `/a"b`}, want: `/a\x22b` + "\n"},
		{desc: "json escapes quotes as \\\"", escape: "json", format: "$uri",
			ctx: vars.Ctx{URI: `/a"b`}, want: `/a\"b` + "\n"},
		{desc: "none leaves them", escape: "none", format: "$uri",
			ctx: vars.Ctx{URI: `/a"b`}, want: `/a"b` + "\n"},
		{desc: "a variable not found is -", escape: "default", format: "[$args]",
			ctx: vars.Ctx{}, want: "[-]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			fs := NewFiles(dir)
			defer fs.Close()
			l := logger(t, fs, config.AccessLog{Path: "access.log"}, tt.escape, tt.format)
			c := tt.ctx
			l.Log(&c)
			if got := read(t, filepath.Join(dir, "access.log")); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestLogIf: access_log if= skips the line when the condition is "" or "0"
// (ngx_http_log_handler's filter).
func TestLogIf(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	l := logger(t, fs, config.AccessLog{Path: "a.log", If: "$args"}, "default", "$uri")
	for _, c := range []vars.Ctx{
		{URI: "/none"},
		{URI: "/empty", HasArgs: true},
		{URI: "/zero", Args: "0", HasArgs: true},
		{URI: "/one", Args: "1", HasArgs: true},
		{URI: "/text", Args: "00", HasArgs: true},
	} {
		l.Log(&c)
	}
	if got, want := read(t, filepath.Join(dir, "a.log")), "/one\n/text\n"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestFilesShared: loggers of successive configurations that name the same
// file share it (a reload neither reopens it nor loses buffered lines), and
// relative paths are taken relative to the prefix.
func TestFilesShared(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	a := logger(t, fs, config.AccessLog{Path: "logs/../x.log", Buffer: 4096}, "default", "a $uri")
	b := logger(t, fs, config.AccessLog{Path: filepath.Join(dir, "x.log")}, "default", "b $uri")
	if a.file != b.file {
		t.Fatal("two loggers of one path got two files")
	}
	a.Log(&vars.Ctx{URI: "/1"})
	b.Log(&vars.Ctx{URI: "/2"})
	fs.Close()
	if got, want := read(t, filepath.Join(dir, "x.log")), "a /1\nb /2\n"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestBuffer: with buffer=, lines wait in memory until the buffer fills,
// flush= passes, or the files are closed.
func TestBuffer(t *testing.T) {
	t.Run("fills", func(t *testing.T) {
		dir := t.TempDir()
		fs := NewFiles(dir)
		defer fs.Close()
		l := logger(t, fs, config.AccessLog{Path: "b.log", Buffer: 64}, "default", "$uri")
		path := filepath.Join(dir, "b.log")
		l.Log(&vars.Ctx{URI: "/" + strings.Repeat("a", 40)})
		if got := read(t, path); got != "" {
			t.Fatalf("unflushed line written: %q", got)
		}
		l.Log(&vars.Ctx{URI: "/" + strings.Repeat("b", 40)})
		if got := read(t, path); !strings.HasPrefix(got, "/aaa") || strings.Contains(got, "/bbb") {
			t.Fatalf("after the buffer filled, got %q; want the first line only", got)
		}
		fs.Close()
		if got := read(t, path); !strings.Contains(got, "/bbb") {
			t.Fatalf("Close did not flush: %q", got)
		}
	})
	t.Run("flush timer", func(t *testing.T) {
		dir := t.TempDir()
		fs := NewFiles(dir)
		defer fs.Close()
		l := logger(t, fs, config.AccessLog{Path: "f.log", Buffer: 4096, Flush: 50 * time.Millisecond}, "default", "$uri")
		l.Log(&vars.Ctx{URI: "/late"})
		path := filepath.Join(dir, "f.log")
		proxytest.Eventually(t, 10*time.Second, func() bool { return read(t, path) == "/late\n" }, "buffered line written after flush=")
	})
}

// TestReopen: USR1 after a log rotation (the file renamed away) writes the
// lines buffered so far to the old file and later lines to a new one at the
// configured path.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	l := logger(t, fs, config.AccessLog{Path: "r.log", Buffer: 4096}, "default", "$uri")
	path := filepath.Join(dir, "r.log")
	l.Log(&vars.Ctx{URI: "/before"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := fs.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Log(&vars.Ctx{URI: "/after"})
	fs.Close()
	if got := read(t, path+".1"); got != "/before\n" {
		t.Errorf("rotated file: got %q; want %q", got, "/before\n")
	}
	if got := read(t, path); got != "/after\n" {
		t.Errorf("new file: got %q; want %q", got, "/after\n")
	}
}

// TestReopenFailureKeepsFile: a file that cannot be reopened keeps its old
// descriptor, and the error is reported.
func TestReopenFailureKeepsFile(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	l := logger(t, fs, config.AccessLog{Path: "k.log"}, "default", "$uri")
	path := filepath.Join(dir, "k.log")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil { // the path is now a directory
		t.Fatal(err)
	}
	if err := fs.Reopen(); err == nil {
		t.Fatal("Reopen of a path that is a directory: got no error")
	}
	l.Log(&vars.Ctx{URI: "/kept"})
	if got := read(t, path+".1"); got != "/kept\n" {
		t.Errorf("got %q; want the line in the file still open", got)
	}
}

// TestOpenLogPipeWithoutReader: a named pipe with no reader is an error at
// once, not a start or reload that waits for a reader.
func TestOpenLogPipeWithoutReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := OpenLog(path)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no process reads") {
			t.Fatalf("got %v; want an error saying the pipe has no reader", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OpenLog waits for the pipe's reader")
	}
}

// TestErrorLogLine: nginx's error log line shape, levels and attributes.
func TestErrorLogLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewErrorLog(&buf, Levels["warn"]))
	log.Info("not written")
	log.With("client", "127.0.0.1").Warn("upstream timed out", "upstream", "http://127.0.0.1:8080/")
	log.Log(context.Background(), Levels["emerg"], "bad config")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines %q; want 2 (info is below warn)", len(lines), lines)
	}
	pid := os.Getpid()
	want := []string{
		"[warn] " + strconv.Itoa(pid) + "#0: upstream timed out, client: 127.0.0.1, upstream: http://127.0.0.1:8080/",
		"[emerg] " + strconv.Itoa(pid) + "#0: bad config",
	}
	for i, l := range lines {
		// "2006/01/02 15:04:05 " is 20 bytes.
		if len(l) < 20 || l[4] != '/' || l[7] != '/' || l[13] != ':' || l[20:] != want[i] {
			t.Errorf("line %d: got %q; want a date, then %q", i, l, want[i])
		}
	}
}

// TestGzip: with gzip=, each flushed buffer is a gzip member of its own, so
// the file decodes whole after every flush, to the lines in order.
func TestGzip(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	l := logger(t, fs, config.AccessLog{Path: "z.log", Buffer: 64, Gzip: 9}, "default", "$uri")
	path := filepath.Join(dir, "z.log")
	var want strings.Builder
	for i := 0; i < 5; i++ {
		u := "/" + strings.Repeat(string(rune('a'+i)), 40)
		l.Log(&vars.Ctx{URI: u})
		want.WriteString(u + "\n")
	}
	// Four lines went out as four flushes; the fifth waits in the buffer.
	raw := read(t, path)
	if !strings.HasPrefix(raw, "\x1f\x8b") {
		t.Fatalf("file does not start with a gzip header: %q", raw)
	}
	if got := gunzip(t, raw); got != want.String()[:4*42] {
		t.Fatalf("before Close: decoded %q", got)
	}
	fs.Close()
	if got := gunzip(t, read(t, path)); got != want.String() {
		t.Fatalf("after Close: decoded %q; want %q", got, want.String())
	}
}

func gunzip(t *testing.T, raw string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decoding the log: %v", err)
	}
	return string(b)
}
