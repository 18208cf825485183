package dns

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxRecursion is how many CNAME answers one lookup follows
// (NGX_RESOLVER_MAX_RECURSION); a longer chain is "Host not found".
const MaxRecursion = 50

// Config is one resolver line (the resolver directive).
type Config struct {
	// Servers are the name servers, asked in turn. At least one.
	Servers []netip.AddrPort
	// Valid, when non-zero, replaces the TTL of every answer cached
	// (valid=).
	Valid time.Duration
	// IPv4 and IPv6 say which address types are asked for (ipv4=, ipv6=,
	// both on by default). At least one must be on.
	IPv4, IPv6 bool
}

// Options tune a Resolver beyond its configuration. The zero value is
// nginx's behaviour.
type Options struct {
	// Resend is how long a query waits before it goes to the next server;
	// 0 means DefaultResend. Tests shorten it.
	Resend time.Duration
	// Now is the clock of the cache; nil means time.Now.
	Now func() time.Time
	// Logger receives the answers that were ignored and the sockets that
	// failed, at error level as nginx logs them; nil means slog.Default().
	Logger *slog.Logger
	// MaxEntries bounds the cache; 0 means 10000. When it is full,
	// expired entries are dropped first, then any.
	MaxEntries int
}

// Answer is a successful lookup.
type Answer struct {
	// Addrs are the addresses: the A records, then the AAAA ones. An
	// answer from the cache starts each type's list at a random place.
	Addrs []netip.Addr
	// Expires is when the answer stops being valid: its TTL (or valid=)
	// after it was received, the soonest of the CNAMEs that led to it
	// included. The zero time for an IP literal.
	Expires time.Time
}

// Resolver looks names up through the name servers of one Config and
// caches the answers. It is safe for concurrent use and needs no closing:
// it runs goroutines only while a lookup waits.
type Resolver struct {
	cfg    Config
	resend time.Duration
	now    func() time.Time
	log    *slog.Logger
	max    int
	next   atomic.Uint32 // the server the next new query goes to

	mu      sync.Mutex
	cache   map[string]*entry
	flights map[string]*flight
}

// entry is a cached answer for one name: addresses, a CNAME to follow, or
// a name that does not exist (code).
type entry struct {
	addrs   []netip.Addr
	n4      int         // addrs[:n4] are A records, the rest AAAA
	srvs    []SRVRecord // the SRV records of an SRV query's answer
	cname   string
	code    Code
	expires time.Time
}

// flight is a query in progress that lookups of its name wait for.
type flight struct {
	done    chan struct{}
	out     outcome
	err     error // the query's context ended
	waiters int
	cancel  context.CancelFunc
}

// New returns a Resolver for cfg.
func New(cfg Config, opts Options) (*Resolver, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("no name servers defined")
	}
	if !cfg.IPv4 && !cfg.IPv6 {
		return nil, errors.New("\"ipv4\" and \"ipv6\" cannot both be \"off\"")
	}
	r := &Resolver{
		cfg: cfg, resend: opts.Resend, now: opts.Now, log: opts.Logger, max: opts.MaxEntries,
		cache: make(map[string]*entry), flights: make(map[string]*flight),
	}
	r.cfg.Servers = slices.Clone(cfg.Servers)
	if r.resend <= 0 {
		r.resend = DefaultResend
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.max <= 0 {
		r.max = 10000
	}
	return r, nil
}

// Config returns the resolver's configuration.
func (r *Resolver) Config() Config { return r.cfg }

// Lookup returns the addresses of host, from the cache or from the name
// servers. An IP literal is returned as is. ctx bounds the wait
// (resolver_timeout): when its deadline passes the error is an *Error with
// TimedOut; when it is cancelled, ctx's error. Any other failure is an
// *Error.
func (r *Resolver) Lookup(ctx context.Context, host string) (Answer, error) {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	orig := name
	if a, err := netip.ParseAddr(name); err == nil {
		return Answer{Addrs: []netip.Addr{a.Unmap()}}, nil
	}
	var expires time.Time // the soonest expiry along the CNAME chain
	for hops := 0; ; hops++ {
		e, cached, err := r.resolve(ctx, name, false)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return Answer{}, &Error{Name: orig, Code: TimedOut}
			}
			var de *Error
			if errors.As(err, &de) {
				return Answer{}, &Error{Name: orig, Code: de.Code}
			}
			return Answer{}, err
		}
		if expires.IsZero() || e.expires.Before(expires) {
			expires = e.expires
		}
		switch {
		case e.code != 0:
			return Answer{}, &Error{Name: orig, Code: e.code}
		case len(e.addrs) > 0:
			return Answer{Addrs: e.export(cached), Expires: expires}, nil
		}
		if hops >= MaxRecursion || e.cname == "." {
			return Answer{}, &Error{Name: orig, Code: NXDomain}
		}
		name = e.cname
	}
}

