package upstream

import (
	"net"
	"time"
)

// nginx's keepalive defaults (ngx_http_upstream_keepalive_init_main_conf).
// keepalive_time has no field in config.Upstream; its default applies.
const (
	defaultKeepaliveTimeout  = 60 * time.Second
	defaultKeepaliveRequests = 1000
	defaultKeepaliveTime     = time.Hour
)

// keepaliveConf is an upstream's "keepalive N" settings.
type keepaliveConf struct {
	max         int           // keepalive N: idle connections cached per pool; 0: none
	timeout     time.Duration // keepalive_timeout: idle time before closing
	maxRequests int           // keepalive_requests: requests per connection
	maxLifetime time.Duration // keepalive_time: a connection's whole life
}

// IdleConn is an upstream connection between requests: what the proxy
// offers to the cache after a complete response and gets back before
// dialing.
type IdleConn struct {
	Conn net.Conn
	// Requests is how many requests the connection has carried.
	Requests int
	// Dialed is when the connection was established (for keepalive_time).
	Dialed time.Time
}

// idleEntry is one cached connection.
type idleEntry struct {
	st    *peerState
	ic    IdleConn
	since time.Time // when it went idle (by the Registry clock)
	timer *time.Timer
}

// idleCache is a pool's cache of idle connections, least recently used
// first (ngx_http_upstream_keepalive_module's per-worker cache: one queue
// across all peers of the upstream, the oldest evicted when full). Guarded
// by poolState.mu.
type idleCache struct {
	entries []*idleEntry
}

func (c *idleCache) remove(i int) *idleEntry {
	e := c.entries[i]
	c.entries = append(c.entries[:i], c.entries[i+1:]...)
	return e
}

func (c *idleCache) count(st *peerState) int {
	n := 0
	for _, e := range c.entries {
		if e.st == st {
			n++
		}
	}
	return n
}

// closePeer closes the idle connections of st.
func (c *idleCache) closePeer(st *peerState) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.st == st {
			e.close()
			continue
		}
		kept = append(kept, e)
	}
	clear(c.entries[len(kept):])
	c.entries = kept
}

func (c *idleCache) closeAll() {
	for _, e := range c.entries {
		e.close()
	}
	clear(c.entries)
	c.entries = c.entries[:0]
}

func (e *idleEntry) close() {
	if e.timer != nil {
		e.timer.Stop()
	}
	e.ic.Conn.Close()
}

// TakeIdle returns the most recently cached idle connection to the leased
// peer, skipping (and closing) ones past keepalive_timeout and ones the
// peer closed or sent unexpected bytes on. ok is false when there is none:
// then the caller dials.
func (l *Lease) TakeIdle() (ic IdleConn, ok bool) {
	p := l.pool
	for {
		now := p.reg.now()
		p.ps.mu.Lock()
		var e *idleEntry
		for i := len(p.ps.idle.entries) - 1; i >= 0; i-- {
			if p.ps.idle.entries[i].st == l.m.st {
				e = p.ps.idle.remove(i)
				break
			}
		}
		p.ps.mu.Unlock()
		if e == nil {
			return IdleConn{}, false
		}
		if e.timer != nil {
			e.timer.Stop()
		}
		if now.Sub(e.since) >= p.ka.timeout || !alive(e.ic.Conn) {
			e.ic.Conn.Close()
			continue
		}
		return e.ic, true
	}
}

// PutIdle offers ic, whose last response was read completely, for reuse
// by later leases of the same peer (ngx_http_upstream_free_keepalive_peer).
// It closes ic and returns false when the pool has no "keepalive N", the
// connection reached keepalive_requests or keepalive_time, or the peer was
// retired. A full cache closes its least recently used connection. A cached
// connection is closed after keepalive_timeout idle. Call PutIdle before
// Done.
func (l *Lease) PutIdle(ic IdleConn) bool {
	p := l.pool
	ka := p.ka
	now := p.reg.now()
	if ka.max <= 0 || ic.Requests >= ka.maxRequests ||
		(!ic.Dialed.IsZero() && now.Sub(ic.Dialed) > ka.maxLifetime) {
		ic.Conn.Close()
		return false
	}
	ps := p.ps
	e := &idleEntry{st: l.m.st, ic: ic, since: now}
	ps.mu.Lock()
	if l.m.st.retired {
		ps.mu.Unlock()
		ic.Conn.Close()
		return false
	}
	for len(ps.idle.entries) >= ka.max {
		ps.idle.remove(0).close()
	}
	ps.idle.entries = append(ps.idle.entries, e)
	e.timer = time.AfterFunc(ka.timeout, func() {
		ps.mu.Lock()
		for i, x := range ps.idle.entries {
			if x == e {
				ps.idle.remove(i)
				ps.mu.Unlock()
				e.ic.Conn.Close()
				return
			}
		}
		ps.mu.Unlock()
	})
	ps.mu.Unlock()
	return true
}
