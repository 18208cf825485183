package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// cacheBackend answers every request with the headers its path names
// after "/h/" (";"-separated, "Name=Value") and a body counting the
// requests it answered: "n=1"... Its path "/down/" closes the
// connection without an answer once down is set.
func cacheBackend(t *testing.T, down *atomic.Bool) (*proxytest.Backend, *atomic.Int64, *atomic.Pointer[proxytest.Request]) {
	var n atomic.Int64
	var last atomic.Pointer[proxytest.Request]
	b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		defer c.Close()
		for {
			req, err := proxytest.ReadRequest(br)
			if err != nil {
				return
			}
			if down != nil && down.Load() {
				return
			}
			last.Store(req)
			k := n.Add(1)
			body := fmt.Sprintf("n=%d", k)
			var hs strings.Builder
			if i := strings.Index(req.Target, "/h/"); i >= 0 {
				for _, kv := range strings.Split(req.Target[i+3:], ";") {
					if name, v, ok := strings.Cut(kv, "="); ok {
						hs.WriteString(name + ": " + strings.ReplaceAll(v, "_", " ") + "\r\n")
					}
				}
			}
			status := "200 OK"
			if strings.Contains(req.Target, "/500/") {
				status = "500 Internal Server Error"
			}
			fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Length: %d\r\n%sIMS: %s\r\n\r\n%s", status, len(body), hs.String(), headerOf(req, "If-Modified-Since"), body)
		}
	})
	return b, &n, &last
}

func headerOf(r *proxytest.Request, name string) string {
	v, _ := r.Get(name)
	return v
}

// TestCacheGate runs proxy_cache through the whole serving path: a miss
// stored and then hit, bypass, responses nginx does not store
// (Set-Cookie, Cache-Control private and max-age=0, X-Accel-Expires 0,
// no proxy_cache_valid for the status), a HEAD converted to GET,
// $upstream_cache_status in a header and the cache kept across a
// restart.
func TestCacheGate(t *testing.T) {
	b, n, last := cacheBackend(t, nil)
	dir := t.TempDir()
	conf := `proxy_cache_path ` + dir + ` levels=1:2 keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_valid 200 10m;
        proxy_cache_bypass $http_x_bypass;
        add_header X-Cache $upstream_cache_status always;
    }
}`
	g := startGate(t, conf, map[string]string{"b": b.Addr})
	tests := []struct {
		desc, path, extra string
		cache             []string // X-Cache of two requests
		fetches           int64    // backend requests for both
	}{
		{"stored then hit", "/a", "", []string{"MISS", "HIT"}, 1},
		{"bypass still stores", "/b", "X-Bypass: 1\n", []string{"BYPASS", "BYPASS"}, 2},
		{"Set-Cookie", "/h/Set-Cookie=a=b", "", []string{"MISS", "MISS"}, 2},
		{"private", "/h/Cache-Control=private", "", []string{"MISS", "MISS"}, 2},
		{"max-age=0", "/h/Cache-Control=max-age=0", "", []string{"MISS", "MISS"}, 2},
		{"X-Accel-Expires 0", "/h/X-Accel-Expires=0", "", []string{"MISS", "MISS"}, 2},
		{"no valid time for 500", "/500/x", "", []string{"MISS", "MISS"}, 2},
		{"500 with max-age", "/500/h/Cache-Control=max-age=60", "", []string{"MISS", "HIT"}, 1},
		{"X-Accel-Buffering no", "/h/X-Accel-Buffering=no", "", []string{"MISS", "MISS"}, 2},
		{"X-Accel-Buffering yes", "/h/X-Accel-Buffering=yes", "", []string{"MISS", "HIT"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			before := n.Load()
			var bodies []string
			for i, want := range tc.cache {
				r := g.do("GET "+tc.path+" HTTP/1.1\nHost: h\n"+tc.extra+"\n", "GET")
				if got, _ := r.Get("X-Cache"); got != want {
					t.Errorf("request %d: X-Cache %q; want %q", i+1, got, want)
				}
				bodies = append(bodies, string(r.Body))
			}
			if got := n.Load() - before; got != tc.fetches {
				t.Errorf("backend answered %d; want %d (bodies %q)", got, tc.fetches, bodies)
			}
			if tc.fetches == 1 && bodies[0] != bodies[1] {
				t.Errorf("bodies %q; want the same twice", bodies)
			}
		})
	}

	// HEAD goes upstream as GET, and the GET that follows is a hit.
	before := n.Load()
	r := g.do("HEAD /head HTTP/1.1\nHost: h\n\n", "HEAD")
	if got, _ := r.Get("X-Cache"); got != "MISS" || len(r.Body) != 0 {
		t.Errorf("HEAD: X-Cache %q, body %q; want MISS and none", got, r.Body)
	}
	if req := last.Load(); req.Method != "GET" {
		t.Errorf("HEAD went upstream as %s; want GET", req.Method)
	}
	r = g.get("/head")
	if got, _ := r.Get("X-Cache"); got != "HIT" || string(r.Body) != fmt.Sprintf("n=%d", before+1) {
		t.Errorf("GET after HEAD: %q %q; want HIT n=%d", got, r.Body, before+1)
	}

	// A restart finds the entries on disk.
	g.srv.Stop()
	g2 := startGate(t, conf, map[string]string{"b": b.Addr})
	before = n.Load()
	r = g2.get("/a")
	if got, _ := r.Get("X-Cache"); got != "HIT" || n.Load() != before {
		t.Errorf("after a restart: X-Cache %q, %d fetches; want HIT and none", got, n.Load()-before)
	}
}

