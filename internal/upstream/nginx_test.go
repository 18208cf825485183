package upstream

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
)

// TestNginxSequences runs real nginx with upstreams over recording loopback
// backends and checks that Pick chooses the same backends in the same
// order for the same requests.
func TestNginxSequences(t *testing.T) {
	proxytest.NeedNginx(t)
	const nb = 4
	var backends [nb]string // "127.0.0.1:port"
	for i := range nb {
		name := fmt.Sprintf("b%d", i)
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, name)
		}))
		defer s.Close()
		backends[i] = strings.TrimPrefix(s.URL, "http://")
	}
	short := map[string]string{}
	for i, b := range backends {
		short[b] = fmt.Sprintf("b%d", i)
	}
	type upstreamCase struct {
		name      string
		balance   config.Balance
		hashKey   string
		chash     bool
		weights   [nb]int
		directive string
	}
	cases := []upstreamCase{
		{"rr", config.BalanceRoundRobin, "", false, [nb]int{5, 1, 1, 0}, ""},
		{"rr4", config.BalanceRoundRobin, "", false, [nb]int{3, 2, 1, 4}, ""},
		{"lc", config.BalanceLeastConn, "", false, [nb]int{2, 1, 1, 3}, "least_conn;"},
		{"iph", config.BalanceIPHash, "", false, [nb]int{1, 1, 2, 1}, "ip_hash;"},
		{"h", config.BalanceHash, "$arg_k", false, [nb]int{2, 1, 1, 1}, "hash $arg_k;"},
		{"ch", config.BalanceHash, "$arg_k", true, [nb]int{1, 2, 1, 1}, "hash $arg_k consistent;"},
	}

	addr := proxytest.FreeAddr(t)
	var conf strings.Builder
	conf.WriteString("events {}\nhttp {\n")
	var ups []*config.Upstream
	for _, c := range cases {
		fmt.Fprintf(&conf, " upstream %s {\n  %s\n", c.name, c.directive)
		u := &config.Upstream{Name: c.name, Balance: c.balance, HashKey: c.hashKey, HashConsistent: c.chash}
		for i, w := range c.weights {
			if w == 0 {
				continue
			}
			fmt.Fprintf(&conf, "  server %s weight=%d;\n", backends[i], w)
			u.Servers = append(u.Servers, srv(backends[i], weight(w)))
		}
		conf.WriteString(" }\n")
		ups = append(ups, u)
	}
	fmt.Fprintf(&conf, " server {\n  listen %s;\n", addr)
	for _, c := range cases {
		fmt.Fprintf(&conf, "  location /%s { proxy_pass http://%s; }\n", c.name, c.name)
	}
	conf.WriteString(" }\n}\n")
	proxytest.StartNginx(t, conf.String())

	reg := NewRegistry(Options{})
	set, err := reg.Build(context.Background(), ups, nil, noResolve)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	reg.Activate(set)

	get := func(t *testing.T, src netip.Addr, path string) string {
		t.Helper()
		d := &net.Dialer{Timeout: 5 * time.Second}
		if src.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: d.DialContext, DisableKeepAlives: true,
		}}
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: got %d %q; want 200", path, resp.StatusCode, b)
		}
		return string(b)
	}
	pick := func(t *testing.T, pool string, key PickKey) string {
		t.Helper()
		l, err := set.Pool(pool).Pick(key, nil)
		if err != nil {
			t.Fatalf("Pick %s: %v", pool, err)
		}
		defer l.Done(Success)
		return short[l.Peer().Name]
	}

	for _, name := range []string{"rr", "rr4", "lc"} {
		t.Run(name, func(t *testing.T) {
			var got, want []string
			for range 30 {
				want = append(want, get(t, netip.Addr{}, "/"+name))
				got = append(got, pick(t, name, PickKey{}))
			}
			checkSeq(t, got, want)
		})
	}
	t.Run("iph", func(t *testing.T) {
		var got, want []string
		for i := range 40 {
			ip := netip.AddrFrom4([4]byte{127, byte(i * 37 % 256), byte(i * 101 % 256), 1})
			want = append(want, get(t, ip, "/iph"))
			got = append(got, pick(t, "iph", PickKey{ClientIP: ip}))
		}
		checkSeq(t, got, want)
	})
	for _, name := range []string{"h", "ch"} {
		t.Run(name, func(t *testing.T) {
			var got, want []string
			for i := range 60 {
				k := fmt.Sprintf("user%d", i*7919)
				want = append(want, get(t, netip.Addr{}, "/"+name+"?k="+k))
				got = append(got, pick(t, name, PickKey{Hash: []byte(k)}))
			}
			checkSeq(t, got, want)
		})
	}
}

// checkSeq compares Pick's sequence with nginx's, and rejects a sequence
// that names a single backend (it would prove nothing).
func checkSeq(t *testing.T, got, want []string) {
	t.Helper()
	if join(got) != join(want) {
		t.Errorf("got  %s\nwant %s (nginx)", join(got), join(want))
	}
	distinct := map[string]bool{}
	for _, w := range want {
		distinct[w] = true
	}
	if len(distinct) < 2 {
		t.Errorf("nginx used only %v; want a sequence over several backends", want)
	}
}

