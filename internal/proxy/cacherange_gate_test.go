package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
)

// rangedBody is the body of the size rangeBackend sends: the letters of
// the alphabet over and over.
func rangedBody(size int) string {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return string(b)
}

// rangeBackend answers "/SIZE/..." with a body of SIZE bytes, its ETag
// "e" and a fixed Last-Modified, with Accept-Ranges unless the path has
// "/plain/".
func rangeBackend(t *testing.T) *proxytest.Backend {
	return proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		defer c.Close()
		for {
			req, err := proxytest.ReadRequest(br)
			if err != nil {
				return
			}
			var size int
			fmt.Sscanf(req.Target, "/%d/", &size)
			accept := "Accept-Ranges: bytes\r\n"
			if strings.Contains(req.Target, "/plain/") {
				accept = ""
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nETag: \"e\"\r\n"+
				"Last-Modified: Tue, 02 Jan 2024 03:04:05 GMT\r\n%s\r\n%s", size, accept, rangedBody(size))
		}
	})
}

// TestCacheHitRangesGate: a cache hit stored with the upstream's
// Accept-Ranges answers Range as nginx's range filter does (206 with
// Content-Range, multipart for several, 416, the whole 200 when If-Range
// does not hold), one stored without it is sent whole; the not-modified
// filter's preconditions answer a hit 412. Small entries are answered
// from memory, larger ones from their file: both are cut.
func TestCacheHitRangesGate(t *testing.T) {
	b := rangeBackend(t)
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
	for _, size := range []int{30, 100000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ranged, plain := fmt.Sprintf("/%d/r", size), fmt.Sprintf("/%d/plain/r", size)
			whole := rangedBody(size)
			for _, p := range []string{ranged, plain} {
				if r := g.get(p); r.Status != 200 || string(r.Body) != whole {
					t.Fatalf("storing %s: %d, %d bytes", p, r.Status, len(r.Body))
				}
			}
			last := fmt.Sprint(size - 1)
			tests := []struct {
				desc, path, extra string
				status            int
				body, header      string // the body, or a part of it; a header line "Name: value"
			}{
				{"one range", ranged, "Range: bytes=1-3\n", 206, "bcd", "Content-Range: bytes 1-3/" + fmt.Sprint(size)},
				{"suffix", ranged, "Range: bytes=-1\n", 206, whole[size-1:], "Content-Range: bytes " + last + "-" + last + "/" + fmt.Sprint(size)},
				{"two ranges", ranged, "Range: bytes=0-0,2-2\n", 206, "Content-Range: bytes 2-2/" + fmt.Sprint(size) + "\r\n\r\nc\r\n--", ""},
				{"If-Range holds", ranged, "Range: bytes=0-0\nIf-Range: \"e\"\n", 206, "a", ""},
				{"If-Range does not", ranged, "Range: bytes=0-0\nIf-Range: \"f\"\n", 200, whole, ""},
				{"unsatisfiable", ranged, "Range: bytes=200000-\n", 416, "416", "Content-Range: bytes */" + fmt.Sprint(size)},
				{"no Accept-Ranges", plain, "Range: bytes=0-0\n", 200, whole, ""},
				{"If-Match fails", ranged, "If-Match: \"f\"\n", 412, "412", ""},
				{"If-Unmodified-Since fails", ranged, "If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT\n", 412, "412", ""},
				{"If-Match holds", ranged, "If-Match: \"e\"\n", 200, whole, ""},
			}
			for _, tc := range tests {
				r := g.do("GET "+tc.path+" HTTP/1.1\nHost: h\n"+tc.extra+"\n", "GET")
				if r.Status != tc.status || !strings.Contains(string(r.Body), tc.body) {
					t.Errorf("%s: got %d, %d bytes; want %d with %.40q", tc.desc, r.Status, len(r.Body), tc.status, tc.body)
					continue
				}
				if tc.status == 206 && !strings.Contains(tc.extra, ",") && string(r.Body) != tc.body {
					t.Errorf("%s: body %.40q; want %.40q", tc.desc, r.Body, tc.body)
				}
				if name, v, ok := strings.Cut(tc.header, ": "); ok {
					if got, _ := r.Get(name); got != v {
						t.Errorf("%s: %s %q; want %q", tc.desc, name, got, v)
					}
				}
				if tc.status == 206 && strings.Contains(tc.extra, ",") {
					if ct, _ := r.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
						t.Errorf("%s: Content-Type %q; want multipart/byteranges", tc.desc, ct)
					}
				}
			}
		})
	}
}