// TestCacheStaleGate: an expired entry is EXPIRED and fetched again; a
// failing upstream is answered with the stale entry under
// proxy_cache_use_stale error, and a revalidation's 304 refreshes it.
func TestCacheStaleGate(t *testing.T) {
	var down atomic.Bool
	b, n, last := cacheBackend(t, &down)
	dir := t.TempDir()
	g := startGate(t, `proxy_cache_path `+dir+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_use_stale error timeout http_500;
        proxy_cache_revalidate on;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
	path := "/h/Cache-Control=max-age=1;Last-Modified=Mon,_07_Dec_2026_06:00:00_GMT"
	if r := g.get(path); string(r.Body) != "n=1" {
		t.Fatalf("first: %q; want n=1", r.Body)
	}
	// Wait for the entry to expire (max-age=1).
	var r *proxytest.Response
	if !proxytest.Poll(5*time.Second, func() bool {
		down.Store(true)
		r = g.get(path)
		got, _ := r.Get("X-Cache")
		return got != "HIT"
	}) {
		t.Fatal("the entry never expired")
	}
	if got, _ := r.Get("X-Cache"); got != "STALE" || string(r.Body) != "n=1" {
		t.Errorf("upstream down: X-Cache %q body %q; want STALE n=1", got, r.Body)
	}
	down.Store(false)
	r = g.get(path)
	if got, _ := r.Get("X-Cache"); got != "EXPIRED" || string(r.Body) != fmt.Sprintf("n=%d", n.Load()) {
		t.Errorf("upstream back: X-Cache %q body %q; want EXPIRED and a fresh body", got, r.Body)
	}
	if ims := headerOf(last.Load(), "If-Modified-Since"); ims != "Mon, 07 Dec 2026 06:00:00 GMT" {
		t.Errorf("revalidation sent If-Modified-Since %q; want the entry's Last-Modified", ims)
	}
}

// TestCacheLockGate: with proxy_cache_lock, concurrent misses for one key
// make one upstream request; the others wait for its entry and are hits.
// Without the lock each goes upstream, as in nginx.
func TestCacheLockGate(t *testing.T) {
	for _, lock := range []string{"on", "off"} {
		t.Run("lock "+lock, func(t *testing.T) {
			b := proxytest.NewSlow(t, 300*time.Millisecond, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok")
			g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_lock `+lock+`;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
			const n = 4
			got := make(chan string, n)
			for i := 0; i < n; i++ {
				go func() {
					c, err := net.Dial("tcp", g.addr)
					if err != nil {
						got <- err.Error()
						return
					}
					defer c.Close()
					c.SetDeadline(time.Now().Add(20 * time.Second))
					c.Write([]byte("GET /k HTTP/1.1\r\nHost: h\r\n\r\n"))
					r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
					if err != nil {
						got <- err.Error()
						return
					}
					v, _ := r.Get("X-Cache")
					got <- v + " " + string(r.Body)
				}()
			}
			var answers []string
			for i := 0; i < n; i++ {
				answers = append(answers, <-got)
			}
			fetches := b.Accepted()
			if lock == "on" && fetches != 1 {
				t.Errorf("lock on: %d upstream requests (answers %q); want 1", fetches, answers)
			}
			if lock == "off" && fetches != n {
				t.Errorf("lock off: %d upstream requests (answers %q); want %d", fetches, answers, n)
			}
			for _, a := range answers {
				if !strings.HasSuffix(a, " ok") {
					t.Errorf("answer %q; want ok", a)
				}
			}
		})
	}
}

// TestCacheBackgroundUpdateGate: an expired entry under
// proxy_cache_use_stale updating with proxy_cache_background_update is
// answered STALE at once, and the refresh it starts stores the next
// answer.
func TestCacheBackgroundUpdateGate(t *testing.T) {
	b, _, _ := cacheBackend(t, nil)
	g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_use_stale updating;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
	path := "/h/Cache-Control=max-age=1"
	g.get(path)
	var r *proxytest.Response
	if !proxytest.Poll(5*time.Second, func() bool {
		r = g.get(path)
		got, _ := r.Get("X-Cache")
		return got != "HIT"
	}) {
		t.Fatal("the entry never expired")
	}
	if got, _ := r.Get("X-Cache"); got != "STALE" || string(r.Body) != "n=1" {
		t.Errorf("expired: %q %q; want STALE n=1", got, r.Body)
	}
	// The refresh is stored once it ends; until then the entry is
	// answered stale (UPDATING).
	proxytest.Eventually(t, 5*time.Second, func() bool {
		r = g.get(path)
		got, _ := r.Get("X-Cache")
		return got == "HIT" && string(r.Body) != "n=1"
	}, "the background refresh was not stored")
}

// TestCacheWebSocketGate: a WebSocket handshake to a cached location is
// never looked up nor stored: with a plain GET of the same key stored
// (proxy_cache_valid any), every handshake still reaches the backend
// and becomes a tunnel.
func TestCacheWebSocketGate(t *testing.T) {
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location /ws {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_valid any 10m;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
}`, map[string]string{"b": be.Addr})
	const hs = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	for i := 0; i < 2; i++ {
		g.get("/ws")
	}
	plain := be.Accepted()
	if plain != 1 {
		t.Fatalf("plain GETs reached the backend %d times; want 1 (the second a hit)", plain)
	}
	for i := 1; i <= 2; i++ {
		c, status := handshake(t, g.addr, hs)
		c.Close()
		if status != 101 {
			t.Fatalf("handshake %d: got %d; want 101", i, status)
		}
		if got := be.Accepted() - plain; got != i {
			t.Errorf("handshake %d: backend accepted %d handshakes; want %d", i, got, i)
		}
	}
}

// TestCacheReloadGate: a reload keeps the entries: an unchanged
// proxy_cache_path keeps its zone, and a changed one (another keys_zone
// size) finds the files again through its loader.
func TestCacheReloadGate(t *testing.T) {
	b, n, _ := cacheBackend(t, nil)
	dir := t.TempDir()
	g := startGate(t, `proxy_cache_path `+dir+` levels=2 keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_valid 200 10m;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
	g.get("/r")
	conf := filepath.Join(g.dir, "nginx.conf")
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ desc, from, to string }{
		{"unchanged", "", ""},
		{"keys_zone resized", "keys_zone=z:1m", "keys_zone=z:2m"},
	} {
		if tc.from != "" {
			text = []byte(strings.Replace(string(text), tc.from, tc.to, 1))
			if err := os.WriteFile(conf, text, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.srv.Reload(); err != nil {
			t.Fatalf("%s: reload: %v", tc.desc, err)
		}
		r := g.get("/r")
		if got, _ := r.Get("X-Cache"); got != "HIT" || string(r.Body) != "n=1" || n.Load() != 1 {
			t.Errorf("%s: X-Cache %q body %q after %d fetches; want HIT n=1 after 1", tc.desc, got, r.Body, n.Load())
		}
	}
}

// TestCacheRevalidateLifetimeGate: a 304 that answers a revalidation
// with no lifetime of its own makes the entry fresh again for the
// lifetime of the entry's own headers, as nginx does
// (nginx-tests proxy_cache_use_stale.t, "s-w-r - revalidated"): a HIT
// follows. A 304 with its own max-age sets it.
func TestCacheRevalidateLifetimeGate(t *testing.T) {
	tests := []struct {
		name      string
		own, n304 string // Cache-Control of the 200 and of the 304
	}{
		{"the entry's own max-age", "max-age=1", ""},
		{"the 304's max-age", "max-age=1", "Cache-Control: max-age=60\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
				defer c.Close()
				for {
					req, err := proxytest.ReadRequest(br)
					if err != nil {
						return
					}
					if headerOf(req, "If-Modified-Since") != "" {
						fmt.Fprintf(c, "HTTP/1.1 304 Not Modified\r\n%s\r\n", tc.n304)
						continue
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: %s\r\nLast-Modified: Mon, 07 Dec 2026 06:00:00 GMT\r\n\r\nok", tc.own)
				}
			})
			g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_revalidate on;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
			g.get("/k")
			seen := map[string]bool{}
			// Without a refresh every request after the first expiry is
			// REVALIDATED; with one, a HIT follows a revalidation.
			proxytest.Eventually(t, 10*time.Second, func() bool {
				r := g.get("/k")
				got, _ := r.Get("X-Cache")
				seen[got] = true
				return seen["REVALIDATED"] && got == "HIT"
			}, "no HIT after a revalidation (seen %v)", seen)
		})
	}
}

// TestCacheStaleIfErrorGate: an expired entry's own stale-if-error
// answers a failed try (the upstream closed without an answer) but not
// an upstream's 500, which goes to the client as nginx 1.19.3+ sends it
// (nginx-tests proxy_cache_use_stale.t, "s-i-e - stale 5xx ignore");
// proxy_cache_use_stale http_500 still answers that with the entry.
func TestCacheStaleIfErrorGate(t *testing.T) {
	tests := []struct {
		name, useStale, fail string
		status               int
		cache                string
	}{
		{"500 is sent", "", "500", 500, "EXPIRED"},
		{"a failed try is answered stale", "", "close", 200, "STALE"},
		{"500 under proxy_cache_use_stale http_500", "proxy_cache_use_stale http_500;", "500", 200, "STALE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var failing atomic.Bool
			b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
				defer c.Close()
				for {
					if _, err := proxytest.ReadRequest(br); err != nil {
						return
					}
					switch {
					case !failing.Load():
						fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=1, stale-if-error=600\r\n\r\nok")
					case tc.fail == "500":
						fmt.Fprint(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nerr")
					default:
						return
					}
				}
			})
			g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        `+tc.useStale+`
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
			g.get("/k")
			failing.Store(true)
			var r *proxytest.Response
			if !proxytest.Poll(5*time.Second, func() bool {
				r = g.get("/k")
				got, _ := r.Get("X-Cache")
				return got != "HIT"
			}) {
				t.Fatal("the entry never expired")
			}
			if got, _ := r.Get("X-Cache"); r.Status != tc.status || got != tc.cache {
				t.Errorf("got %d %s; want %d %s", r.Status, got, tc.status, tc.cache)
			}
		})
	}
}

