package accesslog

import (
	"container/list"
	"os"
	"sync"
	"time"

	"wsgate/internal/config"
)

// This file is open_log_file_cache: ngx_open_file_cache's rules for the
// descriptors of access logs whose names hold variables
// (ngx_open_cached_file with of.log set, errors not cached).

// fdCache is one open_log_file_cache directive's cache.
type fdCache struct {
	conf    config.OpenLogFileCache
	mu      sync.Mutex
	entries map[string]*cachedFD
	lru     list.List // of *cachedFD, most recently accessed first
}

// cachedFD is one file name of a cache. f is nil while the name has been
// used fewer than min_uses times: its descriptor is closed after each line.
type cachedFD struct {
	name     string
	f        *os.File
	fi       os.FileInfo // of f, to see that the name now points elsewhere
	uses     int
	count    int // lines being written through f
	created  time.Time
	accessed time.Time
	close    bool // out of the cache: close f when count drops to 0
	elem     *list.Element
}

func newFDCache(conf config.OpenLogFileCache) *fdCache {
	return &fdCache{conf: conf, entries: map[string]*cachedFD{}}
}

// openStat opens the log name for appending, creating it, as
// ngx_open_and_stat_file does for a log.
func openStat(name string) (*os.File, os.FileInfo, error) {
	f, err := OpenLog(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// acquire returns the entry of name with an open descriptor, to be given
// back with release after the write. A failed open drops the entry.
func (c *fdCache) acquire(name string) (*cachedFD, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	e := c.entries[name]
	if e != nil {
		e.uses++
		c.lru.Remove(e.elem)
		switch {
		case e.f == nil:
			// Not used often enough to be kept open: open it again.
			f, fi, err := openStat(name)
			if err != nil {
				c.drop(e)
				return nil, err
			}
			e.f, e.fi, e.created = f, fi, now
		case now.Sub(e.created) < c.conf.Valid:
			// Trusted without a look at the name.
		default:
			// valid= has passed: the name is checked again; the same
			// file keeps its descriptor.
			fi, err := os.Stat(name)
			if err != nil {
				c.drop(e)
				return nil, err
			}
			if !os.SameFile(fi, e.fi) {
				f, nfi, err := openStat(name)
				if err != nil {
					c.drop(e)
					return nil, err
				}
				if e.count == 0 {
					e.f.Close()
					e.f, e.fi = f, nfi
				} else {
					// Lines are being written through the old
					// descriptor: it leaves the cache and closes
					// after them; the name gets a new entry.
					c.drop(e)
					e = c.create(name, f, nfi, now)
				}
			}
			e.created = now
		}
	} else {
		f, fi, err := openStat(name)
		if err != nil {
			return nil, err
		}
		e = c.create(name, f, fi, now)
	}
	e.count++
	e.accessed = now
	e.elem = c.lru.PushFront(e)
	return e, nil
}

// create adds an entry for name, first dropping the least recently used
// one when the cache is full (ngx_expire_old_cached_files with n 0).
func (c *fdCache) create(name string, f *os.File, fi os.FileInfo, now time.Time) *cachedFD {
	if len(c.entries) >= c.conf.Max {
		c.expire(0, now)
	}
	e := &cachedFD{name: name, f: f, fi: fi, uses: 1, created: now}
	c.entries[name] = e
	return e
}

// drop takes e out of the cache; its descriptor is closed now, or after
// the lines being written through it.
func (c *fdCache) drop(e *cachedFD) {
	if c.entries[e.name] == e {
		delete(c.entries, e.name)
	}
	e.close = true
	if e.elem != nil {
		c.lru.Remove(e.elem)
		e.elem = nil
	}
	if e.count == 0 && e.f != nil {
		e.f.Close()
		e.f = nil
	}
}

// release gives e back after a write (ngx_open_file_cleanup): a name used
// fewer than min_uses times has its descriptor closed, and one or two
// entries unused for inactive= leave the cache.
func (c *fdCache) release(e *cachedFD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	e.count--
	switch {
	case e.close:
		if e.count == 0 && e.f != nil {
			e.f.Close()
			e.f = nil
		}
	default:
		e.accessed = now
		c.lru.MoveToFront(e.elem)
		if e.count == 0 && e.uses < c.conf.MinUses {
			e.f.Close()
			e.f = nil
		}
	}
	c.expire(1, now)
}

// expire is ngx_expire_old_cached_files: from the least recently used
// end, with n 0 the first entry goes whatever its age, then up to two
// more (one or two with n 1) that have been unused for longer than
// inactive=.
func (c *fdCache) expire(n int, now time.Time) {
	for ; n < 3; n++ {
		back := c.lru.Back()
		if back == nil {
			return
		}
		e := back.Value.(*cachedFD)
		if n != 0 && now.Sub(e.accessed) <= c.conf.Inactive {
			return
		}
		c.drop(e)
	}
}

// closeAll closes every descriptor not being written through.
func (c *fdCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		c.drop(e)
	}
}