// TestNginxDuplicateServers runs real nginx with upstreams that list a
// refusing address twice next to a good one, and checks that a request
// through wsgate's Pick tries the same peers in the same order as nginx
// does ($upstream_addr in nginx's access log): two identical lines are two
// tries (ngx_http_upstream_init_round_robin adds a peer per line).
func TestNginxDuplicateServers(t *testing.T) {
	proxytest.NeedNginx(t)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "good")
	}))
	defer good.Close()
	goodAddr := strings.TrimPrefix(good.URL, "http://")
	refused := proxytest.FreeAddr(t) // nothing listens there

	cases := []struct {
		name  string
		lines []string // server lines, nginx syntax
		ups   []config.UpstreamServer
	}{
		{"dup", []string{refused, refused, goodAddr},
			[]config.UpstreamServer{srv(refused), srv(refused), srv(goodAddr)}},
		// max_fails=0: the refusing lines are never disabled, so every
		// request runs through the round robin with both of them.
		{"dupkeep", []string{refused + " max_fails=0", goodAddr + " weight=2", refused + " max_fails=0"},
			[]config.UpstreamServer{srv(refused, maxFails(0)), srv(goodAddr, weight(2)), srv(refused, maxFails(0))}},
		// The backup list has its own two lines of the refusing address.
		{"dupbackup", []string{refused, refused + " backup", refused + " backup", goodAddr + " backup"},
			[]config.UpstreamServer{srv(refused), srv(refused, backup), srv(refused, backup), srv(goodAddr, backup)}},
	}

	addr := proxytest.FreeAddr(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	var conf strings.Builder
	conf.WriteString("events {}\nhttp {\n log_format ups '$uri|$upstream_addr';\n")
	var ups []*config.Upstream
	for _, c := range cases {
		fmt.Fprintf(&conf, " upstream %s {\n", c.name)
		for _, l := range c.lines {
			fmt.Fprintf(&conf, "  server %s;\n", l)
		}
		conf.WriteString(" }\n")
		ups = append(ups, &config.Upstream{Name: c.name, Servers: c.ups})
	}
	fmt.Fprintf(&conf, " server {\n  listen %s;\n  access_log %s ups;\n", addr, logPath)
	for _, c := range cases {
		fmt.Fprintf(&conf, "  location /%s { proxy_pass http://%s; }\n", c.name, c.name)
	}
	conf.WriteString(" }\n}\n")
	proxytest.StartNginx(t, conf.String())

	reg := NewRegistry(Options{Logger: discardLogger()})
	set, err := reg.Build(context.Background(), ups, nil, noResolve)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	reg.Activate(set)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	// request is one request through wsgate's balancer: try peers as
	// proxy_next_upstream error does, dialing each, and return the
	// $upstream_addr it would log.
	request := func(t *testing.T, p *Pool) string {
		t.Helper()
		var tr Tried
		var addrs []string
		for {
			l, err := p.Pick(PickKey{}, &tr)
			if err != nil {
				addrs = append(addrs, p.Name()) // nginx logs the upstream name for "no live upstreams"
				break
			}
			addrs = append(addrs, l.Peer().Name)
			c, err := net.DialTimeout(l.Peer().Network, l.Peer().Addr, 5*time.Second)
			if err != nil {
				l.Done(FailError)
				if tr.Left() == 0 {
					break
				}
				continue
			}
			c.Close()
			l.Done(Success)
			break
		}
		return strings.Join(addrs, ", ")
	}
	const n = 8
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range n {
				resp, err := client.Get("http://" + addr + "/" + c.name)
				if err != nil {
					t.Fatalf("GET /%s: %v", c.name, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /%s: got %d; want 200 (the good server answers)", c.name, resp.StatusCode)
				}
			}
			// nginx logs a request after its response went out: wait
			// for the last line.
			var logged []byte
			var want []string
			proxytest.Poll(5*time.Second, func() bool {
				logged, _ = os.ReadFile(logPath)
				want = want[:0]
				for _, line := range strings.Split(strings.TrimSpace(string(logged)), "\n") {
					if uri, ups, ok := strings.Cut(line, "|"); ok && uri == "/"+c.name {
						want = append(want, ups)
					}
				}
				return len(want) >= n
			})
			if len(want) != n {
				t.Fatalf("got %d access log lines for /%s; want %d:\n%s", len(want), c.name, n, logged)
			}
			for i := range n {
				got := request(t, set.Pool(c.name))
				if got != want[i] {
					t.Errorf("request %d: got $upstream_addr %q; want %q (nginx)", i, got, want[i])
				}
			}
			// A case where no request tried the refusing address twice
			// would not tell one peer from two.
			if !strings.Contains(strings.Join(want, "\n"), refused+", "+refused) {
				t.Errorf("nginx never tried %s twice in one request (%v); the case proves nothing", refused, want)
			}
			t.Logf("nginx: %q", want)
		})
	}
}
