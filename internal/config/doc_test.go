package config

import (
	goparser "go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure holds the package doc's promise: no file of the package imports
// the network packages (net/netip, which holds address values only, is
// allowed) or another wsgate package (but internal/openssl, which is
// pure itself).
func TestPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing the package's files: %v (%d found)", err, len(files))
	}
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			// net/netip is address values only (allow and deny read
			// addresses and CIDRs with it): no sockets, no lookups.
			// internal/geo is address syntax and arithmetic only
			// (geo reads its networks and ranges with it).
			if path == "net/netip" {
				continue
			}
			if path == "net" || strings.HasPrefix(path, "net/") || strings.HasPrefix(path, "wsgate/") && path != "wsgate/internal/openssl" && path != "wsgate/internal/geo" {
				t.Errorf("%s imports %q; want no network and no wsgate package", name, path)
			}
		}
	}
}
