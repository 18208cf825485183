package cache

import "wsgate/internal/files"

// This file keeps small entries in memory between hits: a hit on an
// entry whose file has at most 64 KiB costs one statx(2) of its path and
// no parsing, where opening the file costs open, two reads and close
// (nginx, without open_file_cache, opens, fstats, reads the header with
// the body's start in one read, and closes). The copy is files.Cache's:
// it is used only while the file at the path is the same file,
// unchanged (inode, size, mtime and ctime to the nanosecond), so a
// stored, refreshed (rewritten in place), replaced or removed entry is
// seen as it would be by opening it. The memory is bounded by
// files.Cache's limits, shared by all zones.
var small = files.NewCache()

// smallEntry is what a kept file's contents parse to.
type smallEntry struct {
	meta Meta
	off  int64
}

// parseEntry parses a whole entry file; nil when it is not one whose
// body ends the file (such a file is opened as a large one would be).
func parseEntry(data []byte) any {
	if len(data) < fixedLen {
		return nil
	}
	hl, err := headerLen(data)
	if err != nil || hl > int64(len(data)) {
		return nil
	}
	se := &smallEntry{off: hl}
	if se.meta.decode(data[:hl]) != nil || hl+se.meta.BodyLen != int64(len(data)) {
		return nil
	}
	return se
}

// openSmall opens k's entry from memory when its file is small. done is
// false when the caller must open the file; otherwise e or err (the
// file is missing) is the answer.
func (z *Zone) openSmall(k Key) (e *Entry, done bool, err error) {
	var buf [256]byte
	p := append(appendPath(buf[:0], z.cfg.Path, z.cfg.Levels, k), 0)
	data, parsed, ok, err := small.ReadSmall(p, parseEntry)
	if err != nil {
		return nil, true, err
	}
	se, _ := parsed.(*smallEntry)
	if !ok || se == nil {
		return nil, false, nil
	}
	// The Meta is copied: Refresh changes the entry's.
	e = &Entry{BodyOff: se.off, Body: data[se.off:], key: k, meta: se.meta}
	e.Meta = &e.meta
	return e, true, nil
}
