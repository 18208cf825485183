package files

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNeedsClean(t *testing.T) {
	tests := []struct {
		p    string
		want bool
	}{
		{"/", false},
		{"/srv/html/static/1k.bin", false},
		{"/srv/html/static/", false},
		{"/srv/html/.well-known/x", false},
		{"/srv/html/a.b/..c/...", false},
		{"/srv/html/a/.hidden/", false},
		{"/srv//html", true},
		{"/srv/html/", false},
		{"/srv/html//", true},
		{"/srv/./html", true},
		{"/srv/html/.", true},
		{"/srv/html/..", true},
		{"/srv/../html", true},
		{"/srv/.x/../html", true},
		{"/srv/.x/./html", true},
		{"/srv/.x/.", true},
		{"/.", true},
		{"/..", true},
		{"//", true},
	}
	for _, tt := range tests {
		if got := needsClean([]byte(tt.p)); got != tt.want {
			t.Errorf("needsClean(%q) = %v, want %v", tt.p, got, tt.want)
		}
		// A name said clean is what filepath.Clean makes of it (but for
		// a trailing slash, which safePath keeps).
		if !tt.want {
			if c := filepath.Clean(tt.p); c != strings.TrimSuffix(tt.p, "/") && c != tt.p {
				t.Errorf("needsClean(%q) = false, but Clean gives %q", tt.p, c)
			}
		}
	}
}
