package files

import (
	"sync"
	"time"
)

// Cache keeps the contents of small regular files between requests, so
// that a hit costs one statx(2) where nginx, without open_file_cache,
// makes four system calls (open, fstat, read, close). It changes nothing
// that a request sees: every request still looks the path up, and an
// entry is used only when the file there is the same file, unchanged
// (device, inode, mode, size, and mtime and ctime to the nanosecond);
// otherwise the file is opened and read as without the cache. A file
// whose ctime is within racyWindow of the clock is never kept, as git
// treats "racily clean" entries: the kernel's coarse timestamps could
// otherwise hide a write made in the same tick as the read. It is not
// nginx's open_file_cache, which keeps descriptors and answers from
// them without looking at the path for open_file_cache_valid.
//
// A Cache is safe for concurrent use and outlives snapshots (a reload
// keeps it); its size is bounded by cacheMaxBytes and cacheMaxEntries.
type Cache struct {
	mu    sync.RWMutex
	m     map[string]*cachedFile
	bytes int64
}

type cachedFile struct {
	id   fileID
	data []byte
}

// fileID is what statx(2) says of a file that makes two looks at a path
// the same file with the same contents.
type fileID struct {
	dev, ino         uint64
	size             int64
	mtimeNs, ctimeNs int64
	mode             uint32
}

const (
	// cacheMaxFile is the largest file kept; larger ones are read or
	// sent with sendfile(2) at each request.
	cacheMaxFile = 64 << 10
	// cacheMaxBytes and cacheMaxEntries bound the cache.
	cacheMaxBytes   = 32 << 20
	cacheMaxEntries = 4096
	// racyWindow: a file changed this recently is not kept.
	racyWindow = 2 * time.Second
)

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: map[string]*cachedFile{}} }

// get returns the contents kept for the path name when they are those of
// the file id.
func (c *Cache) get(name []byte, id fileID) ([]byte, bool) {
	c.mu.RLock()
	e := c.m[string(name)]
	c.mu.RUnlock()
	if e == nil || e.id != id {
		return nil, false
	}
	return e.data, true
}

// cacheable reports whether a file with id may be kept now.
func cacheable(id fileID, now time.Time) bool {
	return id.size <= cacheMaxFile && now.UnixNano()-id.ctimeNs > int64(racyWindow)
}

// put keeps data, the contents of the file id at the path name, making
// room by dropping other entries.
func (c *Cache) put(name []byte, id fileID, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[string(name)]; old != nil {
		c.bytes -= int64(len(old.data))
		delete(c.m, string(name))
	}
	for k, e := range c.m {
		if len(c.m) < cacheMaxEntries && c.bytes+int64(len(data)) <= cacheMaxBytes {
			break
		}
		c.bytes -= int64(len(e.data))
		delete(c.m, k)
	}
	c.m[string(name)] = &cachedFile{id: id, data: data}
	c.bytes += int64(len(data))
}
