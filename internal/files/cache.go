package files

import (
	"strings"
	"sync"
	"sync/atomic"
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
	id     fileID
	data   []byte
	parsed any // ReadSmall's parse of data
	// etag and lastMod are the file's ETag value and Last-Modified date
	// (ngx_http_set_etag, ngx_http_time), formatted once when a location's
	// file is kept; nil for ReadSmall's files.
	etag, lastMod []byte
	// lines is the head lines of the location that served the file
	// last, composed once for the requests that follow (keptLines).
	lines atomic.Pointer[keptLines]
}

// keptLines are the lines of a kept file's head that depend only on the
// file, the location's configuration (h) and the URI it is served for:
// its Content-Type (ngx_http_set_content_type) and ETag lines, composed
// and checked once. They go with the entry, so a changed file, a new
// entry, gets new ones; a reload's new Handler, or another location
// serving the same file, composes its own in their place.
type keptLines struct {
	h      *Handler
	uri    string
	ctype  string
	ctLine []byte // "Content-Type: ...\r\n", nil when the type could split the head
	etag   []byte // "ETag: ...\r\n"
}

// headLines returns the entry's lines for a request to uri served by h,
// composing them when the kept ones are another's.
func (e *cachedFile) headLines(h *Handler, uri string) *keptLines {
	if k := e.lines.Load(); k != nil && k.h == h && k.uri == uri {
		return k
	}
	k := &keptLines{h: h, uri: strings.Clone(uri), ctype: h.contentType(uri)}
	if safeValue(k.ctype) {
		k.ctLine = append(append(append([]byte(nil), "Content-Type: "...), k.ctype...), "\r\n"...)
	}
	k.etag = append(append(append([]byte(nil), "ETag: "...), e.etag...), "\r\n"...)
	e.lines.Store(k)
	return k
}

// safeValue reports whether v may go in a head line as it is: no CR, LF
// or NUL, which the writers drop a line for.
func safeValue(v string) bool { return !strings.ContainsAny(v, "\r\n\x00") }

// fileID is what statx(2) says of a file that makes two looks at a path
// the same file with the same contents.
type fileID struct {
	dev, ino         uint64
	size             int64
	mtimeNs, ctimeNs int64
	mode             uint32
}

// mtimeSec is the file's modification time in whole seconds, as
// fstat's st_mtim.tv_sec (rounded down, also before 1970).
func (id fileID) mtimeSec() int64 {
	sec := id.mtimeNs / 1e9
	if id.mtimeNs%1e9 < 0 {
		sec--
	}
	return sec
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

// entry returns what is kept for the path name when it is the file id,
// nil otherwise. The entry is shared and never changes.
func (c *Cache) entry(name []byte, id fileID) *cachedFile {
	c.mu.RLock()
	e := c.m[string(name)]
	c.mu.RUnlock()
	if e == nil || e.id != id {
		return nil
	}
	return e
}

// ReadSmall is the Cache for files other than a location's root (the
// files of proxy_cache): the contents of the regular file at name, a path
// followed by a NUL byte, when it has at most cacheMaxFile bytes, with
// parse's result for them. They come from c when the file there is the
// one kept, unchanged (one statx(2)); else the file is read, parsed and,
// unless parse returns nil or the file changed within racyWindow, kept.
// The contents and the parse are shared: callers must not modify them.
// ok is false when the caller must open the file itself (larger, not a
// regular file, changed while read, or no statx(2) on this platform);
// err is the error when the file is missing or cannot be opened.
func (c *Cache) ReadSmall(name []byte, parse func(data []byte) any) (data []byte, parsed any, ok bool, err error) {
	id, fill, missing := statPath(name)
	if missing != nil {
		return nil, nil, false, missing
	}
	if !fill || id.size > cacheMaxFile {
		return nil, nil, false, nil
	}
	if e := c.entry(name, id); e != nil && e.parsed != nil {
		return e.data, e.parsed, true, nil
	}
	fh, err := openPath(name, false)
	if err != nil {
		return nil, nil, false, err
	}
	defer fh.close()
	if fh.id != id {
		return nil, nil, false, nil
	}
	data = make([]byte, fh.size)
	if err := fh.readAt(data, 0); err != nil {
		return nil, nil, false, nil
	}
	parsed = parse(data)
	if parsed != nil && cacheable(id, now()) {
		c.putParsed(name, id, data, parsed)
	}
	return data, parsed, true, nil
}

// cacheable reports whether a file with id may be kept now.
func cacheable(id fileID, now time.Time) bool {
	return id.size <= cacheMaxFile && now.UnixNano()-id.ctimeNs > int64(racyWindow)
}

// put keeps data, the contents of the file id at the path name, making
// room by dropping other entries. Its ETag and Last-Modified values are
// formatted now, once for every request that the entry answers.
func (c *Cache) put(name []byte, id fileID, data []byte) {
	sec := id.mtimeSec()
	etag := appendETag(nil, sec, id.size)
	lm := appendHTTPTime(nil, time.Unix(sec, 0))
	// Full slices: an append to a shared value must copy it.
	c.putEntry(name, &cachedFile{id: id, data: data, etag: etag[:len(etag):len(etag)], lastMod: lm[:len(lm):len(lm)]})
}

func (c *Cache) putParsed(name []byte, id fileID, data []byte, parsed any) {
	c.putEntry(name, &cachedFile{id: id, data: data, parsed: parsed})
}

func (c *Cache) putEntry(name []byte, e *cachedFile) {
	data := e.data
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
	c.m[string(name)] = e
	c.bytes += int64(len(data))
}
