package upstream

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"wsgate/internal/config"
)

// ErrNoLive is returned by Pick when no peer may be chosen: all are down,
// failed, at max_conns or already tried by this request. nginx logs "no live
// upstreams" and answers 502.
var ErrNoLive = errors.New("no live upstreams")

// Peer is one address of one server line of a pool, as a lease exposes it.
// Two identical server lines are two peers with the same Name.
type Peer struct {
	// Network is "tcp" or "unix".
	Network string
	// Addr is what to dial: "127.0.0.1:8080", "[::1]:8080" or a socket path.
	Addr string
	// Name is nginx's peer name, the value of $upstream_addr:
	// "127.0.0.1:8080", "[::1]:8080" or "unix:/path".
	Name string
	// Server is the server directive's address as written ("localhost:8080"),
	// or the proxy_pass host[:port] of an implicit upstream.
	Server string
	// Backup is set for peers of "server ... backup".
	Backup bool
}

// memberSpec is one resolved server address with its parameters.
type memberSpec struct {
	addr        resolvedAddr
	server      string
	weight      int
	maxFails    int
	failTimeout time.Duration
	maxConns    int
	down        bool
	backup      bool
	slowStart   time.Duration
}

// member is a peer as one Set sees it: the configured parameters and the
// round robin weights of this configuration (as nginx's
// ngx_http_upstream_rr_peer_t), plus the shared long-lived state.
type member struct {
	info        Peer
	st          *peerState
	serverID    int // index of info.Server among the pool's distinct servers (hash consistent)
	weight      int
	maxFails    int
	failTimeout int64 // seconds: nginx keeps fail_timeout as time_t
	maxConns    int
	down        bool
	slowStart   time.Duration

	// Smooth weighted round robin state, guarded by poolState.mu.
	currentWeight   int
	effectiveWeight int
}

// usable reports whether m may be chosen at now (unix seconds): not down,
// not failed within fail_timeout, not at max_conns
// (ngx_http_upstream_get_peer's filters).
func (m *member) usable(now int64) bool {
	if m.down || m.st.unhealthy {
		return false
	}
	if m.maxFails > 0 && m.st.fails >= m.maxFails && now-m.st.checked <= m.failTimeout {
		return false
	}
	if m.maxConns > 0 && m.st.conns >= m.maxConns {
		return false
	}
	return true
}

// touch starts a new fail_timeout window when the previous one has passed,
// so that a success after it resets fails (ngx_http_upstream_get_peer).
func (m *member) touch(now int64) {
	if now-m.st.checked > m.failTimeout {
		m.st.checked = now
	}
}

// peerList is nginx's ngx_http_upstream_rr_peers_t: the primary or the
// backup peers of a pool.
type peerList struct {
	members     []member
	single      bool // exactly one primary address and no backup list
	totalWeight int
	tries       int   // non-down members
	ranges      []int // random: cumulative weight before each member
	backup      bool
}

// Pool is one upstream as one Set sees it. Its methods are safe for
// concurrent use.
type Pool struct {
	reg     *Registry
	ps      *poolState
	key     string
	name    string
	method  config.Balance
	two     bool // random two
	chash   bool
	hashKey string

	primary peerList
	backup  *peerList
	points  []chashPoint // hash consistent
	ka      keepaliveConf

	// gen is the newest generation of a pool whose peers follow DNS
	// (dyn != nil): Pick, Peers, Tries and Stats read it, and a request
	// keeps the generation of its first Pick for its retries. nil for a
	// pool whose peers are fixed.
	gen    atomic.Pointer[Pool]
	dyn    *dynPool
	handle *Pool // of a generation: the pool whose gen it is
	// hc and rb are the pool's ws_health_check and ws_rebalance; nil: off.
	hc *healthCheck
	rb *rebalancer
}

// cur is the generation requests pick from now: p itself when its peers
// are fixed.
func (p *Pool) cur() *Pool {
	if g := p.gen.Load(); g != nil {
		return g
	}
	return p
}

func (r *Registry) newPool(key, name string, method config.Balance, two, consistent bool, hashKey string, specs []memberSpec, ka keepaliveConf) *Pool {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.addr.name
	}
	ps, sts := r.state(key, names)
	p := &Pool{
		reg: r, ps: ps, key: key, name: name, method: method, two: two,
		chash: consistent, hashKey: hashKey, ka: ka,
	}
	serverIDs := make(map[string]int)
	var primary, backup []member
	for i, s := range specs {
		id, ok := serverIDs[s.server]
		if !ok {
			id = len(serverIDs)
			serverIDs[s.server] = id
		}
		m := member{
			info: Peer{
				Network: s.addr.network, Addr: s.addr.addr, Name: s.addr.name,
				Server: s.server, Backup: s.backup,
			},
			st:              sts[i],
			serverID:        id,
			weight:          s.weight,
			maxFails:        s.maxFails,
			failTimeout:     int64(s.failTimeout / time.Second),
			maxConns:        s.maxConns,
			down:            s.down,
			slowStart:       s.slowStart,
			effectiveWeight: s.weight,
		}
		if s.backup {
			backup = append(backup, m)
		} else {
			primary = append(primary, m)
		}
	}
	p.primary = makeList(primary, false)
	if len(backup) > 0 {
		b := makeList(backup, true)
		p.backup = &b
		p.primary.single = false
	}
	if method == config.BalanceHash && consistent {
		p.points = buildChashPoints(p.primary.members)
	}
	return p
}