// export copies the addresses; a cached answer's A and AAAA lists each
// start at a random place (ngx_resolver_export with rotate).
func (e *entry) export(rotate bool) []netip.Addr {
	out := make([]netip.Addr, 0, len(e.addrs))
	for _, l := range [][]netip.Addr{e.addrs[:e.n4], e.addrs[e.n4:]} {
		d := 0
		if rotate && len(l) > 1 {
			d = rand.IntN(len(l))
		}
		out = append(out, l[d:]...)
		out = append(out, l[:d]...)
	}
	return out
}

// resolve returns the entry for name (one step: a CNAME is not followed),
// from the cache or by joining or starting the query for it: the query
// for its addresses, or with srv for its SRV records (cached apart, as
// nginx keeps SRV answers in a tree of their own).
func (r *Resolver) resolve(ctx context.Context, name string, srv bool) (*entry, bool, error) {
	key := name
	if srv {
		key = "SRV " + name
	}
	r.mu.Lock()
	if e := r.cache[key]; e != nil {
		if r.now().Before(e.expires) {
			r.mu.Unlock()
			return e, true, nil
		}
		delete(r.cache, key)
	}
	f := r.flights[key]
	if f == nil {
		qctx, cancel := context.WithCancel(context.Background())
		f = &flight{done: make(chan struct{}), cancel: cancel}
		r.flights[key] = f
		go r.fly(qctx, key, name, srv, f)
	}
	f.waiters++
	r.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, false, f.err
		}
		if f.out.code != 0 {
			return nil, false, &Error{Name: name, Code: f.out.code}
		}
		return f.out.e, false, nil
	case <-ctx.Done():
		r.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody waits any more: stop asking (nginx drops the
			// query at its next resend).
			f.cancel()
			if r.flights[key] == f {
				delete(r.flights, key)
			}
		}
		r.mu.Unlock()
		return nil, false, ctx.Err()
	}
}

// fly runs the query for name and hands its outcome to the waiters and the
// cache, under key.
func (r *Resolver) fly(ctx context.Context, key, name string, srv bool, f *flight) {
	out, err := r.query(ctx, name, srv)
	f.cancel()
	r.mu.Lock()
	if r.flights[key] == f {
		delete(r.flights, key)
	}
	if err == nil && out.e != nil && out.e.expires.After(r.now()) {
		r.store(key, out.e)
	}
	f.out, f.err = out, err
	close(f.done)
	r.mu.Unlock()
}

// positive stamps e with its expiry: valid= when set, else ttl seconds
// from now. ttl is -1 when the answers had no records.
func (r *Resolver) positive(e *entry, ttl int64) *entry {
	now := r.now()
	switch {
	case r.cfg.Valid > 0:
		e.expires = now.Add(r.cfg.Valid)
	case ttl > 0:
		e.expires = now.Add(time.Duration(ttl) * time.Second)
	default:
		e.expires = now
	}
	return e
}

// negative is the entry of a name that does not exist: cached for valid=
// when set, else for the SOA's negative TTL (RFC 2308 §5), else not at all.
func (r *Resolver) negative(code Code, negTTL int64) *entry {
	return r.positive(&entry{code: code}, negTTL)
}

// store caches e under name, making room first when the cache is full.
// r.mu is held.
func (r *Resolver) store(name string, e *entry) {
	if len(r.cache) >= r.max {
		now := r.now()
		for k, v := range r.cache {
			if !now.Before(v.expires) {
				delete(r.cache, k)
			}
		}
		for k := range r.cache {
			if len(r.cache) < r.max {
				break
			}
			delete(r.cache, k)
		}
	}
	r.cache[name] = e
}
