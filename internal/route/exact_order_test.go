package route

import (
	"testing"

	"wsgate/internal/config"
)

// TestExactBeforeSameInclusive: "= /x" and "^~ /x" (or "/x") share one
// node whichever the file names first, so a longer URI still finds the
// inclusive one (certbot's well-known snippet writes the ^~ location
// first).
func TestExactBeforeSameInclusive(t *testing.T) {
	root := &config.Location{Path: "/"}
	acme := &config.Location{Path: "/.well-known/acme-challenge/", Match: config.MatchPrefixNoRe}
	exact := &config.Location{Path: "/.well-known/acme-challenge/", Match: config.MatchExact}
	tests := []struct {
		desc  string
		order []*config.Location
	}{
		{"inclusive first", []*config.Location{root, acme, exact}},
		{"exact first", []*config.Location{root, exact, acme}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			h := &config.HTTP{Servers: []*config.Server{{Listens: []config.Listen{{Addr: "127.0.0.1:8080"}}, Locations: tc.order}}}
			tab, err := Build(h)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := tab.Server("127.0.0.1:8080", "x")
			for uri, want := range map[string]*config.Location{
				"/.well-known/acme-challenge/t.txt": acme,
				"/.well-known/acme-challenge/":      exact,
				"/other":                            root,
			} {
				if got := s.Location(uri).Location; got != want {
					t.Errorf("%s: got location %s; want %s", uri, name(got), name(want))
				}
			}
		})
	}
}

func name(l *config.Location) string {
	if l == nil {
		return "none (the server level)"
	}
	return l.Match.String() + " " + l.Path
}
