package pipeline

import (
	"testing"

	"wsgate/internal/snapshot"
)

// pathEscaped is PathQuoted or a '+' in the path, in one reading.
func TestPathEscaped(t *testing.T) {
	for _, uri := range []string{
		"/", "/static/1k.bin", "/a%20b", "/a+b", "/a?b%20c", "/a?b+c", "/a#b+c",
		"/a%2", "/a+?", "/?+", "", "/x/y/z.html?q=1&r=%41", "/%", "/+",
	} {
		b := []byte(uri)
		plus := false
		for _, c := range b {
			if c == '?' || c == '#' {
				break
			}
			if c == '+' {
				plus = true
				break
			}
		}
		want := snapshot.PathQuoted(b) || plus
		if got := pathEscaped(b); got != want {
			t.Errorf("pathEscaped(%q) = %v, want %v", uri, got, want)
		}
	}
}
