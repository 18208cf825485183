package route

import "testing"

// filenameCmpRef is ngx_filename_cmp byte by byte, the reference for
// filenameCmp's shortcut on equal bytes.
func filenameCmpRef(a, b string, n int) int {
	for i := 0; i < n; i++ {
		var c1, c2 int
		if i < len(a) {
			c1 = int(a[i])
		}
		if i < len(b) {
			c2 = int(b[i])
		}
		if c1 == c2 {
			if c1 == 0 {
				return 0
			}
			continue
		}
		if c1 == 0 || c2 == 0 {
			return c1 - c2
		}
		if c1 == '/' {
			c1 = 0
		}
		if c2 == '/' {
			c2 = 0
		}
		return c1 - c2
	}
	return 0
}

func TestFilenameCmp(t *testing.T) {
	names := []string{"", "/", "/static/", "/static/1k.bin", "/static", "/statics/", "/stat\x00ic/", "/a/b", "/a.b", "/a-b", "/A/", "/a\x00"}
	for _, a := range names {
		for _, b := range names {
			for n := 0; n <= max(len(a), len(b))+1; n++ {
				if got, want := filenameCmp(a, b, n), filenameCmpRef(a, b, n); got != want {
					t.Errorf("filenameCmp(%q, %q, %d) = %d, want %d", a, b, n, got, want)
				}
			}
		}
	}
}