// TestCacheBackgroundRevalidateGate: under proxy_cache_revalidate the
// background refresh of a stale entry carries its validators, and the
// 304 refreshes the entry (nginx-tests proxy_cache_use_stale.t,
// "s-w-r - revalidated"): a HIT of the first body follows, and the
// upstream sent one 200.
func TestCacheBackgroundRevalidateGate(t *testing.T) {
	var full, cond atomic.Int64
	b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		defer c.Close()
		for {
			req, err := proxytest.ReadRequest(br)
			if err != nil {
				return
			}
			if headerOf(req, "If-Modified-Since") != "" {
				cond.Add(1)
				fmt.Fprint(c, "HTTP/1.1 304 Not Modified\r\n\r\n")
				continue
			}
			body := fmt.Sprintf("n=%d", full.Add(1))
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nCache-Control: max-age=1, stale-while-revalidate=60\r\nLast-Modified: Mon, 07 Dec 2026 06:00:00 GMT\r\n\r\n%s", len(body), body)
		}
	})
	g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_revalidate on;
        proxy_cache_background_update on;
        add_header X-Cache $upstream_cache_status always;
    }
}`, map[string]string{"b": b.Addr})
	g.get("/k")
	seen := map[string]bool{}
	proxytest.Eventually(t, 10*time.Second, func() bool {
		r := g.get("/k")
		got, _ := r.Get("X-Cache")
		if got == "HIT" && string(r.Body) != "n=1" {
			t.Fatalf("HIT of %q; want the first body, refreshed", r.Body)
		}
		seen[got] = true
		return seen["STALE"] && got == "HIT"
	}, "no HIT after a background refresh (seen %v)", seen)
	if full.Load() != 1 || cond.Load() == 0 {
		t.Errorf("upstream sent %d 200s and %d 304s; want one 200, then 304s", full.Load(), cond.Load())
	}
}

// TestCacheInterceptedErrorGate: an error that proxy_intercept_errors
// answers is kept as the key's answer for its lifetime (the response's
// own, else proxy_cache_valid's) and answered again through the error
// page without the upstream; a bypass stores what it gets instead
// (nginx-tests proxy_cache_bypass.t "error cached", proxy_cache_valid.t
// "error cached from max-age"). Without a lifetime nothing is kept.
func TestCacheInterceptedErrorGate(t *testing.T) {
	tests := []struct {
		name, valid, cc string
		kept            bool
	}{
		{"proxy_cache_valid any", "proxy_cache_valid any 1m;", "", true},
		{"the response's max-age", "", "Cache-Control: max-age=60\r\n", true},
		{"no lifetime", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ok atomic.Bool
			var n atomic.Int64
			b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
				defer c.Close()
				for {
					if _, err := proxytest.ReadRequest(br); err != nil {
						return
					}
					n.Add(1)
					if ok.Load() {
						fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nCache-Control: max-age=60\r\n\r\nNOOP")
						continue
					}
					fmt.Fprintf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n%s\r\nnf", tc.cc)
				}
			})
			g := startGate(t, `proxy_cache_path `+t.TempDir()+` keys_zone=z:1m;
