package snapshot

import (
	"crypto/rand"
	"crypto/tls"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgate/internal/config"
)

// A session cache is ssl_session_cache builtin or shared with
// ssl_session_tickets off: sessions are kept on the server and the client
// holds only a random identity. OpenSSL resumes TLS 1.3 sessions that way
// (stateful tickets) and TLS 1.2 sessions by session ID; crypto/tls
// resumes only by tickets, so the identity rides in a ticket (RFC 8446
// §4.6.1, RFC 5077 for TLS 1.2 clients that offer tickets), with no
// session data in it: nothing that ticket keys protect, as nginx's
// "tickets off" intends. A TLS 1.2 client that offers no ticket extension
// resumes nothing (crypto/tls has no session-ID resumption).

// sessionsPerMiB is how many sessions a shared cache of 1 MiB holds:
// "about 4000", as nginx's documentation of ssl_session_cache says.
const sessionsPerMiB = 4000

// builtinSessions is ssl_session_cache builtin's default size in sessions
// (OpenSSL's SSL_SESSION_CACHE_MAX_SIZE_DEFAULT).
const builtinSessions = 20480

// sessionCache holds sessions by identity, at most max, each until its
// deadline; an identity resumes once (each resumption issues a new one).
type sessionCache struct {
	mu    sync.Mutex
	max   int
	m     map[string]cachedSession
	order []string // identities, oldest first; some already gone from m
}

type cachedSession struct {
	state    []byte // tls.SessionState.Bytes
	deadline time.Time
}

// sharedCaches are the shared:NAME caches by name. Like nginx's shared
// zones they outlive a reload, so sessions resume across one; a reload
// that changes the size resizes the cache.
var sharedCaches struct {
	sync.Mutex
	m map[string]*sessionCache
}

// sessionCacheFor is the cache t's ssl_session_cache names: the shared
// one when both are given (nginx looks there after OpenSSL's builtin one;
// one cache is enough here), nil for off and none.
func sessionCacheFor(t *config.TLSConf) *sessionCache {
	var builtin, shared string
	for _, p := range strings.Fields(t.SessionCache) {
		switch {
		case p == "builtin" || strings.HasPrefix(p, "builtin:"):
			builtin = p
		case strings.HasPrefix(p, "shared:"):
			shared = p
		}
	}
	if shared != "" {
		name, zone, _ := strings.Cut(shared[len("shared:"):], ":")
		n, _ := config.ParseSize(zone)
		size := max(int(n*sessionsPerMiB/(1<<20)), 1)
		sharedCaches.Lock()
		defer sharedCaches.Unlock()
		if sharedCaches.m == nil {
			sharedCaches.m = map[string]*sessionCache{}
		}
		c := sharedCaches.m[name]
		if c == nil {
			c = &sessionCache{m: map[string]cachedSession{}}
			sharedCaches.m[name] = c
		}
		c.mu.Lock()
		c.max = size
		c.mu.Unlock()
		return c
	}
	if builtin != "" {
		size := builtinSessions
		if _, n, ok := strings.Cut(builtin, ":"); ok {
			size, _ = strconv.Atoi(n)
		}
		return &sessionCache{max: max(size, 1), m: map[string]cachedSession{}}
	}
	return nil
}

// install makes cfg resume sessions from c for ttl (ssl_session_timeout).
func (c *sessionCache) install(cfg *tls.Config, ttl time.Duration) {
	cfg.SessionTicketsDisabled = false
	cfg.WrapSession = func(_ tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		b, err := ss.Bytes()
		if err != nil {
			return nil, err
		}
		id := make([]byte, 32)
		rand.Read(id)
		c.put(string(id), b, time.Now().Add(ttl))
		return id, nil
	}
	cfg.UnwrapSession = func(identity []byte, _ tls.ConnectionState) (*tls.SessionState, error) {
		b := c.take(string(identity))
		if b == nil {
			return nil, nil // a full handshake
		}
		return tls.ParseSessionState(b)
	}
}

// put stores a session, dropping expired ones and, when full, the oldest.
func (c *sessionCache) put(id string, state []byte, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for len(c.order) > 0 {
		old := c.order[0]
		s, ok := c.m[old]
		if ok && len(c.m) < c.max && now.Before(s.deadline) {
			break
		}
		delete(c.m, old)
		c.order = c.order[1:]
	}
	if len(c.order) > 2*c.max+16 {
		// Identities resumed (gone from m) pile up behind a live head:
		// keep only the live ones, in order.
		live := make([]string, 0, len(c.m)+1)
		for _, k := range c.order {
			if _, ok := c.m[k]; ok {
				live = append(live, k)
			}
		}
		c.order = live
	}
	c.m[id] = cachedSession{state: state, deadline: deadline}
	c.order = append(c.order, id)
}

// take removes and returns the live session of id, nil when there is none.
func (c *sessionCache) take(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	if !ok {
		return nil
	}
	delete(c.m, id)
	if !time.Now().Before(s.deadline) {
		return nil
	}
	return s.state
}
