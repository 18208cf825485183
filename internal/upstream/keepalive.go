package upstream

import (
	"net"
	"reflect"
	"syscall"
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
	// Raw is Conn's socket when Conn is a socket itself (not TLS), set by
	// TakeIdle, so that the taker need not ask Conn for it again (which
	// allocates); nil otherwise. PutIdle ignores it.
	Raw syscall.RawConn

	// probe is the connection's liveness check, made by its first
	// TakeIdle: it travels with the connection to the taker and back, for
	// a caller that offers the IdleConn it took (with Conn, Requests and
	// Dialed updated) to PutIdle again.
	probe *probe
}

// idleEntry is one cached connection.
type idleEntry struct {
	st      *peerState // the peer whose lease cached it (Stats, retirement)
	ic      IdleConn
	expires time.Time // by the Registry clock: cached time plus keepalive_timeout
}

// idleCache is a pool's cache of idle connections, least recently used
// first (ngx_http_upstream_keepalive_module's per-worker cache: one queue
// across all peers of the upstream, the oldest evicted when full, a
// connection found by its peer's address, so identical server lines share
// their connections as nginx's ngx_http_upstream_get_keepalive_peer
// compares sockaddrs). Guarded by poolState.mu.
//
// Nothing here allocates per request once a connection has been cached
// the first time: entries are values in a slice that keeps its capacity,
// one timer per pool closes expired connections, and a connection's probe
// (its syscall.RawConn and peek callback), made when the connection is
// first taken, travels in its IdleConn from TakeIdle to the caller and
// back to PutIdle.
type idleCache struct {
	entries []idleEntry
	// timer runs sweep; armed is the deadline it is set for, zero when
	// stopped or fired.
	timer *time.Timer
	armed time.Time
}

// remove takes entry i out of the cache, keeping the order of the rest.
func (c *idleCache) remove(i int) idleEntry {
	e := c.entries[i]
	copy(c.entries[i:], c.entries[i+1:])
	c.entries[len(c.entries)-1] = idleEntry{}
	c.entries = c.entries[:len(c.entries)-1]
	return e
}

func (c *idleCache) count(st *peerState) int {
	n := 0
	for i := range c.entries {
		if c.entries[i].st == st {
			n++
		}
	}
	return n
}

// closePeer closes the idle connections cached by st.
func (c *idleCache) closePeer(st *peerState) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.st == st {
			e.ic.Conn.Close()
			continue
		}
		kept = append(kept, e)
	}
	clear(c.entries[len(kept):])
	c.entries = kept
}

func (c *idleCache) closeAll() {
	for _, e := range c.entries {
		e.ic.Conn.Close()
	}
	clear(c.entries)
	c.entries = c.entries[:0]
	if c.timer != nil {
		c.timer.Stop()
		c.armed = time.Time{}
	}
}

// arm makes sure the pool's timer fires no later than deadline, now being
// the Registry clock's time.
func (ps *poolState) arm(deadline, now time.Time) {
	c := &ps.idle
	if !c.armed.IsZero() && !deadline.Before(c.armed) {
		return
	}
	c.armed = deadline
	d := deadline.Sub(now)
	if c.timer == nil {
		c.timer = time.AfterFunc(d, ps.sweep)
		return
	}
	c.timer.Reset(d)
}

// sweep closes the idle connections past keepalive_timeout, as nginx's
// keepalive close handler does on its timer, and sets the timer for the
// next expiry.
func (ps *poolState) sweep() {
	now := ps.now()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	c := &ps.idle
	c.armed = time.Time{}
	var next time.Time
	kept := c.entries[:0]
	for _, e := range c.entries {
		if !now.Before(e.expires) {
			e.ic.Conn.Close()
			continue
		}
		if next.IsZero() || e.expires.Before(next) {
			next = e.expires
		}
		kept = append(kept, e)
	}
	clear(c.entries[len(kept):])
	c.entries = kept
	if !next.IsZero() {
		ps.arm(next, now)
	}
}

// TakeIdle returns the most recently cached idle connection to the leased
// peer's address, skipping (and closing) ones past keepalive_timeout and
// ones the peer closed or sent unexpected bytes on. ok is false when there
// is none: then the caller dials.
func (l *Lease) TakeIdle() (ic IdleConn, ok bool) {
	p := l.pool
	ps := p.ps
	name := l.m.st.name
	for {
		now := p.reg.now()
		ps.mu.Lock()
		i := len(ps.idle.entries) - 1
		for ; i >= 0; i-- {
			if ps.idle.entries[i].st.name == name {
				break
			}
		}
		if i < 0 {
			ps.mu.Unlock()
			return IdleConn{}, false
		}
		e := ps.idle.remove(i)
		ps.mu.Unlock()
		if e.ic.probe == nil {
			e.ic.probe = newProbe(e.ic.Conn)
		}
		if !now.Before(e.expires) || !e.ic.probe.alive() {
			e.ic.Conn.Close()
			continue
		}
		e.ic.Raw = e.ic.probe.raw()
		return e.ic, true
	}
}

// PutIdle offers ic, whose last response was read completely, for reuse
// by later leases of the same peer address
// (ngx_http_upstream_free_keepalive_peer). It closes ic and returns false
// when the pool has no "keepalive N", the connection reached
// keepalive_requests or keepalive_time, or the peer was retired. A full
// cache closes its least recently used connection. A cached connection is
// closed after keepalive_timeout idle. Call PutIdle before Done. A
// connection TakeIdle handed out goes back in the IdleConn it came in
// (its probe with it), or its next TakeIdle makes a new probe.
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
	ps.mu.Lock()
	if l.m.st.retired {
		ps.mu.Unlock()
		ic.Conn.Close()
		return false
	}
	if ic.probe != nil && (!reflect.TypeOf(ic.Conn).Comparable() || ic.probe.conn != ic.Conn) {
		// Not the connection the probe was made for.
		ic.probe = nil
	}
	ic.Raw = nil
	for len(ps.idle.entries) >= ka.max {
		ps.idle.remove(0).ic.Conn.Close()
	}
	exp := now.Add(ka.timeout)
	ps.idle.entries = append(ps.idle.entries, idleEntry{st: l.m.st, ic: ic, expires: exp})
	ps.arm(exp, now)
	ps.mu.Unlock()
	return true
}