func makeList(ms []member, backup bool) peerList {
	l := peerList{members: ms, single: len(ms) == 1, backup: backup}
	l.ranges = make([]int, len(ms))
	for i := range ms {
		l.ranges[i] = l.totalWeight
		l.totalWeight += ms[i].weight
		if !ms[i].down {
			l.tries++
		}
	}
	return l
}

// lists reports whether the pool has the peer with peer key k.
func (p *Pool) lists(k string) bool {
	for i := range p.primary.members {
		if p.primary.members[i].st.key == k {
			return true
		}
	}
	if p.backup != nil {
		for i := range p.backup.members {
			if p.backup.members[i].st.key == k {
				return true
			}
		}
	}
	return false
}

// Key is the pool's key in its Set.
func (p *Pool) Key() string { return p.key }

// Name is the upstream name, or the proxy_pass host of an implicit upstream.
func (p *Pool) Name() string { return p.name }

// Method is the balancing method.
func (p *Pool) Method() config.Balance { return p.method }

// HashKey is the raw "hash KEY" value (may hold variables); the caller
// evaluates it per request into PickKey.Hash.
func (p *Pool) HashKey() string { return p.hashKey }

// Peers returns the pool's peers, primaries first, then backups, in
// configuration order.
func (p *Pool) Peers() []Peer {
	p = p.cur()
	out := make([]Peer, 0, len(p.primary.members))
	for i := range p.primary.members {
		out = append(out, p.primary.members[i].info)
	}
	if p.backup != nil {
		for i := range p.backup.members {
			out = append(out, p.backup.members[i].info)
		}
	}
	return out
}

// Tries is the number of peers a request may try: the non-down primary and
// backup peers (nginx's ngx_http_upstream_tries).
func (p *Pool) Tries() int {
	p = p.cur()
	n := p.primary.tries
	if p.backup != nil {
		n += p.backup.tries
	}
	return n
}

// PeerStats is a peer's health and load at one moment. It is the read
// API of the metrics and the status page.
type PeerStats struct {
	Peer     Peer
	Fails    int
	Conns    int  // leases in flight
	Idle     int  // cached idle connections
	Disabled bool // failed max_fails times within fail_timeout
	Down     bool // marked "down" in the configuration
	// Tunnels are the open tunnels on the peer that ws_drain_removed and
	// ws_rebalance may close (counted in Conns too).
	Tunnels int
	// Health is the active check's view (ws_health_check); Checked is
	// false when the pool has no check.
	Health HealthStats
	// Weight is the weight the balancer uses now: the configured one, or
	// less while slow_start ramps it up.
	Weight int
	// Draining is set for a peer that the configuration or DNS removed
	// while it had requests or tunnels, which it keeps serving until they
	// end (Pool.Draining).
	Draining bool
}

// HealthStats is one peer's active health check state.
type HealthStats struct {
	Checked   bool
	Unhealthy bool      // taken out by ws_health_check
	Fails     int       // failed checks in a row
	Passes    int       // passed checks in a row
	Checks    int64     // checks made
	Last      time.Time // when the last check ended; zero: none yet
	LastError string    // why the last check failed; "" when it passed
}

// Stats returns every peer's state, in Peers order.
func (p *Pool) Stats() []PeerStats {
	checked := p.hc != nil
	p = p.cur()
	nowT := p.reg.now()
	now := nowT.Unix()
	p.ps.mu.Lock()
	defer p.ps.mu.Unlock()
	var out []PeerStats
	add := func(l *peerList) {
		for i := range l.members {
			m := &l.members[i]
			out = append(out, PeerStats{
				Peer: m.info, Fails: m.st.fails, Conns: m.st.conns,
				Idle: p.ps.idle.count(m.st), Down: m.down,
				Disabled: m.maxFails > 0 && m.st.fails >= m.maxFails && now-m.st.checked <= m.failTimeout,
				Tunnels:  len(m.st.tunnels),
				Health:   m.st.health.stats(checked, m.st.unhealthy),
				Weight:   (m.rampedWeight(nowT) + rampScale - 1) / rampScale,
			})
		}
	}
	add(&p.primary)
	if p.backup != nil {
		add(p.backup)
	}
	return out
}

