package cache

import (
	"crypto/md5"
	"os"
	"time"
)

// This file is ngx_http_file_cache_open: what a request finds for its
// key, and the right to fill it.

// Status is $upstream_cache_status.
type Status uint8

const (
	// None: the request did not use a cache (the variable is not found).
	None Status = iota
	Miss
	Bypass
	Expired
	Stale
	Updating
	Revalidated
	Hit
)

var statusText = [...]string{"", "MISS", "BYPASS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED", "HIT"}

func (s Status) String() string { return statusText[s] }

// Entry is an open entry: its file, header and where its body starts,
// or, for a small entry, its body in memory (Body; File is nil).
type Entry struct {
	File    *os.File
	Meta    *Meta
	BodyOff int64
	// Body is the body of an entry kept in memory (see small.go); it is
	// shared and must not be modified.
	Body []byte
	key  Key
	meta Meta // Meta's storage for a small entry
}

// Close closes the entry's file.
func (e *Entry) Close() {
	if e != nil && e.File != nil {
		e.File.Close()
		e.File = nil
	}
}

// Options are the location's settings a lookup follows.
type Options struct {
	// MinUses is proxy_cache_min_uses (at least 1).
	MinUses int
	// Lock is proxy_cache_lock, with its _timeout and _age.
	Lock                 bool
	LockTimeout, LockAge time.Duration
	// Header returns the request's value of a header a Vary names
	// (nil when it has none).
	Header func(name []byte) []byte
}

// Lookup is what a request found.
type Lookup struct {
	// Status is Hit (serve Entry), Updating (serve Entry stale: another
	// request is fetching the key; only when the caller allows it, see
	// StaleUpdating), Expired (Entry is the stale one, kept for
	// proxy_cache_use_stale and proxy_cache_revalidate) or Miss.
	Status Status
	Entry  *Entry
	// ErrorStatus, for a Hit without an Entry, is the status of an
	// intercepted error the key answers with (Fill.StoreError).
	ErrorStatus int
	// StaleUpdating is set for Updating when the entry's own
	// stale-while-revalidate still covers now.
	StaleUpdating bool
	// Fill, when set, lets the request store its response (Fill.Writer)
	// and must be released (Fill.Release) when the request ends.
	// Cacheable is false when the request must not store it:
	// proxy_cache_min_uses not reached, or a lock waited out.
	Fill      *Fill
	Cacheable bool
}

// Fill is one request's claim on a key: it stores the response there
// and releases the key's updating mark when it ends.
type Fill struct {
	z        *Zone
	key      Key
	main     Key
	variant  [16]byte
	updating bool // this request set the node's updating mark
}

// Lookup finds key (proxy_cache_key's value) in z, as of now.
func (z *Zone) Lookup(key []byte, o *Options, now time.Time) Lookup {
	main := KeyOf(key)
	k := main
	deadline := now.Add(o.LockTimeout)
	secondary, first := false, true
	for {
		l, retry := z.lookupOnce(k, main, key, o, now, secondary, first)
		first = false
		switch retry {
		case retryVariant:
			// The main entry varies by request headers this request has
			// other values of: its own variant lives elsewhere
			// (ngx_http_file_cache_reopen).
			k, secondary = variantKey(main, l.Fill.variant), true
			l.Fill = nil
			continue
		case retryWait:
			// proxy_cache_lock: another request is filling the key;
			// wait for it, up to proxy_cache_lock_timeout, then go
			// upstream without caching.
			if !z.wait(k, deadline) {
				return Lookup{Status: Miss}
			}
			now = time.Now()
			continue
		}
		return l
	}
}

type retry uint8

const (
	retryNone retry = iota
	retryVariant
	retryWait
)

