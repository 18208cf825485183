package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// newStaleKeeper starts a backend that answers the first request on each
// connection with a kept-alive 200 and fails every later one, by the
// request's path: "/eof/" closes the connection unanswered, "/rst/"
// resets it. A first request whose path has "/idle/" is answered and its
// connection closed at once: it goes stale while idle.
func newStaleKeeper(t *testing.T) *proxytest.Backend {
	return proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		for first := true; ; first = false {
			path, length, ok := readRequestHead(br)
			if !ok {
				return
			}
			if _, err := br.Discard(length); err != nil {
				return
			}
			if !first {
				switch {
				case strings.Contains(path, "/eof/"):
					return
				case strings.Contains(path, "/rst/"):
					c.(*net.TCPConn).SetLinger(0)
					return
				}
			}
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")); err != nil {
				return
			}
			if strings.Contains(path, "/idle/") {
				return
			}
		}
	})
}

// readRequestHead reads a request head from br and returns its target and
// Content-Length.
func readRequestHead(br *bufio.Reader) (target string, length int, ok bool) {
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", 0, false
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case first:
			if f := strings.Fields(line); len(f) == 3 {
				target = f[1]
			}
		case line == "":
			return target, length, true
		default:
			if name, v, _ := strings.Cut(line, ":"); strings.EqualFold(name, "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
}

// TestCachedRetryMatchesNginx runs real nginx (when installed) and wsgate
// on one configuration, each with a backend that fails a kept connection's
// later requests, and checks that both try a failed cached connection again
// on a fresh one without counting the try (ngx_http_upstream_next:
// u->peer.tries++ for a cached connection and an error): a GET still gets
// its 200, also under proxy_next_upstream_tries 1, a POST only with
// non_idempotent, nothing with proxy_next_upstream off. A connection that
// the backend closed while it was idle is not tried at all. The failure
// still counts for max_fails and leaves its peer tried.
func TestCachedRetryMatchesNginx(t *testing.T) {
	proxytest.NeedNginx(t)
	const conf = `
log_format up '$arg_n $status $upstream_status';
upstream ka { server %[2]s; keepalive 8; }
upstream ka2 { server %[2]s; server %[4]s; keepalive 8; }
server { listen %[1]s;
  access_log %[3]s up;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  location / { proxy_pass http://ka; }
  location /off/ { proxy_next_upstream off; proxy_pass http://ka; }
  location /tries/ { proxy_next_upstream_tries 1; proxy_pass http://ka; }
  location /nonidem/ { proxy_next_upstream error non_idempotent; proxy_pass http://ka; }
  location /two/ { proxy_pass http://ka2; }
}`
	type target struct {
		addr, log string
		b, b2     *proxytest.Backend
	}
	start := func(nginx bool) *target {
		tg := &target{b: newStaleKeeper(t), b2: newStaleKeeper(t), log: filepath.Join(t.TempDir(), "access.log")}
		if nginx {
			tg.addr = proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(conf, proxytest.FreeAddr(t), tg.b.Addr, tg.log, tg.b2.Addr))).Addr
			return tg
		}
		tg.addr = gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(conf, "{{listen}}", tg.b.Addr, tg.log, tg.b2.Addr)), gatetest.Options{}).Addr
		return tg
	}
	targets := map[string]*target{"nginx": start(true), "wsgate": start(false)}

	// In order, each on the connections the ones before left in the cache.
	tests := []struct {
		desc, method, path string
		status             int
		upstream           string // $upstream_status
		// closes: the backend closes the connection after its answer;
		// the next request waits until it has.
		closes bool
	}{
		{"fresh connection", "GET", "/eof/", 200, "200", false},
		{"closed as the request came", "GET", "/eof/", 200, "502, 200", false},
		{"reset as the request came", "GET", "/rst/", 200, "502, 200", false},
		{"POST without non_idempotent", "POST", "/eof/", 502, "502", false},
		{"answered, then closed", "GET", "/idle/", 200, "200", true},
		{"closed while idle", "GET", "/eof/", 200, "200", false},
		{"proxy_next_upstream off", "GET", "/off/eof/", 502, "502", false},
		{"fresh connection again", "GET", "/eof/", 200, "200", false},
		{"proxy_next_upstream_tries 1", "GET", "/tries/eof/", 200, "502, 200", false},
		{"POST with non_idempotent", "POST", "/nonidem/eof/", 200, "502, 200", false},
		// Two peers: each failed cached connection counts for its peer's
		// max_fails and leaves it tried, so with both failing no peer is
		// left (the third "502" is "no live upstreams").
		{"two peers, the first fresh", "GET", "/two/eof/", 200, "200", false},
		{"two peers, the second fresh", "GET", "/two/eof/", 200, "200", false},
		{"two peers, both cached and failing", "GET", "/two/eof/", 502, "502, 502, 502", false},
	}
	for name, tg := range targets {
		t.Run(name, func(t *testing.T) {
			g := &gate{t: t, addr: tg.addr}
			for i, tt := range tests {
				// n tells this request's log line from the ones before.
				r := g.do(fmt.Sprintf("%s %s?n=%d HTTP/1.0\nHost: h\nContent-Length: 0\n\n", tt.method, tt.path, i), tt.method)
				if r.Status != tt.status {
					t.Errorf("%s: got status %d; want %d", tt.desc, r.Status, tt.status)
				}
				want := fmt.Sprintf("%d %d %s", i, tt.status, tt.upstream)
				if got := lastLogLine(t, tg.log, fmt.Sprintf("%d ", i)); got != want {
					t.Errorf("%s: access log %q; want %q", tt.desc, got, want)
				}
				if tt.closes {
					proxytest.Eventually(t, 5*time.Second, func() bool { return tg.b.Open() == 0 }, "%s: the backend kept %d connections open", tt.desc, tg.b.Open())
				}
			}
		})
	}
}
