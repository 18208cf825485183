package accesslog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// rootPaths is a location's root for the root-directory check.
type rootPaths string

func (r rootPaths) AppendDocumentRoot(dst []byte, _ *vars.Ctx) []byte { return append(dst, r...) }
func (r rootPaths) AppendFilename(dst []byte, _ *vars.Ctx) ([]byte, bool) {
	return append(dst, r...), true
}

func varLogger(t *testing.T, fs *Files, path string, cache *config.OpenLogFileCache) *Logger {
	t.Helper()
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := vc.Compile("$uri")
	if err != nil {
		t.Fatal(err)
	}
	al := config.AccessLog{Pos: config.Pos{File: "t.conf", Line: 1, Col: 1}, Path: path, Vars: true}
	l, err := fs.Logger(al, &config.LogFormat{Name: "t", Escape: "default", Format: "$uri"}, tmpl, vc, LoggerOptions{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// lines counts the lines of the file at path, 0 when it does not exist.
func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// TestVarPath: an access_log path with variables names the file of each
// line (ngx_http_log_script_write): relative to the prefix, "0" and ""
// are names like any other, and nothing is written when the location's
// root directory does not exist.
func TestVarPath(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir)
	defer fs.Close()
	l := varLogger(t, fs, "varlog_${arg_logname}", nil)
	tests := []struct {
		args string
		root string
		file string // "" when nothing is written
	}{
		{args: "", root: dir, file: "varlog_"},
		{args: "logname=", root: dir, file: "varlog_"},
		{args: "logname=0", root: dir, file: "varlog_0"},
		{args: "logname=filename", root: dir, file: "varlog_filename"},
		{args: "logname=noroot", root: filepath.Join(dir, "missing"), file: ""},
		{args: "logname=rootfile", root: filepath.Join(dir, "varlog_0"), file: ""},
	}
	for _, tt := range tests {
		l.Log(&vars.Ctx{URI: "/varlog", Args: tt.args, HasArgs: tt.args != "", Paths: rootPaths(tt.root)})
	}
	for file, want := range map[string]int{"varlog_": 2, "varlog_0": 1, "varlog_filename": 1, "varlog_noroot": 0, "varlog_rootfile": 0} {
		if got := lines(t, filepath.Join(dir, file)); got != want {
			t.Errorf("%s: %d lines; want %d", file, got, want)
		}
	}
}

// TestOpenLogFileCache is nginx-tests access_log.t's sequence with
// "open_log_file_cache max=3 inactive=20s valid=1m min_uses=2": once the
// directory is moved away, only the names used min_uses times that are
// still in the cache (the least recently used was dropped for a fourth
// name) are written, through their open descriptors.
func TestOpenLogFileCache(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "dir")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	fs := NewFiles(dir)
	defer fs.Close()
	oc := &config.OpenLogFileCache{Pos: config.Pos{File: "t.conf", Line: 2}, Max: 3, Inactive: 20 * time.Second, MinUses: 2, Valid: time.Minute}
	l := varLogger(t, fs, "dir/cache_$arg_logname", oc)
	log := func(names ...string) {
		for _, n := range names {
			l.Log(&vars.Ctx{URI: "/cache", Args: "logname=" + n, HasArgs: true, Paths: rootPaths(dir)})
		}
	}
	log("lru", "lru", "once", "first", "first", "second", "second")
	if err := os.Rename(logs, logs+"_moved"); err != nil {
		t.Fatal(err)
	}
	log("lru", "once", "first", "second")
	if err := os.Rename(logs+"_moved", logs); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"lru": 2, "once": 1, "first": 3, "second": 3} {
		if got := lines(t, filepath.Join(logs, "cache_"+name)); got != want {
			t.Errorf("cache_%s: %d lines; want %d", name, got, want)
		}
	}
}

// TestOpenLogFileCacheValid: once valid= has passed, the name is looked
// at again and a file moved away (log rotation) is replaced by a new one
// at the name; without the cache every line opens the name.
func TestOpenLogFileCacheValid(t *testing.T) {
	tests := []struct {
		desc  string
		cache *config.OpenLogFileCache
		// want: lines in the rotated file and in the new one
		rotated, current int
	}{
		{desc: "valid 0", cache: &config.OpenLogFileCache{Max: 10, Inactive: time.Hour, MinUses: 1, Valid: 0}, rotated: 1, current: 1},
		{desc: "valid 1h keeps the descriptor", cache: &config.OpenLogFileCache{Max: 10, Inactive: time.Hour, MinUses: 1, Valid: time.Hour}, rotated: 2, current: 0},
		{desc: "off", cache: nil, rotated: 1, current: 1},
	}
	for i, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			fs := NewFiles(dir)
			defer fs.Close()
			if tt.cache != nil {
				tt.cache.Pos = config.Pos{File: "t.conf", Line: i + 1}
			}
			l := varLogger(t, fs, "$arg_n.log", tt.cache)
			c := &vars.Ctx{URI: "/", Args: "n=a", HasArgs: true}
			l.Log(c)
			if err := os.Rename(filepath.Join(dir, "a.log"), filepath.Join(dir, "a.log.1")); err != nil {
				t.Fatal(err)
			}
			// The rotation creates the new file, as logrotate's create.
			if err := os.WriteFile(filepath.Join(dir, "a.log"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			l.Log(c)
			if got := lines(t, filepath.Join(dir, "a.log.1")); got != tt.rotated {
				t.Errorf("rotated: %d lines; want %d", got, tt.rotated)
			}
			if got := lines(t, filepath.Join(dir, "a.log")); got != tt.current {
				t.Errorf("current: %d lines; want %d", got, tt.current)
			}
		})
	}
}