// PickKey is what the hashing methods hash.
type PickKey struct {
	// ClientIP is the client address for ip_hash. IPv4 (and IPv4-mapped
	// IPv6) hashes its first three octets, IPv6 all sixteen bytes; the
	// zero Addr (a unix-socket client) hashes a fixed pseudo address
	// (ngx_http_upstream_init_ip_hash_peer).
	ClientIP netip.Addr
	// Hash is the evaluated "hash KEY" value. Empty means round robin.
	Hash []byte
}

// Tried is the per-request state of peer selection across
// proxy_next_upstream attempts: the peers already tried, whether the
// request moved on to the backup peers, the hashing methods' progress, and
// the tries left. The zero value is ready; use one Tried per request (or
// tunnel) and one pool, calling Reset before reusing it for another.
type Tried struct {
	pool   *Pool
	bits   [2]uint64
	more   []uint64 // pools with more than 128 peers in one list
	backup bool
	left   int

	// hashing state (ip_hash, hash, hash consistent, random)
	started bool
	htries  int
	hash    uint64
	rehash  int

	lease Lease
}

// Reset clears t for another request.
func (t *Tried) Reset() {
	more := t.more
	clear(more)
	*t = Tried{more: more[:0]}
}

// Left is the number of further attempts nginx would allow (its
// u->peer.tries): starts at Pool.Tries, drops by one per finished lease, and
// drops to zero after a lease of a single-peer pool (which nginx never
// retries). proxy_next_upstream_tries, when set, caps it further.
func (t *Tried) Left() int { return t.left }

// Refund gives back the try that a finished lease took, for an attempt on
// a cached keepalive connection that failed with an error (not a
// timeout): nginx does not count it (ngx_http_upstream_next's
// u->peer.tries++ when u->peer.cached and the failure is
// NGX_HTTP_UPSTREAM_FT_ERROR). The peer stays tried, and the failure
// stays counted for max_fails: only the number of tries left grows, by
// one, also for a single-peer pool. Call it after the lease's Done.
func (t *Tried) Refund() { t.left++ }

func (t *Tried) bind(p *Pool) {
	if t.pool == p {
		return
	}
	if t.pool != nil {
		t.Reset()
	}
	t.pool = p
	t.left = p.Tries()
	n := len(p.primary.members)
	if p.backup != nil && len(p.backup.members) > n {
		n = len(p.backup.members)
	}
	if n > 128 {
		words := (n + 63) / 64
		if cap(t.more) < words {
			t.more = make([]uint64, words)
		}
		t.more = t.more[:words]
	}
}

func (t *Tried) has(i int) bool {
	if t.more != nil && len(t.more) > 0 {
		return t.more[i/64]&(1<<(i%64)) != 0
	}
	return t.bits[i/64]&(1<<(i%64)) != 0
}

func (t *Tried) set(i int) {
	if len(t.more) > 0 {
		t.more[i/64] |= 1 << (i % 64)
		return
	}
	t.bits[i/64] |= 1 << (i % 64)
}

func (t *Tried) clearBits() {
	t.bits = [2]uint64{}
	clear(t.more)
}

// list is the peer list the request picks from now.
func (t *Tried) list(p *Pool) *peerList {
	if t.backup {
		return p.backup
	}
	return &p.primary
}

// Outcome is how a leased attempt ended, as nginx's peer.free state.
type Outcome uint8

const (
	// Success: the request or tunnel ended normally, including errors
	// after the response header went to the client (nginx frees the peer
	// with state 0 in ngx_http_upstream_finalize_request).
	Success Outcome = iota
	// Next: a retry for http_403 or http_404 (NGX_PEER_NEXT): not a failure.
	Next
	// FailError: connect refused/reset, upstream closed before the header.
	FailError
	// FailTimeout: proxy_connect_timeout or proxy_read_timeout before the header.
	FailTimeout
	// FailInvalidHeader: an invalid or too big response header.
	FailInvalidHeader
	// FailHTTP: an http_500/502/503/504/429 response named in
	// proxy_next_upstream (an unlisted status is a Success).
	FailHTTP
)

// Failed reports whether o counts toward max_fails (NGX_PEER_FAILED).
func (o Outcome) Failed() bool { return o >= FailError }

// Lease is one attempt's hold on a peer, for the life of a request or a
// tunnel: it counts in the peer's in-flight connections (least_conn,
// max_conns) until Done.
type Lease struct {
	pool   *Pool
	list   *peerList
	m      *member
	t      *Tried
	active bool
}

