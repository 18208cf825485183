package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestPath pins nginx's file names: the documentation's example, a key
// whose MD5 is b7f54b2df7773722d382f4809d65029c under levels=1:2.
func TestPath(t *testing.T) {
	var k Key
	decodeHex(k[:], "b7f54b2df7773722d382f4809d65029c")
	tests := []struct {
		levels []int
		want   string
	}{
		{nil, "/c/b7f54b2df7773722d382f4809d65029c"},
		{[]int{1, 2}, "/c/c/29/b7f54b2df7773722d382f4809d65029c"},
		{[]int{2}, "/c/9c/b7f54b2df7773722d382f4809d65029c"},
	}
	for _, tc := range tests {
		if got := path("/c", tc.levels, k); got != tc.want {
			t.Errorf("levels %v: got %s; want %s", tc.levels, got, tc.want)
		}
	}
}

func store(t *testing.T, z *Zone, key string, body string, valid int64) {
	t.Helper()
	l := z.Lookup([]byte(key), &Options{MinUses: 1}, time.Now())
	if l.Fill == nil {
		t.Fatalf("%s: no fill (%v)", key, l.Status)
	}
	defer l.Fill.Release()
	w, err := l.Fill.Writer(&Meta{Valid: valid, Status: 200, Key: []byte(key), LastModified: -1,
		Headers: []Header{{Name: []byte("Content-Type"), Value: []byte("text/plain")}}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if !w.Commit(int64(len(body))) {
		t.Fatalf("%s: not committed", key)
	}
}

// TestZone: an entry stored is a hit with its header and body, an
// expired one is Expired with the updating mark that makes the next
// request's lookup Updating, min_uses counts requests, and a new zone
// over the same directory finds the entries (the loader).
func TestZone(t *testing.T) {
	dir := t.TempDir()
	z := New(Config{Name: "z", Path: dir, Levels: []int{1, 2}, KeysSize: 1 << 20}, nil)
	if err := z.Start(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	store(t, z, "fresh", "hello", now.Unix()+60)
	store(t, z, "old", "stale", now.Unix()-1)
	l := z.Lookup([]byte("fresh"), &Options{}, now)
	if l.Status != Hit || l.Entry.Meta.BodyLen != 5 || string(l.Entry.Meta.Headers[0].Value) != "text/plain" {
		t.Fatalf("fresh: %v %+v; want a hit", l.Status, l.Entry)
	}
	if body := entryBody(l.Entry); string(body) != "hello" {
		t.Errorf("body %q; want hello", body)
	}
	l.Entry.Close()
	l = z.Lookup([]byte("old"), &Options{}, now)
	if l.Status != Expired || l.Fill == nil {
		t.Fatalf("old: %v; want Expired with a fill", l.Status)
	}
	l2 := z.Lookup([]byte("old"), &Options{}, now)
	if l2.Status != Updating {
		t.Errorf("old while fetched: %v; want Updating", l2.Status)
	}
	l2.Entry.Close()
	l.Fill.Release()
	l.Entry.Close()
	if l := z.Lookup([]byte("rare"), &Options{MinUses: 2}, now); l.Cacheable {
		t.Errorf("first use of min_uses 2: cacheable; want not")
	}
	if l := z.Lookup([]byte("rare"), &Options{MinUses: 2}, now); !l.Cacheable {
		t.Errorf("second use of min_uses 2: not cacheable; want cacheable")
	}
	z.Stop()

	z2 := New(Config{Name: "z", Path: dir, Levels: []int{1, 2}, KeysSize: 1 << 20}, nil)
	z2.Start()
	defer z2.Stop()
	<-z2.Loaded()
	if _, keys := z2.Size(); keys != 2 {
		t.Errorf("loader found %d keys; want 2", keys)
	}
	if l := z2.Lookup([]byte("fresh"), &Options{}, now); l.Status != Hit {
		t.Errorf("after a restart: %v; want Hit", l.Status)
	} else {
		l.Entry.Close()
	}
}

// TestZoneBounds: max_size makes the manager remove the least recently
// used entries, and a full keys_zone drops the least recently used key.
func TestZoneBounds(t *testing.T) {
	dir := t.TempDir()
	z := New(Config{Name: "z", Path: dir, KeysSize: 1 << 20, MaxSize: 3 * blockSize}, nil)
	z.Start()
	defer z.Stop()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		store(t, z, k, "x", time.Now().Unix()+60)
	}
	proxytest.Eventually(t, 5*time.Second, func() bool { s, _ := z.Size(); return s <= 3*blockSize }, "cache above max_size")
	if _, err := os.Stat(path(dir, nil, KeyOf([]byte("a")))); !os.IsNotExist(err) {
		t.Errorf("least recently used entry still on disk: %v", err)
	}
	if _, err := os.Stat(path(dir, nil, KeyOf([]byte("e")))); err != nil {
		t.Errorf("most recent entry removed: %v", err)
	}

	small := New(Config{Name: "s", Path: filepath.Join(dir, "s"), KeysSize: 2 * nodeBytes}, nil)
	small.Start()
	defer small.Stop()
	for _, k := range []string{"a", "b", "c"} {
		store(t, small, k, "x", time.Now().Unix()+60)
	}
	if _, keys := small.Size(); keys != 2 {
		t.Errorf("zone of two keys holds %d", keys)
	}
	if l := small.Lookup([]byte("a"), &Options{}, time.Now()); l.Status == Hit {
		t.Errorf("dropped key still a hit")
	}
}

// TestVary: a response that varies is found again only by requests with
// the same header values; another variant is stored beside it.
func TestVary(t *testing.T) {
	z := New(Config{Name: "z", Path: t.TempDir(), KeysSize: 1 << 20}, nil)
	z.Start()
	defer z.Stop()
	hdr := func(v string) func([]byte) []byte { return func([]byte) []byte { return []byte(v) } }
	put := func(enc string) {
		l := z.Lookup([]byte("k"), &Options{Header: hdr(enc)}, time.Now())
		defer l.Fill.Release()
		vary := []byte("Accept-Encoding")
		w, _ := l.Fill.Writer(&Meta{Valid: time.Now().Unix() + 60, Status: 200, Key: []byte("k"), Vary: vary, Variant: Variant(vary, hdr(enc))})
		w.Write([]byte(enc))
		w.Commit(-1)
	}
	put("gzip")
	if l := z.Lookup([]byte("k"), &Options{Header: hdr("br")}, time.Now()); l.Status != Miss {
		t.Fatalf("other variant: %v; want Miss", l.Status)
	} else {
		l.Fill.Release()
	}
	put("br")
	for _, enc := range []string{"gzip", "br"} {
		l := z.Lookup([]byte("k"), &Options{Header: hdr(enc)}, time.Now())
		if l.Status != Hit || l.Entry.Meta.BodyLen != int64(len(enc)) {
			t.Errorf("%s: %v; want its own hit", enc, l.Status)
			continue
		}
		l.Entry.Close()
	}
}

type headers [][2]string

func (h headers) Len() int                  { return len(h) }
func (h headers) At(i int) ([]byte, []byte) { return []byte(h[i][0]), []byte(h[i][1]) }

// TestDecide pins which responses are stored and for how long.
func TestDecide(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	valid := []Valid{{Status: 200, Time: 10 * time.Minute}}
	parse := func(b []byte) int64 {
		if string(b) == "future" {
			return now.Unix() + 30
		}
		return -1
	}
	tests := []struct {
		desc   string
		status int
		h      headers
		ignore Ignore
		ok     bool
		valid  int64
	}{
		{"proxy_cache_valid", 200, nil, 0, true, 600},
		{"no valid time for 404", 404, nil, 0, false, 0},
		{"max-age", 404, headers{{"Cache-Control", "public, max-age=20"}}, 0, true, 20},
		{"s-maxage first", 200, headers{{"Cache-Control", "max-age=20, s-maxage=5"}}, 0, true, 5},
		{"no-store", 200, headers{{"Cache-Control", "no-store"}}, 0, false, 0},
		{"ignored Cache-Control", 200, headers{{"Cache-Control", "no-store"}}, IgnoreCacheControl, true, 600},
		{"Expires", 200, headers{{"Expires", "future"}}, 0, true, 30},
		{"Expires in the past", 200, headers{{"Expires", "past"}}, 0, false, 0},
		{"Cache-Control over Expires", 200, headers{{"Expires", "future"}, {"Cache-Control", "max-age=7"}}, 0, true, 7},
		{"X-Accel-Expires over Cache-Control", 200, headers{{"X-Accel-Expires", "3"}, {"Cache-Control", "max-age=7"}}, 0, true, 3},
		{"X-Accel-Expires 0", 200, headers{{"X-Accel-Expires", "0"}}, 0, false, 0},
		{"X-Accel-Expires over a refusal", 200, headers{{"X-Accel-Expires", "60"}, {"Expires", "past"}, {"Cache-Control", "no-cache"}}, 0, true, 60},
		{"X-Accel-Expires after Cache-Control", 200, headers{{"Cache-Control", "max-age=7"}, {"X-Accel-Expires", "3"}}, 0, true, 3},
		{"X-Accel-Expires 0 after Cache-Control", 200, headers{{"Cache-Control", "max-age=7"}, {"X-Accel-Expires", "0"}}, 0, false, 0},
		{"Set-Cookie", 200, headers{{"Set-Cookie", "a=b"}}, 0, false, 0},
		{"ignored Set-Cookie", 200, headers{{"Set-Cookie", "a=b"}}, IgnoreSetCookie, true, 600},
		{"Vary *", 200, headers{{"Vary", "*"}}, 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			f := Decide(tc.status, tc.h, tc.ignore, valid, now, parse)
			if f.Cacheable != tc.ok || (tc.ok && f.Valid-now.Unix() != tc.valid) {
				t.Errorf("got %v %d; want %v %d", f.Cacheable, f.Valid-now.Unix(), tc.ok, tc.valid)
			}
		})
	}
}

// TestVaryReplaces: a response to a request that looked up a variant's
// key goes to the main key when it has no Vary, or a Vary other than the
// main entry's (ngx_http_file_cache_update_variant), so later requests
// are looked up by the new response (nginx-tests proxy_cache_vary.t, "all
// replaced" and "change second").
func TestVaryReplaces(t *testing.T) {
	type req struct {
		hdr   map[string]string
		want  Status
		found string // the body found, for a Hit or Expired
		vary  string // the response stored: its Vary ("-": none stored)
		body  string // and its body; its lifetime is 60 s, or -1 s when expired
		stale bool
	}
	ae := func(v string) map[string]string { return map[string]string{"accept-encoding": v} }
	tests := []struct {
		name string
		reqs []req
	}{
		{"a response without Vary replaces every variant", []req{
			{hdr: ae("gzip"), want: Miss, vary: "Accept-Encoding", body: "gzip", stale: true},
			{hdr: ae("deflate"), want: Miss, vary: "Accept-Encoding", body: "deflate", stale: true},
			{hdr: ae("deflate"), want: Expired, found: "deflate", vary: "", body: "only"},
			{hdr: ae("gzip"), want: Hit, found: "only", vary: "-"},
			{hdr: ae("deflate"), want: Hit, found: "only", vary: "-"},
		}},
		{"a response with another Vary replaces the main entry", []req{
			{hdr: map[string]string{"z": "1"}, want: Miss, vary: "z", body: "z:1"},
			{hdr: map[string]string{"x": "1"}, want: Miss, vary: "x,y", body: "x:1"},
			{hdr: map[string]string{"x": "1"}, want: Hit, found: "x:1", vary: "-"},
			{hdr: map[string]string{"x": "2"}, want: Miss, vary: "-"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := New(Config{Name: "z", Path: t.TempDir(), KeysSize: 1 << 20}, nil)
			z.Start()
			defer z.Stop()
			for i, r := range tc.reqs {
				header := func(name []byte) []byte { return []byte(r.hdr[string(lower(name))]) }
				l := z.Lookup([]byte("k"), &Options{Header: header}, time.Now())
				if l.Status != r.want {
					t.Fatalf("request %d: %v; want %v", i, l.Status, r.want)
				}
				if l.Entry != nil {
					b := entryBody(l.Entry)
					l.Entry.Close()
					if string(b) != r.found {
						t.Errorf("request %d: found %q; want %q", i, b, r.found)
					}
				}
				if r.vary != "-" {
					m := &Meta{Valid: time.Now().Unix() + 60, Status: 200, Key: []byte("k")}
					if r.stale {
						m.Valid = time.Now().Unix() - 1
					}
					if r.vary != "" {
						m.Vary = []byte(r.vary)
						m.Variant = Variant(m.Vary, header)
					}
					w, err := l.Fill.Writer(m)
					if err != nil {
						t.Fatal(err)
					}
					w.Write([]byte(r.body))
					w.Commit(-1)
				}
				l.Fill.Release()
			}
		})
	}
}

// TestStoreError: a kept error answers the key until it expires, then
// the key is looked up anew; a response stored later replaces it.
func TestStoreError(t *testing.T) {
	z := New(Config{Name: "z", Path: t.TempDir(), KeysSize: 1 << 20}, nil)
	z.Start()
	defer z.Stop()
	now := time.Now()
	tests := []struct {
		key   string
		valid int64
		store bool // a response stored after the error
		want  Status
		err   int
	}{
		{"fresh", now.Unix() + 60, false, Hit, 404},
		{"expired", now.Unix() - 1, false, Miss, 0},
		{"replaced", now.Unix() + 60, true, Hit, 0},
	}
	for _, tc := range tests {
		l := z.Lookup([]byte(tc.key), &Options{}, now)
		l.Fill.StoreError(404, tc.valid)
		l.Fill.Release()
		if tc.store {
			// as proxy_cache_bypass stores, without a lookup
			w, err := z.Fill([]byte(tc.key)).Writer(&Meta{Valid: now.Unix() + 60, Status: 200, Key: []byte(tc.key), LastModified: -1})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("body"))
			w.Commit(-1)
		}
		l = z.Lookup([]byte(tc.key), &Options{}, now)
		if l.Status != tc.want || l.ErrorStatus != tc.err {
			t.Errorf("%s: %v %d; want %v %d", tc.key, l.Status, l.ErrorStatus, tc.want, tc.err)
		}
		if l.Entry != nil {
			l.Entry.Close()
		}
		l.Fill.Release()
	}
}

// entryBody is e's body, from memory or its file.
func entryBody(e *Entry) []byte {
	if e.File == nil {
		return e.Body
	}
	body := make([]byte, e.Meta.BodyLen)
	e.File.ReadAt(body, e.BodyOff)
	return body
}
