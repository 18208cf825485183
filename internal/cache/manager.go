package cache

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// This file is nginx's cache loader and cache manager processes, as two
// goroutines of each started zone.

// managerPeriod is how often the manager looks at the zone when nothing
// asks it to (nginx's manager sleeps between 50 ms and 10 s).
const managerPeriod = time.Second

// manage removes entries not used for inactive, and the least recently
// used ones while the cache is above max_size or leaves less than
// min_free on its file system (ngx_http_file_cache_manager).
func (z *Zone) manage() {
	defer z.stopped.Done()
	t := time.NewTicker(managerPeriod)
	defer t.Stop()
	for {
		select {
		case <-z.stop:
			return
		case <-t.C:
		case <-z.kick:
		}
		z.expire(time.Now())
	}
}

// expire is one pass of the manager.
func (z *Zone) expire(now time.Time) {
	free := int64(-1)
	if z.cfg.MinFree > 0 {
		free = freeSpace(z.cfg.Path)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	for n := z.tail; n != nil; {
		prev := n.prev
		switch {
		case n.updating:
		case now.Sub(n.access) >= z.cfg.Inactive:
			z.drop(n)
		case z.cfg.MaxSize > 0 && z.size > z.cfg.MaxSize:
			z.drop(n)
		case free >= 0 && free < z.cfg.MinFree && n.exists:
			free += n.size
			z.drop(n)
		default:
			// The rest were used more recently: nothing older is left to
			// go unless the zone is over a bound.
			return
		}
		n = prev
	}
}

// load walks the zone's directory and adds every entry to the index
// (ngx_http_file_cache_loader): one that a request already found stays
// as it is. Files that are not entries are removed: unreadable ones
// (another format, a truncated write) and temporary files older than
// an hour, which a stopped process left.
func (z *Zone) load() {
	defer z.stopped.Done()
	defer close(z.loaded)
	now := time.Now()
	filepath.WalkDir(z.cfg.Path, func(p string, d fs.DirEntry, err error) error {
		select {
		case <-z.stop:
			return filepath.SkipAll
		default:
		}
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		if strings.Contains(name, ".") {
			if info, err := d.Info(); err == nil && now.Sub(info.ModTime()) > time.Hour {
				os.Remove(p)
			}
			return nil
		}
		var k Key
		if len(name) != 32 || !decodeHex(k[:], name) || p != z.path(k) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		m, off, err := readMeta(f)
		f.Close()
		if err != nil {
			z.log.Warn("removing unreadable cache file", "zone", z.cfg.Name, "file", p)
			os.Remove(p)
			return nil
		}
		z.mu.Lock()
		if z.nodes[k] == nil {
			n := z.node(k, now)
			n.exists, n.size, n.uses = true, blocks(off+m.BodyLen), 1
			z.size += n.size
		}
		z.mu.Unlock()
		return nil
	})
	select {
	case z.kick <- struct{}{}:
	default:
	}
}

func decodeHex(dst []byte, s string) bool {
	for i := 0; i < len(dst); i++ {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