func (z *Zone) lookupOnce(k, main Key, key []byte, o *Options, now time.Time, secondary, count bool) (Lookup, retry) {
	z.mu.Lock()
	n := z.node(k, now)
	if count || secondary {
		n.uses++
	}
	n.access = now
	z.touch(n)
	if n.errStatus != 0 {
		// A kept error answers until it expires, then the key is
		// looked up anew (ngx_http_file_cache_exists).
		if n.errValid >= now.Unix() {
			st := n.errStatus
			z.mu.Unlock()
			return Lookup{Status: Hit, ErrorStatus: st}, retryNone
		}
		n.errStatus, n.errValid = 0, 0
	}
	minUses := o.MinUses
	if minUses < 1 {
		minUses = 1
	}
	if !n.exists && n.uses < minUses {
		// Not asked for often enough yet (NGX_HTTP_CACHE_SCARCE).
		z.mu.Unlock()
		return Lookup{Status: Miss}, retryNone
	}
	z.mu.Unlock()

	e, err := z.open(k)
	if err == nil && !secondary && string(e.Meta.Key) != string(key) {
		z.log.Error("cache file has md5 collision", "zone", z.cfg.Name, "key", string(key))
		e.Close()
		return Lookup{Status: Miss}, retryNone
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if n2 := z.nodes[k]; n2 != n {
		// Dropped meanwhile: take its place again.
		n = z.node(k, now)
	}
	if err != nil {
		if n.exists {
			z.size -= n.size
			n.exists = false
		}
		f := &Fill{z: z, key: k, main: main}
		if o.Lock {
			if n.updating && now.Before(n.lockUntil) {
				return Lookup{}, retryWait
			}
			z.mark(n, now.Add(o.LockAge))
			f.updating = true
		}
		return Lookup{Status: Miss, Fill: f, Cacheable: true}, retryNone
	}
	if !n.exists {
		n.exists, n.size = true, blocks(e.BodyOff+e.Meta.BodyLen)
		z.size += n.size
	}
	f := &Fill{z: z, key: k, main: main}
	if len(e.Meta.Vary) > 0 {
		f.variant = Variant(e.Meta.Vary, o.Header)
		if !secondary && f.variant != e.Meta.Variant {
			e.Close()
			return Lookup{Fill: f}, retryVariant
		}
	}
	if e.Meta.Valid >= now.Unix() {
		return Lookup{Status: Hit, Entry: e}, retryNone
	}
	if n.updating {
		// Another request fetches the key.
		return Lookup{Status: Updating, Entry: e, Fill: &Fill{z: z, key: k, main: main, variant: f.variant},
			StaleUpdating: e.Meta.Valid+e.Meta.Updating >= now.Unix(), Cacheable: true}, retryNone
	}
	z.mark(n, time.Time{})
	f.updating = true
	return Lookup{Status: Expired, Entry: e, Fill: f, Cacheable: true}, retryNone
}

// mark sets n's updating mark; until is when a lock lapses (zero: it
// lasts until released). z.mu is held.
func (z *Zone) mark(n *node, until time.Time) {
	if n.updating && n.done != nil {
		close(n.done)
	}
	n.updating, n.done, n.lockUntil = true, make(chan struct{}), until
	if until.IsZero() {
		n.lockUntil = time.Now().Add(100 * 365 * 24 * time.Hour)
	}
}

// wait waits until k is no longer being filled, or its filler's lock
// lapses (proxy_cache_lock_age), or deadline (proxy_cache_lock_timeout);
// false when the deadline came first.
func (z *Zone) wait(k Key, deadline time.Time) bool {
	z.mu.Lock()
	n := z.nodes[k]
	if n == nil || !n.updating {
		z.mu.Unlock()
		return true
	}
	done, until := n.done, n.lockUntil
	z.mu.Unlock()
	end, lapse := deadline, false
	if until.Before(deadline) {
		end, lapse = until, true
	}
	if d := time.Until(end); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-done:
			return true
		case <-t.C:
		}
	}
	return lapse
}

// open opens k's file and reads its header.
func (z *Zone) open(k Key) (*Entry, error) {
	if e, done, err := z.openSmall(k); done {
		return e, err
	}
	f, err := os.Open(z.path(k))
	if err != nil {
		return nil, err
	}
	m, off, err := readMeta(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Entry{File: f, Meta: m, BodyOff: off, key: k}, nil
}

// StoreError keeps status as the key's answer until valid (a unix
// second): an error proxy_intercept_errors answered, which nginx keeps in
// the key's node and not on disk (ngx_http_upstream_intercept_errors,
// ngx_http_file_cache_free). A response stored later replaces it.
func (f *Fill) StoreError(status int, valid int64) {
	z := f.z
	z.mu.Lock()
	n := z.node(f.key, time.Now())
	n.errStatus, n.errValid = status, valid
	z.mu.Unlock()
}

// Release ends f's claim: the key's updating mark is cleared and those
// waiting for it are woken (ngx_http_file_cache_free).
func (f *Fill) Release() {
	if f == nil || !f.updating {
		return
	}
	f.updating = false
	z := f.z
	z.mu.Lock()
	if n := z.nodes[f.key]; n != nil && n.updating {
		n.updating = false
		close(n.done)
		n.done = nil
	}
	z.mu.Unlock()
}

// Variant is the MD5 of the request header values that a Vary value
// names, in its order (ngx_http_file_cache_vary): the same request
// headers give the same variant.
func Variant(vary []byte, header func(name []byte) []byte) [16]byte {
	h := md5.New()
	for _, name := range splitList(vary) {
		h.Write(lower(name))
		h.Write([]byte{':'})
		if header != nil {
			h.Write(normalize(header(name)))
		}
		h.Write([]byte{'\n'})
	}
	var v [16]byte
	h.Sum(v[:0])
	return v
}

// normalize is a header value as a variant compares it: the elements
// of its list trimmed, empty ones dropped, joined by ","
// (ngx_http_file_cache_vary_header: "foo, bar" and "foo,,bar " are one
// variant).
func normalize(v []byte) []byte {
	var out []byte
	for _, el := range splitList(v) {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, el...)
	}
	return out
}

func variantKey(main Key, variant [16]byte) Key {
	h := md5.New()
	h.Write(main[:])
	h.Write(variant[:])
	var k Key
	h.Sum(k[:0])
	return k
}

// splitList splits a comma-separated list (RFC 9110 5.6.1), trimming
// spaces and dropping empty elements.
func splitList(v []byte) [][]byte {
	var out [][]byte
	for len(v) > 0 {
		el := v
		for i, c := range v {
			if c == ',' {
				el, v = v[:i], v[i+1:]
				goto got
			}
		}
		v = nil
	got:
		el = trim(el)
		if len(el) > 0 {
			out = append(out, el)
		}
	}
	return out
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// Fill returns a claim on key that stores without having looked it up:
// a request proxy_cache_bypass sent upstream may still store its
// response.
func (z *Zone) Fill(key []byte) *Fill {
	k := KeyOf(key)
	return &Fill{z: z, key: k, main: k}
}
