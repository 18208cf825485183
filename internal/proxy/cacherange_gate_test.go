package proxy_test

import (
	"strings"
	"testing"
)

// TestCacheHitRangesGate: a cache hit stored with the upstream's
// Accept-Ranges answers Range as nginx's range filter does (206 with
// Content-Range, multipart for several, 416, the whole 200 when If-Range
// does not hold), one stored without it is sent whole; the not-modified
// filter's preconditions answer a hit 412.
func TestCacheHitRangesGate(t *testing.T) {
	b, _, _ := cacheBackend(t, nil)
	conf := `proxy_cache_path ` + t.TempDir() + ` levels=1:2 keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_valid 200 10m;
    }
}`
	g := startGate(t, conf, map[string]string{"b": b.Addr})
	const ranged = `/h/Accept-Ranges=bytes;ETag="e";Last-Modified=Tue,_02_Jan_2024_03:04:05_GMT`
	const plain = "/h/X=1"
	for _, p := range []string{ranged, plain} {
		if r := g.get(p); r.Status != 200 || string(r.Body) != "n=1" && string(r.Body) != "n=2" {
			t.Fatalf("storing %s: %d %q", p, r.Status, r.Body)
		}
	}
	tests := []struct {
		desc, path, extra string
		status            int
		body, header      string // the body, or a part of it; a header line "Name: value"
	}{
		{"one range", ranged, "Range: bytes=1-2\n", 206, "=1", "Content-Range: bytes 1-2/3"},
		{"suffix", ranged, "Range: bytes=-1\n", 206, "1", "Content-Range: bytes 2-2/3"},
		{"two ranges", ranged, "Range: bytes=0-0,2-2\n", 206, "Content-Range: bytes 2-2/3\r\n\r\n1\r\n--", ""},
		{"If-Range holds", ranged, "Range: bytes=0-0\nIf-Range: \"e\"\n", 206, "n", ""},
		{"If-Range does not", ranged, "Range: bytes=0-0\nIf-Range: \"f\"\n", 200, "n=1", ""},
		{"unsatisfiable", ranged, "Range: bytes=5-9\n", 416, "416", "Content-Range: bytes */3"},
		{"no Accept-Ranges", plain, "Range: bytes=0-0\n", 200, "n=2", ""},
		{"If-Match fails", ranged, "If-Match: \"f\"\n", 412, "412", ""},
		{"If-Unmodified-Since fails", ranged, "If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT\n", 412, "412", ""},
		{"If-Match holds", ranged, "If-Match: \"e\"\n", 200, "n=1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := g.do("GET "+tc.path+" HTTP/1.1\nHost: h\n"+tc.extra+"\n", "GET")
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.body) {
				t.Fatalf("got %d %q; want %d with %q", r.Status, r.Body, tc.status, tc.body)
			}
			if name, v, ok := strings.Cut(tc.header, ": "); ok {
				if got, _ := r.Get(name); got != v {
					t.Errorf("%s: %q; want %q", name, got, v)
				}
			}
			if tc.status == 206 && strings.Contains(tc.extra, ",") {
				if ct, _ := r.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
					t.Errorf("Content-Type %q; want multipart/byteranges", ct)
				}
			}
		})
	}
}
