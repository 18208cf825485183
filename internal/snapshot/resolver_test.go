package snapshot

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/dns"
	"wsgate/internal/upstream"
)

// TestBuildResolvers: each resolver line becomes a dns.Resolver with its
// name servers (a name resolved at build, each of its addresses a server,
// port 53 by default), equal lines share one, a reload keeps the ones it
// still uses, and a name server that does not resolve is an error at the
// directive.
func TestBuildResolvers(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "ns.example" {
			return []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}, nil
		}
		return nil, errors.New("no such host")
	}
	reg := dns.NewRegistry(dns.Options{})
	build := func(body string) (*Snapshot, error) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "nginx.conf")
		if err := os.WriteFile(path, []byte("events {}\nhttp {\n"+body+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		spec, errs := config.Load(path, config.ParseOptions{})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{}), Resolver: lookup, DNS: reg})
	}
	const body = `server { listen 127.0.0.1:8000;
  resolver ns.example:5353 127.0.0.1 valid=10s ipv6=off;
  location /a { proxy_pass http://$host; }
  location /b { proxy_pass http://$host; }
  location /c { resolver [::1]; proxy_pass http://$host; }
  location /d { resolver [::1]; proxy_pass http://$host; }
}`
	s, err := build(body)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*dns.Resolver{}
	for _, l := range s.Locs {
		if l.Location != nil {
			by[l.Location.Path] = l.Resolver
		}
	}
	if by["/a"] == nil || by["/a"] != by["/b"] || by["/c"] == nil || by["/c"] != by["/d"] || by["/a"] == by["/c"] {
		t.Fatalf("got resolvers %v; want /a and /b to share one, /c and /d another", by)
	}
	cfg := by["/a"].Config()
	var servers []string
	for _, ap := range cfg.Servers {
		servers = append(servers, ap.String())
	}
	if want := []string{"10.0.0.1:5353", "10.0.0.2:5353", "127.0.0.1:53"}; !slices.Equal(servers, want) || cfg.Valid.Seconds() != 10 || !cfg.IPv4 || cfg.IPv6 {
		t.Errorf("got %v %+v; want servers %v, valid=10s, ipv6 off", servers, cfg, want)
	}
	s.Activate(upstream.NewRegistry(upstream.Options{}))

	// A reload that keeps the first line keeps its resolver and cache.
	s2, err := build(strings.Replace(body, "resolver [::1];", "resolver [::2];", 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range s2.Locs {
		if l.Location != nil && l.Location.Path == "/a" && l.Resolver != by["/a"] {
			t.Error("a reload that keeps the resolver line gave /a another resolver")
		}
	}

	_, err = build(`server { listen 127.0.0.1:8000; location / { resolver nowhere.example; proxy_pass http://$host; } }`)
	if err == nil || !strings.Contains(err.Error(), `host not found in resolver "nowhere.example"`) {
		t.Errorf("unresolvable name server: got %v; want host not found in resolver", err)
	}
}
