package files

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
)

// TestCache checks that the cache answers only for the file it kept,
// unchanged: a write in place (even with the old mtime put back), a file
// renamed over it, a removal, a file changed within the racy window and
// a large file all go to the file system, as without the cache.
func TestCache(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache is used on Linux only")
	}
	clockAnHourOn(t) // every file looks old enough

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
	// the entry holds (same length), under the lock the server's reads
	// take, so that they see the write.
	c.mu.Lock()
	e.data = []byte("ONE")
	c.mu.Unlock()
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
	clockAnHourOn(t)
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

// TestCacheSameAnswers: what a cached file is answered with, through
// every header filter (conditionals, ranges, HEAD, recoding), is what the
// same request gets without the cache.
func TestCacheSameAnswers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache is used on Linux only")
	}
	later := clockAnHourOn(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.html": "<p>\xc1\xc2\xd7 0123456789</p>\n",
		"b.txt":  strings.Repeat("0123456789", 30),
	})
	tables := NewCharsetTables([]*config.CharsetMap{{Src: "koi8-r", Dst: "utf-8", Entries: []config.CharsetMapEntry{
		{Src: 0xc1, Dst: []byte{0xd0, 0xb0}}, {Src: 0xc2, Dst: []byte{0xd0, 0xb1}}}}})
	recode, _ := tables.Find("koi8-r", "utf-8")
	addrs := map[bool]string{}
	for _, cached := range []bool{false, true} {
		conf := DefaultConfig(dir)
		conf.Root = dir
		if cached {
			conf.Cache = NewCache()
		}
		addrs[cached] = serveHandler(t, newHandler(t, conf))
	}
	conf := DefaultConfig(dir)
	conf.Root, conf.Charset, conf.Recode = dir, "utf-8", recode
	plain := serveHandler(t, newHandler(t, conf))
	conf.Cache = NewCache()
	recoded := serveHandler(t, newHandler(t, conf))

	etag := func(addr string) string {
		v, _ := get(t, addr, "GET", "/b.txt").Get("ETag")
		return v
	}
	reqs := []struct {
		desc, method, target string
		headers              []string
	}{
		{"get", "GET", "/b.txt", nil},
		{"head", "HEAD", "/b.txt", nil},
		{"range", "GET", "/b.txt", []string{"Range: bytes=5-14"}},
		{"multipart", "GET", "/b.txt", []string{"Range: bytes=0-1,-3"}},
		{"unsatisfiable", "GET", "/b.txt", []string{"Range: bytes=900-"}},
		{"if-none-match", "GET", "/b.txt", []string{"If-None-Match: " + etag(addrs[false])}},
		{"if-match fails", "GET", "/b.txt", []string{`If-Match: "x"`}},
		{"if-modified-since", "GET", "/b.txt", []string{"If-Modified-Since: " + later.UTC().Format(time.RFC1123)}},
		{"html", "GET", "/a.html", nil},
		{"post", "POST", "/b.txt", nil},
	}
	boundary := regexp.MustCompile(`[0-9]{20}`) // a counter: differs per response
	answer := func(addr, method, target string, headers []string) string {
		r := get(t, addr, method, target, headers...)
		return boundary.ReplaceAllString(headText(r)+"\n\n"+string(r.Body), "B")
	}
	for _, pair := range [][2]string{{addrs[false], addrs[true]}, {plain, recoded}} {
		for _, rq := range reqs {
			answer(pair[1], rq.method, rq.target, rq.headers) // fills the cache
			want := answer(pair[0], rq.method, rq.target, rq.headers)
			if got := answer(pair[1], rq.method, rq.target, rq.headers); got != want {
				t.Errorf("%s: with the cache got\n%s\nwant\n%s", rq.desc, got, want)
			}
		}
	}
}