// Tunnel marks the lease as held by a tunnel for the rest of its life and
// gives the way to close it: wsgate calls closeFn (at most once, from any
// goroutine) with Close code 1012 when ws_drain_removed or ws_rebalance
// moves the tunnel off its peer; the tunnel then sends the Close frame at a
// frame boundary. No-op after Done.
func (l *Lease) Tunnel(closeFn func(code uint16, reason string)) {
	ps := l.pool.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if !l.active {
		return
	}
	st := l.m.st
	if st.tunnels == nil {
		st.tunnels = make(map[*Lease]func(uint16, string))
	}
	st.tunnels[l] = closeFn
}

// MoveTo moves the lease into d, storage of the caller's that outlives
// the request (a tunnel's), and ends l without counting anything: d is
// the lease from then on, and l's Tried may be reset and reused at once
// instead of being kept for as long as d lasts. d's Done no longer counts
// down the Tried's attempts left (nothing is tried after a tunnel). Call
// it before Tunnel.
func (l *Lease) MoveTo(d *Lease) {
	ps := l.pool.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	*d = *l
	d.t = nil
	l.active = false
}

// Peer returns the leased peer. The pointer stays valid after Done.
func (l *Lease) Peer() *Peer { return &l.m.info }

// PoolName is the name of the leased peer's pool (Pool.Name); "" for a
// nil Lease.
func (l *Lease) PoolName() string {
	if l == nil {
		return ""
	}
	return l.pool.name
}

// Done ends the lease and does nginx's failure accounting
// (ngx_http_upstream_free_round_robin_peer): a failed outcome counts a
// fail, restarts the fail_timeout window and lowers the peer's effective
// weight by weight/max_fails; a success after a new window began resets
// fails. Single-peer pools never count failures. Calls after the first
// are no-ops.
func (l *Lease) Done(o Outcome) {
	p := l.pool
	ps := p.ps
	ps.mu.Lock()
	if !l.active {
		ps.mu.Unlock()
		return
	}
	l.active = false
	m := l.m
	st := m.st
	st.conns--
	delete(st.tunnels, l)
	disabled := false
	if l.list.single {
		if l.t != nil {
			l.t.left = 0
		}
	} else {
		if o.Failed() {
			// The clock is read only here: a success needs no time.
			now := p.reg.now().Unix()
			st.fails++
			st.accessed = now
			st.checked = now
			if m.maxFails > 0 {
				m.effectiveWeight -= m.weight / m.maxFails
				disabled = st.fails >= m.maxFails
			}
			if m.effectiveWeight < 0 {
				m.effectiveWeight = 0
			}
		} else if st.accessed < st.checked {
			// "mark peer live if check passed"
			st.fails = 0
		}
		if l.t != nil && l.t.left > 0 {
			l.t.left--
		}
	}
	if st.retired && st.conns == 0 {
		ps.idle.closePeer(st)
		delete(ps.draining, st)
	}
	ps.mu.Unlock()
	if disabled {
		p.reg.log.Warn("upstream server temporarily disabled",
			"upstream", p.name, "peer", m.info.Name)
	}
}

// Pick chooses a peer by the pool's method, skipping peers t already
// tried, and leases it. It returns ErrNoLive when no peer can be chosen.
// t may be nil for a single attempt. The returned Lease belongs to t: end
// it with Done before the next Pick with the same t (an undone lease makes
// Pick allocate a new one).
func (p *Pool) Pick(key PickKey, t *Tried) (*Lease, error) {
	if t == nil {
		t = &Tried{}
	}
	if p.dyn != nil {
		// A request's retries stay in the generation of its first pick.
		if t.pool != nil && t.pool.handle == p {
			p = t.pool
		} else {
			p = p.cur()
		}
	}
	t.bind(p)
	if len(p.primary.members) == 0 && p.backup == nil {
		// A resolve server whose name has no addresses (yet).
		return nil, ErrNoLive
	}
	// A single peer by round robin is chosen without fail_timeout
	// arithmetic: no clock reading then.
	var now int64
	if p.method != config.BalanceRoundRobin || !t.list(p).single {
		now = p.reg.now().Unix()
	}
	p.ps.mu.Lock()
	var m *member
	switch p.method {
	case config.BalanceLeastConn:
		m = p.getLeastConn(t, now)
	case config.BalanceIPHash:
		m = p.getIPHash(t, key.ClientIP, now)
	case config.BalanceHash:
		if p.chash {
			m = p.getChash(t, key.Hash, now)
		} else {
			m = p.getHash(t, key.Hash, now)
		}
	case config.BalanceRandom:
		m = p.getRandom(t, now)
	default:
		m = p.getRoundRobin(t, now)
	}
	if m == nil {
		p.ps.mu.Unlock()
		return nil, ErrNoLive
	}
	m.st.conns++
	l := &t.lease
	if l.active {
		l = new(Lease)
	}
	*l = Lease{pool: p, list: t.list(p), m: m, t: t, active: true}
	p.ps.mu.Unlock()
	return l, nil
}
