package files

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCache checks that the cache answers only for the file it kept,
// unchanged: a write in place (even with the old mtime put back), a file
// renamed over it, a removal, a file changed within the racy window and
// a large file all go to the file system, as without the cache.
func TestCache(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache is used on Linux only")
	}
	later := time.Now().Add(time.Hour) // every file looks old enough
	clk := func() time.Time { return later }
	clock.Store(&clk)
	t.Cleanup(func() { clock.Store(nil) })

	dir := t.TempDir()
	name := filepath.Join(dir, "a.txt")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(name, "one")
	c := NewCache()
	conf := DefaultConfig(dir)
	conf.Root, conf.Cache = dir, c
	addr := serveHandler(t, newHandler(t, conf))
	body := func(target string, headers ...string) string {
		t.Helper()
		r := get(t, addr, "GET", target, headers...)
		return r.StatusLine[9:12] + " " + string(r.Body)
	}
	key := append([]byte(name), 0)
	entry := func() *cachedFile {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return c.m[string(key)]
	}

	if got := body("/a.txt"); got != "200 one" {
		t.Fatalf("first GET: got %q", got)
	}
	e := entry()
	if e == nil {
		t.Fatal("the file was not kept")
	}
	// The next GET answers from the entry: prove it by changing what
	// the entry holds (same length).
	e.data = []byte("ONE")
	if got := body("/a.txt"); got != "200 ONE" {
		t.Fatalf("second GET: got %q; want the kept contents", got)
	}
	if got := body("/a.txt", "Range: bytes=1-1"); got != "206 N" {
		t.Errorf("range: got %q", got)
	}

	fi, _ := os.Stat(name)
	tests := []struct {
		desc   string
		change func()
		want   string
	}{
		{"written in place, mtime put back", func() {
			write(name, "two")
			os.Chtimes(name, fi.ModTime(), fi.ModTime())
		}, "200 two"},
		{"renamed over", func() {
			tmp := filepath.Join(dir, "tmp")
			write(tmp, "333")
			os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
			os.Rename(tmp, name)
		}, "200 333"},
		{"made unreadable", func() {
			if os.Getuid() == 0 {
				os.Chmod(name, 0o644) // root reads anyway
				return
			}
			os.Chmod(name, 0)
		}, map[bool]string{true: "200 333", false: "403 "}[os.Getuid() == 0]},
		{"removed", func() { os.Remove(name) }, "404 "},
	}
	for _, tt := range tests {
		tt.change()
		if got := body("/a.txt"); !strings.HasPrefix(got, tt.want) || (tt.want[:3] == "200" && got != tt.want) {
			t.Errorf("%s: got %q; want %q", tt.desc, got, tt.want)
		}
	}

	// A file changed within the racy window is read but not kept.
	clock.Store(nil)
	write(filepath.Join(dir, "new.txt"), "fresh")
	if got := body("/new.txt"); got != "200 fresh" {
		t.Fatalf("new file: got %q", got)
	}
	c.mu.RLock()
	_, kept := c.m[filepath.Join(dir, "new.txt")+"\x00"]
	c.mu.RUnlock()
	if kept {
		t.Error("a file changed within the racy window was kept")
	}
	// A file above cacheMaxFile is not kept.
	clock.Store(&clk)
	big := strings.Repeat("b", cacheMaxFile+1)
	write(filepath.Join(dir, "big.txt"), big)
	if got := body("/big.txt"); got != "200 "+big {
		t.Fatalf("big file: got %d bytes", len(got))
	}
	c.mu.RLock()
	_, kept = c.m[filepath.Join(dir, "big.txt")+"\x00"]
	c.mu.RUnlock()
	if kept {
		t.Error("a file above cacheMaxFile was kept")
	}
}

// TestCacheBounds: entries are dropped to stay within cacheMaxEntries.
func TestCacheBounds(t *testing.T) {
	c := NewCache()
	for i := range cacheMaxEntries + 10 {
		c.put([]byte(strings.Repeat("x", i%50)+string(rune('a'+i%26))+time.Duration(i).String()), fileID{ino: uint64(i)}, []byte("d"))
	}
	if n := len(c.m); n > cacheMaxEntries {
		t.Errorf("got %d entries; want at most %d", n, cacheMaxEntries)
	}
	if c.bytes != int64(len(c.m)) {
		t.Errorf("bytes %d; want %d (one per entry)", c.bytes, len(c.m))
	}
}
