package files

import (
	"path/filepath"
	"strings"
	"testing"

	"wsgate/internal/http1"
	"wsgate/internal/vars"
)

// FuzzMapPath runs request targets through nginx's URI normalisation
// (http1) and the file mapping of a root, a prefix alias without a
// trailing slash (the off-by-slash trap) and a try_files value, and
// requires every path handed to open(2) to stay under its directory.
// Seeds: testdata/fuzz/FuzzMapPath.
func FuzzMapPath(f *testing.F) {
	for _, s := range []string{"/a.txt", "/static../secret", "/%2e%2e/x", "/static/..%2f..%2fetc/passwd",
		"/a/%00/b", "/static%2f..%2f..%2f", "//static/../../x", "/static/./../x", "/..", "/static.."} {
		f.Add(s, "$uri")
	}
	f.Add("/x", "/../$uri")
	f.Add("/static..", "$uri/..")
	compile := compileFunc(f)
	const base = "/srv/www"
	mk := func(c Config) *Handler {
		h, err := New(c, compile)
		if err != nil {
			f.Fatal(err)
		}
		return h
	}
	handlers := []*Handler{
		mk(Config{Root: base, Prefix: "/", Index: []string{"index.html"}, DefaultType: "text/plain"}),
		mk(Config{Root: base + "/static/", Alias: true, Location: "/static", Prefix: "/"}),
		mk(Config{Root: base + "/i", Alias: true, Location: "/i/", Prefix: "/"}),
	}
	f.Fuzz(func(t *testing.T, target, try string) {
		u, err := http1.AppendNormalizedURI(nil, []byte(target), true)
		if err != nil {
			return
		}
		uri := string(u)
		tmpl, err := compile(try)
		if err != nil {
			return
		}
		for _, h := range handlers {
			vc := &vars.Ctx{URI: uri}
			s := &state{h: h, vc: vc, r: &Request{Vars: vc}, sc: &Scratch{}, uri: uri}
			check := func(nb []byte, ok bool) {
				if !ok {
					return
				}
				if len(nb) == 0 || nb[len(nb)-1] != 0 {
					t.Fatalf("%q: name %q is not NUL-terminated", target, nb)
				}
				name := string(nb[:len(nb)-1])
				if strings.IndexByte(name, 0) >= 0 {
					t.Fatalf("%q: path %q holds NUL", target, name)
				}
				clean := filepath.Clean(name)
				if clean != base && !strings.HasPrefix(clean, base+"/") {
					t.Fatalf("%q (try %q): %q leaves %s", target, try, name, base)
				}
				if !within([]byte(clean), h.rootBase) {
					t.Fatalf("%q: %q accepted outside %q", target, name, h.rootBase)
				}
			}
			if p, ok := s.appendPath(nil); ok {
				check(safePath(p, h.rootBase))
			}
			check(s.tryPath(s.tryName(tmpl)))
		}
	})
}

// FuzzRanges: any Range header value gives 200, 416, or 206 with ranges
// inside the file, in order of the header, never more bytes than the file.
func FuzzRanges(f *testing.F) {
	for _, s := range []string{"0-1,5-6", "-3", "18-", "50-", "x-1", "0-15,5-19", " 1 - 2 , 3-", "9223372036854775807-", "-9223372036854775808", "0-0,-1"} {
		f.Add(s, int64(20))
	}
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			size = -size
		}
		var rs rangeSet
		switch st := parseRanges([]byte(spec), size, -1, &rs); st {
		case 200, 416:
		case 206:
			var total int64
			for _, r := range rs.r {
				if r.start < 0 || r.end > size || r.start >= r.end {
					t.Fatalf("%q of %d: range %v outside the file", spec, size, r)
				}
				total += r.end - r.start
			}
			if total > size {
				t.Fatalf("%q of %d: %d bytes in ranges", spec, size, total)
			}
		default:
			t.Fatalf("%q: status %d", spec, st)
		}
	})
}
