package limit

import (
	"strings"
	"sync"
	"time"
	"unsafe"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Clock returns a monotonic time in milliseconds (nginx's
// ngx_current_msec).
type Clock func() int64

// Registry holds the process's zones from one snapshot to the next.
type Registry struct {
	now Clock
	mu  sync.Mutex
	// tables are the zones' states of the published snapshot, by name.
	tables map[string]*table
}

// NewRegistry returns an empty registry whose zones read time from now;
// nil is the monotonic clock.
func NewRegistry(now Clock) *Registry {
	if now == nil {
		// Started far from 0, as nginx's ngx_current_msec is: a node
		// made with last 0 (a request held across several limit_req)
		// then counts as long idle.
		start := time.Now()
		now = func() int64 { return int64(time.Since(start)/time.Millisecond) + clockBase }
	}
	return &Registry{now: now, tables: map[string]*table{}}
}

// clockBase is where the registry's clock starts, in milliseconds.
const clockBase = 1 << 32

// Zones is the compiled zones of one snapshot, by name.
type Zones struct {
	req  map[string]*ReqZone
	conn map[string]*ConnZone
	reg  *Registry
}

// Build compiles the zones zs for a snapshot: each key with vc, each
// state taken over from the registry where a zone of the same name, use
// and size had one. Nothing in the registry changes until Activate. reg
// may be nil (a check, or a snapshot of its own).
func Build(reg *Registry, zs []*config.LimitZone, vc *vars.Compiler, errs *config.ErrorList) *Zones {
	if reg == nil {
		reg = NewRegistry(nil)
	}
	out := &Zones{req: map[string]*ReqZone{}, conn: map[string]*ConnZone{}, reg: reg}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	for _, z := range zs {
		key, err := vc.Compile(z.Key)
		if err != nil {
			errs.Add(z.Pos, "%s: %v", directive(z), err)
			continue
		}
		t := reg.tables[z.Name]
		if t != nil && (t.conn != z.Conn || t.size != z.Size) {
			t = nil // nginx makes a new zone for a new size
		}
		if t != nil && t.key != z.Key {
			// ngx_http_limit_req_init_zone refuses the reload.
			errs.Add(z.Pos, "%s %q uses the %q key while previously it used the %q key", strings.TrimSuffix(directive(z), "_zone"), z.Name, z.Key, t.key)
			continue
		}
		if t == nil {
			t = newTable(z, reg.now)
		}
		if z.Conn {
			out.conn[z.Name] = &ConnZone{Name: z.Name, key: key, t: t}
		} else {
			out.req[z.Name] = &ReqZone{Name: z.Name, rate: z.Rate, key: key, t: t}
		}
	}
	return out
}

// Activate makes zs's states the ones the next snapshot takes over;
// states no zone of zs uses are dropped (what still refers to them, a
// tunnel's count, keeps working on them).
func (zs *Zones) Activate() {
	reg := zs.reg
	reg.mu.Lock()
	defer reg.mu.Unlock()
	clear(reg.tables)
	for n, z := range zs.req {
		reg.tables[n] = z.t
	}
	for n, z := range zs.conn {
		reg.tables[n] = z.t
	}
}

// directive is the directive that defines z.
func directive(z *config.LimitZone) string {
	if z.Conn {
		return "limit_conn_zone"
	}
	return "limit_req_zone"
}

// table is one zone's state: its keys' nodes, the least recently used
// last, and the room the zone's size leaves.
type table struct {
	conn bool
	size int64
	key  string // the key as written, which a reload must keep
	now  Clock

	mu    sync.Mutex
	nodes map[string]*node
	lru   node // sentinel: lru.next is the most recently used
	// room is the bytes of the zone's pages still free; each node takes
	// its slab chunk (chunk).
	room int64
	// free keeps a few nodes that left the table for the next keys, so
	// that limit_conn, whose key leaves when its last request ends, does
	// not allocate per request.
	free []*node
}

// maxFree bounds a table's free nodes.
const maxFree = 64

// node is one key's state: limit_req's excess and last time, or
// limit_conn's count.
type node struct {
	// key views kb, which holds the key's bytes while the node is in
	// the table (a node freed and used again rewrites kb only then).
	key        string
	kb         []byte
	prev, next *node
	chunk      int64
	// limit_req: excess in thousandths of a request at last (ms);
	// count holds the node against expiry while a request uses it.
	excess, last int64
	count        int
	// limit_conn: the requests in progress.
	conns int
}

// pageSize is nginx's page and the unit of its slab allocator.
const pageSize = 4096

func newTable(z *config.LimitZone, now Clock) *table {
	t := &table{conn: z.Conn, size: z.Size, key: z.Key, now: now, nodes: map[string]*node{}}
	t.lru.next, t.lru.prev = &t.lru, &t.lru
	// ngx_slab_init: the pool's header and per-page descriptors come out
	// of the zone; the zone's own header takes one chunk.
	pages := (z.Size - 1024) / (pageSize + 24)
	t.room = pages*pageSize - 128
	return t
}

// chunk is the slab chunk ngx_slab_alloc gives n bytes: the power of two
// that holds them (at least 8), whole pages above half a page.
func chunk(n int64) int64 {
	if n > pageSize/2 {
		return (n + pageSize - 1) / pageSize * pageSize
	}
	c := int64(8)
	for c < n {
		c <<= 1
	}
	return c
}

// Node sizes: the red-black tree node up to its color field (32 bytes)
// plus the module's node up to its data (limit_req 48, limit_conn 4),
// then the key.
const (
	reqNodeBase  = 32 + 48
	connNodeBase = 32 + 4
)

func (t *table) touch(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	t.pushFront(n)
}

func (t *table) pushFront(n *node) {
	n.next, n.prev = t.lru.next, &t.lru
	t.lru.next.prev = n
	t.lru.next = n
}

func (t *table) remove(n *node) {
	if n.prev != nil {
		n.prev.next, n.next.prev = n.next, n.prev
		n.prev, n.next = nil, nil
	}
	delete(t.nodes, n.key)
	t.room += n.chunk
	if len(t.free) < maxFree && cap(n.kb) <= 256 {
		*n = node{kb: n.kb[:0]}
		t.free = append(t.free, n)
	}
}

// insert adds a node for key, taking its room, first in the LRU list
// when lru is set; nil when the zone has no room left.
func (t *table) insert(key []byte, base int64, lru bool) *node {
	c := chunk(base + int64(len(key)))
	if c > t.room {
		return nil
	}
	var n *node
	if k := len(t.free); k > 0 {
		n, t.free = t.free[k-1], t.free[:k-1]
	} else {
		n = new(node)
	}
	n.kb = append(n.kb[:0], key...)
	n.key, n.chunk = unsafe.String(unsafe.SliceData(n.kb), len(n.kb)), c
	t.room -= c
	t.nodes[n.key] = n
	if lru {
		t.pushFront(n)
	}
	return n
}
