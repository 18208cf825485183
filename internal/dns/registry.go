package dns

import (
	"fmt"
	"strings"
	"sync"
)

// Registry holds one Resolver per distinct Config for the life of the
// process: every location whose resolver line says the same shares one
// cache, and a reload that keeps a line keeps its cache (nginx starts each
// configuration with empty caches, one per resolver directive). Safe for
// concurrent use.
type Registry struct {
	opts Options
	mu   sync.Mutex
	rs   map[string]*Resolver
}

// NewRegistry returns an empty Registry whose Resolvers use opts.
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts, rs: make(map[string]*Resolver)}
}

// Get returns the Resolver for cfg, creating it when none has cfg's key.
func (g *Registry) Get(cfg Config) (*Resolver, error) {
	k := key(cfg)
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.rs[k]; r != nil {
		return r, nil
	}
	r, err := New(cfg, g.opts)
	if err != nil {
		return nil, err
	}
	g.rs[k] = r
	return r, nil
}

// Retain forgets every Resolver not in keep (the ones the published
// configuration uses). Snapshots that still hold a forgotten Resolver keep
// using it; the next Get for its Config starts a new cache.
func (g *Registry) Retain(keep []*Resolver) {
	in := make(map[*Resolver]bool, len(keep))
	for _, r := range keep {
		in[r] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, r := range g.rs {
		if !in[r] {
			delete(g.rs, k)
		}
	}
}

func key(cfg Config) string {
	var b strings.Builder
	for _, s := range cfg.Servers {
		b.WriteString(s.String())
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "valid=%d ipv4=%t ipv6=%t", cfg.Valid, cfg.IPv4, cfg.IPv6)
	return b.String()
}
