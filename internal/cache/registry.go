package cache

import (
	"log/slog"
	"slices"
	"sync"
)

// Registry holds the process's zones from one configuration to the next:
// a zone whose proxy_cache_path is unchanged keeps its index, loader and
// manager across a reload.
type Registry struct {
	log   *slog.Logger
	mu    sync.Mutex
	zones map[string]*Zone // by name
}

// NewRegistry returns an empty registry; log receives the zones' error
// lines (nil discards them).
func NewRegistry(log *slog.Logger) *Registry {
	return &Registry{log: log, zones: make(map[string]*Zone)}
}

// Zone returns the zone for cfg: the registry's when one of that name
// has the same configuration, else a new one that Activate starts. r
// may be nil (a configuration test): the zone is then never started.
func (r *Registry) Zone(cfg Config) *Zone {
	if r == nil {
		return New(cfg, nil)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if z := r.zones[cfg.Name]; z != nil && sameConfig(z.cfg, cfg) {
		return z
	}
	return New(cfg, r.log)
}

func sameConfig(a, b Config) bool {
	if b.Inactive <= 0 {
		b.Inactive = a.Inactive
	}
	return a.Name == b.Name && a.Path == b.Path && slices.Equal(a.Levels, b.Levels) && a.KeysSize == b.KeysSize &&
		a.MaxSize == b.MaxSize && a.MinFree == b.MinFree && a.Inactive == b.Inactive && a.UseTempPath == b.UseTempPath
}

// Activate makes zs the registry's zones: each is started (an error is
// logged and the zone serves as a cache that stores nothing it cannot
// write), and zones no longer used are stopped. r may be nil.
func (r *Registry) Activate(zs []*Zone) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[string]*Zone, len(zs))
	for _, z := range zs {
		if err := z.Start(); err != nil {
			z.log.Error("starting cache zone", "zone", z.cfg.Name, "path", z.cfg.Path, "err", err)
		}
		next[z.cfg.Name] = z
	}
	for name, z := range r.zones {
		if next[name] != z {
			z.Stop()
		}
	}
	r.zones = next
}

// Close stops every zone.
func (r *Registry) Close() { r.Activate(nil) }
