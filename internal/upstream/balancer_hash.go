package upstream

import (
	"hash/crc32"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ip_hash, hash and hash consistent, as ngx_http_upstream_ip_hash_module.c
// and ngx_http_upstream_hash_module.c of nginx 1.22.1. nginx's ngx_crc32 is
// CRC-32/IEEE, the same as hash/crc32's IEEE table; chaining
// crc32.Update values equals nginx's ngx_crc32_update over the
// concatenation. All functions run with poolState.mu held.

// maxHashTries is how many unusable picks the hashing methods accept before
// falling back to round robin ("> 20" in nginx).
const maxHashTries = 20

// pseudoAddr is the ip_hash key of clients without an IP address
// (ngx_http_upstream_ip_hash_pseudo_addr).
var pseudoAddr [3]byte

// walk returns the index of the member that weight offset w falls into:
// nginx's "while (w >= peer->weight) { w -= peer->weight; peer++ }".
func walk(l *peerList, w int) int {
	i := 0
	for w >= l.members[i].weight {
		w -= l.members[i].weight
		i++
	}
	return i
}

// getIPHash is ngx_http_upstream_get_ip_hash_peer. The hash continues from
// the previous attempt of the same request (kept in t).
func (p *Pool) getIPHash(t *Tried, ip netip.Addr, now int64) *member {
	l := t.list(p)
	if t.htries > maxHashTries || l.single {
		return p.getRoundRobin(t, now)
	}
	var key []byte
	var a4 [4]byte
	var a16 [16]byte
	switch {
	case ip.IsValid() && ip.Unmap().Is4():
		a4 = ip.Unmap().As4()
		key = a4[:3]
	case ip.IsValid():
		a16 = ip.As16()
		key = a16[:]
	default:
		key = pseudoAddr[:]
	}
	if !t.started {
		t.started = true
		t.hash = 89
	}
	hash := t.hash
	for {
		for _, b := range key {
			hash = (hash*113 + uint64(b)) % 6271
		}
		i := walk(l, int(hash%uint64(l.totalWeight)))
		m := &l.members[i]
		if !t.has(i) && m.usable(now) {
			m.touch(now)
			t.set(i)
			t.hash = hash
			return m
		}
		t.htries++
		if t.htries > maxHashTries {
			return p.getRoundRobin(t, now)
		}
	}
}

// getHash is ngx_http_upstream_get_hash_peer, compatible with
// Cache::Memcached: hash += (crc32([rehash] key) >> 16) & 0x7fff, the
// decimal rehash count prefixed from the second round on. An empty key
// means round robin.
func (p *Pool) getHash(t *Tried, key []byte, now int64) *member {
	l := t.list(p)
	if t.htries > maxHashTries || l.single || len(key) == 0 {
		return p.getRoundRobin(t, now)
	}
	var buf [20]byte
	for {
		var h uint32
		if t.rehash > 0 {
			h = crc32.Update(0, crc32.IEEETable, strconv.AppendInt(buf[:0], int64(t.rehash), 10))
		}
		h = crc32.Update(h, crc32.IEEETable, key)
		h = (h >> 16) & 0x7fff
		t.hash = uint64(uint32(t.hash) + h)
		t.rehash++
		i := walk(l, int(uint32(t.hash)%uint32(l.totalWeight)))
		m := &l.members[i]
		if !t.has(i) && m.usable(now) {
			m.touch(now)
			t.set(i)
			return m
		}
		t.htries++
		if t.htries > maxHashTries {
			return p.getRoundRobin(t, now)
		}
	}
}

// chashPoint is one of the 160 points per weight unit a server puts on
// the ketama ring.
type chashPoint struct {
	hash   uint32
	server int // serverID
}

// buildChashPoints is ngx_http_upstream_init_chash: per peer weight*160
// points, base = crc32(host "\0" port) of the server directive's text (split
// at the last ':' followed only by digits; "unix:" paths have no port),
// point n = crc32(base, previous point as 4 little-endian bytes), the
// first previous point being 0; sorted, duplicates dropped.
func buildChashPoints(ms []member) []chashPoint {
	n := 0
	for i := range ms {
		n += ms[i].weight * 160
	}
	points := make([]chashPoint, 0, n)
	for i := range ms {
		host, port := splitServer(ms[i].info.Server)
		base := crc32.Update(0, crc32.IEEETable, []byte(host))
		base = crc32.Update(base, crc32.IEEETable, []byte{0})
		base = crc32.Update(base, crc32.IEEETable, []byte(port))
		var prev [4]byte
		for range ms[i].weight * 160 {
			h := crc32.Update(base, crc32.IEEETable, prev[:])
			points = append(points, chashPoint{hash: h, server: ms[i].serverID})
			prev = [4]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)}
		}
	}
	// ngx_qsort is not stable; points with equal hashes are dropped but
	// the first survives, so sort stably by hash to keep config order.
	slices.SortStableFunc(points, func(a, b chashPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(points, func(a, b chashPoint) bool { return a.hash == b.hash })
}

// splitServer splits a server address as ngx_http_upstream_init_chash does.
func splitServer(s string) (host, port string) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "unix:") {
		return s[5:], ""
	}
	for j := 0; j < len(s); j++ {
		c := s[len(s)-j-1]
		if c == ':' {
			return s[:len(s)-j-1], s[len(s)-j:]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return s, ""
}

// findChashPoint is ngx_http_upstream_find_chash_point: the index of the
// first point >= hash (len(points) when past the last; callers wrap).
func findChashPoint(points []chashPoint, hash uint32) int {
	i, j := 0, len(points)
	for i < j {
		k := (i + j) / 2
		switch {
		case hash > points[k].hash:
			i = k + 1
		case hash < points[k].hash:
			j = k
		default:
			return k
		}
	}
	return i
}

// getChash is ngx_http_upstream_get_chash_peer: walk the ring from the
// key's point; at each point, the usable untried peers of that point's
// server are chosen among by smooth weighted round robin.
func (p *Pool) getChash(t *Tried, key []byte, now int64) *member {
	l := t.list(p)
	if t.htries > maxHashTries || l.single || len(key) == 0 || len(p.points) == 0 {
		return p.getRoundRobin(t, now)
	}
	if !t.started {
		t.started = true
		t.hash = uint64(findChashPoint(p.points, crc32.ChecksumIEEE(key)))
	}
	for {
		server := p.points[uint32(t.hash)%uint32(len(p.points))].server
		var best *member
		bi, total := 0, 0
		for i := range l.members {
			m := &l.members[i]
			if t.has(i) || !m.usable(now) || m.serverID != server {
				continue
			}
			m.currentWeight += m.effectiveWeight
			total += m.effectiveWeight
			if m.effectiveWeight < m.weight {
				m.effectiveWeight++
			}
			if best == nil || m.currentWeight > best.currentWeight {
				best, bi = m, i
			}
		}
		if best != nil {
			best.currentWeight -= total
			best.touch(now)
			t.set(bi)
			return best
		}
		t.hash = uint64(uint32(t.hash) + 1)
		t.htries++
		if t.htries > maxHashTries {
			return p.getRoundRobin(t, now)
		}
	}
}