// TestReadSmall: ReadSmall answers from memory, with the kept parse,
// only while the file is the one kept, unchanged; a file parse refuses,
// a large one and a missing one are not kept.
func TestReadSmall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache is used on Linux only")
	}
	clockAnHourOn(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "e")
	key := []byte(name + "\x00")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parses := 0
	parse := func(data []byte) any {
		parses++
		if string(data) == "bad" {
			return nil
		}
		return "parsed " + string(data)
	}
	c := NewCache()
	write("one")
	fi, _ := os.Stat(name)
	tests := []struct {
		desc   string
		change func()
		want   string // data and parse, "" for !ok
		parses int    // parse calls so far
	}{
		{"first read", func() {}, "one/parsed one", 1},
		{"kept", func() {}, "one/parsed one", 1},
		{"written in place, mtime put back", func() {
			write("two")
			os.Chtimes(name, fi.ModTime(), fi.ModTime())
		}, "two/parsed two", 2},
		{"kept again", func() {}, "two/parsed two", 2},
		{"renamed over", func() {
			tmp := filepath.Join(dir, "tmp")
			os.WriteFile(tmp, []byte("333"), 0o644)
			os.Rename(tmp, name)
		}, "333/parsed 333", 3},
		{"refused by parse, not kept", func() { write("bad") }, "bad/<nil>", 4},
		{"refused again", func() {}, "bad/<nil>", 5},
		{"large", func() { write(strings.Repeat("b", cacheMaxFile+1)) }, "", 5},
	}
	for _, tt := range tests {
		tt.change()
		data, parsed, ok, err := c.ReadSmall(key, parse)
		got := ""
		if ok {
			got = string(data) + "/" + fmt.Sprint(parsed)
		}
		if err != nil || got != tt.want || parses != tt.parses {
			t.Errorf("%s: got %q, %d parses, %v; want %q, %d parses", tt.desc, got, parses, err, tt.want, tt.parses)
		}
	}
	os.Remove(name)
	if _, _, ok, err := c.ReadSmall(key, parse); ok || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("removed: ok %v, err %v; want a not-exist error", ok, err)
	}
}

// TestCacheLinesPerLocation: the head lines kept with a file are those of
// the location that serves it. Two locations share one Cache and one file
// under different types, with and without ETag, served in turn; then the
// file changes. Each answer is the one the location gives without the
// cache.
func TestCacheLinesPerLocation(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the cache is used on Linux only")
	}
	clockAnHourOn(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "b.txt")
	writeTree(t, dir, map[string]string{"b.txt": "one"})

	confs := []func(*Config){
		func(c *Config) {},
		func(c *Config) { c.Types, c.ETag = map[string]string{"txt": "application/x-other"}, false },
		func(c *Config) { c.Types, c.MaxRanges = map[string]string{"txt": "text/x-third"}, 0 },
	}
	shared := NewCache()
	var plain, cached []string
	for _, set := range confs {
		conf := DefaultConfig(dir)
		conf.Root = dir
		set(&conf)
		plain = append(plain, serveHandler(t, newHandler(t, conf)))
		conf.Cache = shared
		cached = append(cached, serveHandler(t, newHandler(t, conf)))
	}
	answer := func(addr string) string {
		r := get(t, addr, "GET", "/b.txt")
		return headText(r) + "\n\n" + string(r.Body)
	}
	for _, content := range []string{"one", "a longer one"} {
		if content != "one" {
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 3 {
			for i := range confs {
				want := answer(plain[i])
				if got := answer(cached[i]); got != want {
					t.Errorf("%q, round %d, location %d: with the cache got\n%s\nwant\n%s", content, round, i, got, want)
				}
			}
		}
	}
}

// clockAnHourOn sets the cache's clock an hour ahead for the test, so
// that every file looks old enough to keep, and returns that time.
func clockAnHourOn(t *testing.T) time.Time {
	t.Helper()
	later := time.Now().Add(time.Hour)
	clk := func() time.Time { return later }
	clock.Store(&clk)
	t.Cleanup(func() { clock.Store(nil) })
	return later
}
