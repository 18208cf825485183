package upstream

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"wsgate/internal/config"
)

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// srv is a shorthand for an upstream server line with nginx's defaults.
func srv(addr string, opts ...func(*config.UpstreamServer)) config.UpstreamServer {
	s := config.UpstreamServer{Addr: addr, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func weight(w int) func(*config.UpstreamServer) {
	return func(s *config.UpstreamServer) { s.Weight = w }
}
func maxFails(n int) func(*config.UpstreamServer) {
	return func(s *config.UpstreamServer) { s.MaxFails = n }
}
func failTimeout(d time.Duration) func(*config.UpstreamServer) {
	return func(s *config.UpstreamServer) { s.FailTimeout = d }
}
func maxConns(n int) func(*config.UpstreamServer) {
	return func(s *config.UpstreamServer) { s.MaxConns = n }
}
func backup(s *config.UpstreamServer) { s.Backup = true }
func down(s *config.UpstreamServer)   { s.Down = true }

// noResolve fails every name lookup.
func noResolve(context.Context, string) ([]netip.Addr, error) {
	return nil, context.Canceled
}

// buildPool builds a one-upstream Set in r and returns its pool.
func buildPool(t testing.TB, r *Registry, u *config.Upstream) *Pool {
	t.Helper()
	if u.Name == "" {
		u.Name = "backend"
	}
	set, err := r.Build(context.Background(), []*config.Upstream{u}, nil, noResolve)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	r.Activate(set)
	return set.Pool(u.Name)
}

// pickSeq picks n times, each a fresh request ending in success, and
// returns the peer names picked; names are shortened through short.
func pickSeq(t testing.TB, p *Pool, n int, key PickKey, short map[string]string) []string {
	t.Helper()
	var out []string
	var tr Tried
	for range n {
		tr.Reset()
		l, err := p.Pick(key, &tr)
		if err != nil {
			out = append(out, "-")
			continue
		}
		name := l.Peer().Name
		if s, ok := short[name]; ok {
			name = s
		}
		out = append(out, name)
		l.Done(Success)
	}
	return out
}

func join(s []string) string { return strings.Join(s, " ") }

// discardLogger drops the "temporarily disabled" warnings tests provoke.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