server {
    listen {{listen}};
    location / {
        proxy_pass http://{{b}};
        proxy_cache z;
        proxy_cache_key $uri;
        proxy_cache_bypass $arg_bypass;
        `+tc.valid+`
        proxy_intercept_errors on;
        error_page 404 = @fallback;
        add_header X-Cache $upstream_cache_status always;
    }
    location @fallback {
        add_header X-Cache $upstream_cache_status always;
        return 403;
    }
}`, map[string]string{"b": b.Addr})
			if r := g.get("/t"); r.Status != 403 {
				t.Fatalf("first: %d; want 403", r.Status)
			}
			ok.Store(true)
			r := g.get("/t")
			if got, _ := r.Get("X-Cache"); tc.kept && (r.Status != 403 || got != "HIT" || n.Load() != 1) {
				t.Errorf("again: %d %s after %d fetches; want 403 HIT after 1", r.Status, got, n.Load())
			} else if !tc.kept && r.Status != 200 {
				t.Errorf("again: %d; want 200 (nothing kept)", r.Status)
			}
			if !tc.kept {
				return
			}
			if r := g.get("/t?bypass=1"); r.Status != 200 {
				t.Errorf("bypass: %d; want 200", r.Status)
			}
			r = g.get("/t")
			if got, _ := r.Get("X-Cache"); r.Status != 200 || got != "HIT" || string(r.Body) != "NOOP" {
				t.Errorf("after the bypass: %d %s %q; want 200 HIT NOOP", r.Status, got, r.Body)
			}
		})
	}
}
