package cache

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// This file writes entries: a temporary file beside the entry, renamed
// into place once the whole body is in it (ngx_http_file_cache_update).

// Writer stores one response. Write never fails the caller: a write
// error is remembered and the entry is not committed.
type Writer struct {
	fill *Fill
	key  Key // where the entry goes: f's key, or its main key (Fill.Writer)
	f    *os.File
	tmp  string
	meta *Meta
	hdr  int64
	n    int64
	err  error
}

// Writer starts storing a response described by m (its BodyLen is set
// at Commit) under f's key. A response to a request that looked up a
// variant's key (the main entry varies) goes to the main key instead
// when it has no Vary, or a Vary that puts it under another variant
// (ngx_http_file_cache_update_variant): it then replaces the main entry,
// whose Vary every later request is looked up by.
func (f *Fill) Writer(m *Meta) (*Writer, error) {
	z := f.z
	k := f.key
	if k != f.main && (len(m.Vary) == 0 || variantKey(f.main, m.Variant) != k) {
		k = f.main
	}
	dst := z.path(k)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return nil, err
	}
	z.mu.Lock()
	z.seq++
	seq := z.seq
	z.mu.Unlock()
	// nginx's temporary files with use_temp_path=off are named by a
	// counter beside the entries; the loader skips names with a dot.
	tmp := dst + "." + strconv.FormatUint(seq, 10) + "." + strconv.Itoa(os.Getpid())
	file, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	h := m.encode()
	if _, err := file.Write(h); err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &Writer{fill: f, key: k, f: file, tmp: tmp, meta: m, hdr: int64(len(h))}, nil
}

// Write appends p to the body.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err == nil {
		_, w.err = w.f.Write(p)
		w.n += int64(len(p))
	}
	return len(p), nil
}

// Commit puts the entry in place when its body is whole: want is the
// length the upstream declared (-1: none). It reports whether the entry
// was stored.
func (w *Writer) Commit(want int64) bool {
	if w.err != nil || (want >= 0 && w.n != want) {
		w.Abort()
		return false
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(w.n))
	if _, err := w.f.WriteAt(b[:], 16+8*5); err != nil {
		w.Abort()
		return false
	}
	w.f.Close()
	z, k := w.fill.z, w.key
	if err := os.Rename(w.tmp, z.path(k)); err != nil {
		z.log.Error("renaming cache file", "zone", z.cfg.Name, "err", err)
		os.Remove(w.tmp)
		return false
	}
	size := blocks(w.hdr + w.n)
	z.mu.Lock()
	n := z.node(k, time.Now())
	if n.exists {
		z.size -= n.size
	}
	n.exists, n.size = true, size
	n.errStatus, n.errValid = 0, 0
	z.size += size
	over := z.cfg.MaxSize > 0 && z.size > z.cfg.MaxSize
	z.mu.Unlock()
	if over {
		select {
		case z.kick <- struct{}{}:
		default:
		}
	}
	return true
}

// Abort drops what was written.
func (w *Writer) Abort() {
	if w.f != nil {
		w.f.Close()
		os.Remove(w.tmp)
		w.f = nil
	}
}

// Refresh makes the entry e fresh again after the upstream answered a
// revalidation with 304 (ngx_http_file_cache_update_header): its
// validity and date are rewritten in place.
func (z *Zone) Refresh(e *Entry, valid, updating, errSec, date int64) error {
	f, err := os.OpenFile(z.path(e.key), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var b [32]byte
	for i, v := range []int64{valid, updating, errSec, date} {
		binary.BigEndian.PutUint64(b[8*i:], uint64(v))
	}
	if _, err := f.WriteAt(b[:], 16); err != nil {
		return err
	}
	e.Meta.Valid, e.Meta.Updating, e.Meta.Error, e.Meta.Date = valid, updating, errSec, date
	return nil
}
