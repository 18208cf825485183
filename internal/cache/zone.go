package cache

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Config is one proxy_cache_path.
type Config struct {
	// Name is keys_zone's name; Path the cache directory (absolute).
	Name, Path string
	// Levels are levels= digits per directory level (at most three
	// levels of 1 or 2); none puts every file in Path.
	Levels []int
	// KeysSize is keys_zone's size in bytes: it bounds the index to
	// KeysSize/128 keys (nginx: "one megabyte zone can store about 8
	// thousand keys").
	KeysSize int64
	// MaxSize bounds the bytes on disk (0: unbounded), MinFree the free
	// space the cache leaves on its file system (0: none).
	MaxSize, MinFree int64
	// Inactive is how long an entry not asked for stays (default 10m).
	Inactive time.Duration
	// UseTempPath is use_temp_path; temporary files are written beside
	// the entries either way (see the package doc).
	UseTempPath bool
}

// nodeBytes is the room one key takes in keys_zone (the slab chunk of
// nginx's ngx_http_file_cache_node_t).
const nodeBytes = 128

// blockSize rounds file sizes as a file system's blocks do (nginx
// counts max_size in blocks of the file system: ngx_file_fs_size).
const blockSize = 4096

// Zone is one cache: its directory and its index.
type Zone struct {
	cfg     Config
	log     *slog.Logger
	maxKeys int

	mu    sync.Mutex
	nodes map[Key]*node
	// head is the most recently used node, tail the least.
	head, tail *node
	size       int64 // bytes on disk of the entries in the index
	seq        uint64

	kick    chan struct{}
	stop    chan struct{}
	stopped sync.WaitGroup
	started bool
	loaded  chan struct{}
}

// node is one key in the index.
type node struct {
	key        Key
	prev, next *node
	// uses counts the requests for the key (proxy_cache_min_uses);
	// exists says a file is on disk; size is its size in blocks' bytes.
	uses   int
	exists bool
	size   int64
	// access is the last time the key was asked for (inactive).
	access time.Time
	// updating is set while one request fetches the key; done is closed
	// when it stops. lockUntil is when a proxy_cache_lock holder's lock
	// lapses (proxy_cache_lock_age).
	updating  bool
	done      chan struct{}
	lockUntil time.Time
	// errStatus is an error that proxy_intercept_errors answered, the
	// key's answer until errValid (a unix second), kept here and not on
	// disk (ngx_http_file_cache_node_t's error and valid_sec).
	errStatus int
	errValid  int64
}

// New returns the zone cfg describes, not yet started: nothing on disk
// is touched until Start (a configuration test builds zones it never
// starts).
func New(cfg Config, log *slog.Logger) *Zone {
	if cfg.Inactive <= 0 {
		cfg.Inactive = 10 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := int(cfg.KeysSize / nodeBytes)
	if n < 1 {
		n = 1
	}
	return &Zone{cfg: cfg, log: log, maxKeys: n, nodes: make(map[Key]*node),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), loaded: make(chan struct{})}
}

// Config returns the zone's configuration.
func (z *Zone) Config() Config { return z.cfg }

// Start creates the directory and starts the loader and the manager.
func (z *Zone) Start() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.started {
		return nil
	}
	if err := os.MkdirAll(z.cfg.Path, 0o700); err != nil {
		return err
	}
	if z.cfg.MinFree > 0 && !canStatfs {
		return errors.New("min_free needs statfs(2), which this system lacks")
	}
	z.started = true
	z.stopped.Add(2)
	go z.load()
	go z.manage()
	return nil
}

// Stop ends the loader and the manager; the files stay.
func (z *Zone) Stop() {
	z.mu.Lock()
	started := z.started
	z.started = false
	z.mu.Unlock()
	if started {
		close(z.stop)
		z.stopped.Wait()
	}
}

// Loaded is closed when the loader has walked the directory.
func (z *Zone) Loaded() <-chan struct{} { return z.loaded }

// Size returns the bytes on disk of the indexed entries and their count.
func (z *Zone) Size() (bytes int64, keys int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.size, len(z.nodes)
}

// touch makes n the most recently used node. z.mu is held.
func (z *Zone) touch(n *node) {
	if z.head == n {
		return
	}
	z.unlink(n)
	n.next = z.head
	if z.head != nil {
		z.head.prev = n
	}
	z.head = n
	if z.tail == nil {
		z.tail = n
	}
}

// unlink takes n out of the LRU list. z.mu is held.
func (z *Zone) unlink(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else if z.head == n {
		z.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else if z.tail == n {
		z.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

// node returns k's node, making one (and room for it) when there is
// none. z.mu is held.
func (z *Zone) node(k Key, now time.Time) *node {
	if n := z.nodes[k]; n != nil {
		return n
	}
	for len(z.nodes) >= z.maxKeys {
		// keys_zone is full: the least recently used entries not being
		// fetched go (ngx_http_file_cache_forced_expire).
		victim := z.tail
		for victim != nil && victim.updating {
			victim = victim.prev
		}
		if victim == nil {
			break
		}
		z.log.Warn("could not allocate node in cache keys zone; dropping the least recently used", "zone", z.cfg.Name)
		z.drop(victim)
	}
	n := &node{key: k, access: now}
	z.nodes[k] = n
	z.touch(n)
	return n
}

// drop removes n from the index and its file from the disk. z.mu is
// held.
func (z *Zone) drop(n *node) {
	z.unlink(n)
	delete(z.nodes, n.key)
	if n.exists {
		z.size -= n.size
		n.exists = false
		if err := os.Remove(z.path(n.key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			z.log.Error("removing cache file", "zone", z.cfg.Name, "err", err)
		}
	}
}

func (z *Zone) path(k Key) string { return path(z.cfg.Path, z.cfg.Levels, k) }

// blocks rounds a file size to whole blocks.
func blocks(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }
