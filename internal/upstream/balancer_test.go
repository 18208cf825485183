package upstream

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"wsgate/internal/config"
)

var abcd = map[string]string{
	"127.0.0.1:1001": "a", "127.0.0.1:1002": "b", "127.0.0.1:1003": "c", "127.0.0.1:1004": "d",
}

func TestRoundRobinSequence(t *testing.T) {
	tests := []struct {
		name    string
		servers []config.UpstreamServer
		want    string
	}{
		{"weights 5 1 1", []config.UpstreamServer{srv("127.0.0.1:1001", weight(5)), srv("127.0.0.1:1002"), srv("127.0.0.1:1003")},
			"a a b a c a a a a b a c a a"},
		{"equal weights", []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003")},
			"a b c a b c"},
		{"weights 2 1", []config.UpstreamServer{srv("127.0.0.1:1001", weight(2)), srv("127.0.0.1:1002")},
			"a b a a b a"},
		{"down skipped", []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002", down), srv("127.0.0.1:1003")},
			"a c a c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPool(t, NewRegistry(Options{}), &config.Upstream{Servers: tt.servers})
			n := len(tt.want)/2 + 1
			if got := join(pickSeq(t, p, n, PickKey{}, abcd)); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestIPHashPicks(t *testing.T) {
	// Expected peers worked out by hand from ngx_http_upstream_get_ip_hash_peer:
	// hash = 89; hash = (hash*113 + b) % 6271 over the first three octets.
	// 127.0.0.1: 89 → 3913 → 3199 → 4040; 4040 % 3 = 2 → c.
	// 10.0.0.1:  89 → 3796 → 2520 → 2565; 2565 % 3 = 0 → a.
	// 192.168.1.7 and 192.168.1.200 share the first three octets.
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Balance: config.BalanceIPHash,
		Servers: []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003")},
	})
	tests := []struct {
		ip   string
		want string
	}{
		{"127.0.0.1", "c"},
		{"127.0.0.77", "c"},
		{"10.0.0.1", "a"},
		{"::ffff:10.0.0.9", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			got := pickSeq(t, p, 3, PickKey{ClientIP: netip.MustParseAddr(tt.ip)}, abcd)
			for _, g := range got {
				if g != tt.want {
					t.Fatalf("got %v; want %s every time", got, tt.want)
				}
			}
		})
	}
	a := pickSeq(t, p, 1, PickKey{ClientIP: netip.MustParseAddr("192.168.1.7")}, abcd)
	b := pickSeq(t, p, 1, PickKey{ClientIP: netip.MustParseAddr("192.168.1.200")}, abcd)
	if a[0] != b[0] {
		t.Errorf("got %s and %s for one /24; want the same peer", a[0], b[0])
	}
}

func TestIPHashRetryContinuesHash(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Balance: config.BalanceIPHash,
		Servers: []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003")},
	})
	var tr Tried
	seen := map[string]bool{}
	for range 3 {
		l, err := p.Pick(PickKey{ClientIP: netip.MustParseAddr("127.0.0.1")}, &tr)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		if seen[l.Peer().Name] {
			t.Fatalf("got %s twice in one request; want each peer once", l.Peer().Name)
		}
		seen[l.Peer().Name] = true
		l.Done(FailError)
	}
	if _, err := p.Pick(PickKey{ClientIP: netip.MustParseAddr("127.0.0.1")}, &tr); !errors.Is(err, ErrNoLive) {
		t.Errorf("got %v after trying every peer; want ErrNoLive", err)
	}
}

func TestHashStableAndSpread(t *testing.T) {
	for _, consistent := range []bool{false, true} {
		t.Run(fmt.Sprint("consistent=", consistent), func(t *testing.T) {
			p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
				Balance: config.BalanceHash, HashKey: "$arg_k", HashConsistent: consistent,
				Servers: []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003"), srv("127.0.0.1:1004")},
			})
			count := map[string]int{}
			for i := range 400 {
				key := PickKey{Hash: fmt.Appendf(nil, "key-%d", i)}
				first := pickSeq(t, p, 3, key, abcd)
				if first[0] != first[1] || first[1] != first[2] {
					t.Fatalf("key-%d: got %v; want one peer", i, first)
				}
				count[first[0]]++
			}
			for _, n := range []string{"a", "b", "c", "d"} {
				if count[n] < 40 {
					t.Errorf("peer %s got %d of 400 keys; want a share near 100", n, count[n])
				}
			}
		})
	}
}

func TestConsistentHashRemovalMovesOnlyItsKeys(t *testing.T) {
	servers := []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003"), srv("127.0.0.1:1004")}
	full := buildPool(t, NewRegistry(Options{}), &config.Upstream{Balance: config.BalanceHash, HashKey: "$k", HashConsistent: true, Servers: servers})
	less := buildPool(t, NewRegistry(Options{}), &config.Upstream{Balance: config.BalanceHash, HashKey: "$k", HashConsistent: true,
		Servers: []config.UpstreamServer{servers[0], servers[1], servers[3]}})
	moved := 0
	for i := range 1000 {
		key := PickKey{Hash: fmt.Appendf(nil, "/item/%d", i)}
		before := pickSeq(t, full, 1, key, abcd)[0]
		after := pickSeq(t, less, 1, key, abcd)[0]
		if before != "c" && before != after {
			t.Errorf("key %d moved from %s to %s; want only c's keys to move", i, before, after)
		}
		if before == "c" {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("got no keys on c; want some (test is vacuous)")
	}
}

func TestSplitServer(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"127.0.0.1:8080", "127.0.0.1", "8080"},
		{"backend", "backend", ""},
		{"[::1]:80", "[::1]", "80"},
		{"unix:/run/a.sock", "/run/a.sock", ""},
		{"host:", "host", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, p := splitServer(tt.in)
			if h != tt.host || p != tt.port {
				t.Errorf("got %q %q; want %q %q", h, p, tt.host, tt.port)
			}
		})
	}
}

func TestLeastConnWithLeasesHeld(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Balance: config.BalanceLeastConn,
		Servers: []config.UpstreamServer{srv("127.0.0.1:1001", weight(2)), srv("127.0.0.1:1002"), srv("127.0.0.1:1003")},
	})
	// Ties go by smooth weighted round robin; with leases held, the peer
	// with the lowest conns/weight wins.
	var held []*Lease
	var got []string
	for range 8 {
		l, err := p.Pick(PickKey{}, nil)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		held = append(held, l)
		got = append(got, abcd[l.Peer().Name])
	}
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	if count["a"] != 4 || count["b"] != 2 || count["c"] != 2 {
		t.Errorf("got %v (%v); want a 4, b 2, c 2 with all leases held", got, count)
	}
	// Release b's leases: b is now least loaded and must win next.
	for i, l := range held {
		if got[i] == "b" {
			l.Done(Success)
		}
	}
	l, err := p.Pick(PickKey{}, nil)
	if err != nil || abcd[l.Peer().Name] != "b" {
		t.Fatalf("got %v %v; want b after its leases ended", l, err)
	}
}

func TestRandomTwoPrefersLessLoaded(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Balance: config.BalanceRandom, RandomTwo: true,
		Servers: []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
	})
	l, err := p.Pick(PickKey{}, nil)
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	busy := l.Peer().Name
	for range 50 {
		l2, err := p.Pick(PickKey{}, nil)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		if l2.Peer().Name == busy {
			t.Fatalf("got busy peer %s; want the idle one", busy)
		}
		l2.Done(Success)
	}
}

func TestRandomHonoursWeightsAndDown(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Balance: config.BalanceRandom,
		Servers: []config.UpstreamServer{srv("127.0.0.1:1001", weight(3)), srv("127.0.0.1:1002"), srv("127.0.0.1:1003", down)},
	})
	count := map[string]int{}
	for _, g := range pickSeq(t, p, 2000, PickKey{}, abcd) {
		count[g]++
	}
	if count["c"] != 0 || count["a"] < 1200 || count["b"] < 300 {
		t.Errorf("got %v; want about a 1500, b 500, c 0", count)
	}
}

func TestMaxFailsFailTimeout(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	p := buildPool(t, r, &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001", maxFails(2), failTimeout(10*time.Second)),
		srv("127.0.0.1:1002", maxFails(2), failTimeout(10*time.Second)),
	}})
	fail := func(name string) {
		t.Helper()
		for range 4 {
			l, err := p.Pick(PickKey{}, nil)
			if err != nil {
				t.Fatalf("Pick: %v", err)
			}
			if abcd[l.Peer().Name] == name {
				l.Done(FailError)
				return
			}
			l.Done(Success)
		}
		t.Fatalf("never picked %s", name)
	}
	fail("a")
	if s := p.Stats()[0]; s.Fails != 1 || s.Disabled {
		t.Fatalf("after one failure got fails=%d disabled=%v; want 1 false", s.Fails, s.Disabled)
	}
	fail("a")
	if s := p.Stats()[0]; s.Fails != 2 || !s.Disabled {
		t.Fatalf("after two failures got fails=%d disabled=%v; want 2 true", s.Fails, s.Disabled)
	}
	if got := join(pickSeq(t, p, 4, PickKey{}, abcd)); got != "b b b b" {
		t.Errorf("while disabled got %q; want b only", got)
	}
	// nginx: unavailable while now - checked <= fail_timeout (seconds).
	clk.Advance(10 * time.Second)
	if got := join(pickSeq(t, p, 2, PickKey{}, abcd)); got != "b b" {
		t.Errorf("at exactly fail_timeout got %q; want b only", got)
	}
	clk.Advance(1 * time.Second)
	seq := pickSeq(t, p, 4, PickKey{}, abcd)
	hasA := false
	for _, s := range seq {
		hasA = hasA || s == "a"
	}
	if !hasA {
		t.Fatalf("after fail_timeout got %v; want a back", seq)
	}
	if s := p.Stats()[0]; s.Fails != 0 {
		t.Errorf("after a success in a new window got fails=%d; want 0", s.Fails)
	}
}

func TestAllFailedIsNoLive(t *testing.T) {
	// nginx 1.22.1 has no "quick recovery" (removed in 1.11.5): when every
	// peer is failed, Pick reports no live upstreams until fail_timeout.
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	p := buildPool(t, r, &config.Upstream{Servers: []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")}})
	var tr Tried
	for range 2 {
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		l.Done(FailTimeout)
	}
	if tr.Left() != 0 {
		t.Errorf("got Left()=%d after both peers; want 0", tr.Left())
	}
	if _, err := p.Pick(PickKey{}, nil); !errors.Is(err, ErrNoLive) {
		t.Fatalf("got %v with all peers failed; want ErrNoLive", err)
	}
	clk.Advance(11 * time.Second)
	// Both come back with effective weight 0, regrowing by one per round:
	// current weights a=-1, b=1 left from the failed request make b win
	// twice (the same sequence nginx produces).
	if got := join(pickSeq(t, p, 4, PickKey{}, abcd)); got != "b b a b" {
		t.Errorf("after fail_timeout got %q; want %q", got, "b b a b")
	}
}

func TestSinglePeerNeverFails(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	p := buildPool(t, r, &config.Upstream{Servers: []config.UpstreamServer{srv("127.0.0.1:1001")}})
	for range 5 {
		var tr Tried
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			t.Fatalf("Pick after failures: %v; want the single peer", err)
		}
		l.Done(FailError)
		if tr.Left() != 0 {
			t.Fatalf("got Left()=%d after a single-peer failure; want 0 (no retry)", tr.Left())
		}
	}
	if s := p.Stats()[0]; s.Fails != 0 {
		t.Errorf("got fails=%d; want 0 for a single peer", s.Fails)
	}
}

func TestBackup(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	p := buildPool(t, r, &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003", backup), srv("127.0.0.1:1004", backup),
	}})
	if got := join(pickSeq(t, p, 4, PickKey{}, abcd)); got != "a b a b" {
		t.Errorf("with primaries live got %q; want %q", got, "a b a b")
	}
	var tr Tried
	var got []string
	for {
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			break
		}
		got = append(got, abcd[l.Peer().Name])
		l.Done(FailError)
	}
	if join(got) != "a b c d" {
		t.Errorf("one request retrying got %q; want %q", join(got), "a b c d")
	}
	if _, err := p.Pick(PickKey{}, nil); !errors.Is(err, ErrNoLive) {
		t.Errorf("with all four failed got %v; want ErrNoLive", err)
	}
	// Only the primaries failed: new requests go to the backups.
	p1 := buildPool(t, NewRegistry(Options{Now: clk.Now}), &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003", backup), srv("127.0.0.1:1004", backup),
	}})
	for range 2 {
		l, err := p1.Pick(PickKey{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		l.Done(FailError)
	}
	if got := join(pickSeq(t, p1, 4, PickKey{}, abcd)); got != "c d c d" {
		t.Errorf("with the primaries failed got %q; want %q", got, "c d c d")
	}
	p2 := buildPool(t, NewRegistry(Options{}), &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001", down), srv("127.0.0.1:1003", backup), srv("127.0.0.1:1004", backup),
	}})
	if got := join(pickSeq(t, p2, 4, PickKey{}, abcd)); got != "c d c d" {
		t.Errorf("with the primary down got %q; want %q", got, "c d c d")
	}
	if p2.Tries() != 2 {
		t.Errorf("got Tries()=%d; want 2 (down excluded)", p2.Tries())
	}
}

func TestMaxConns(t *testing.T) {
	tests := []struct {
		name    string
		servers []config.UpstreamServer
		want    string // peers of three picks with every lease held
	}{
		{"two peers", []config.UpstreamServer{srv("127.0.0.1:1001", maxConns(1)), srv("127.0.0.1:1002")}, "a b b"},
		{"single peer", []config.UpstreamServer{srv("127.0.0.1:1001", maxConns(2))}, "a a -"},
		{"least_conn", []config.UpstreamServer{srv("127.0.0.1:1001", maxConns(1)), srv("127.0.0.1:1002", maxConns(1))}, "a b -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &config.Upstream{Servers: tt.servers}
			if tt.name == "least_conn" {
				u.Balance = config.BalanceLeastConn
			}
			p := buildPool(t, NewRegistry(Options{}), u)
			var got []string
			for range 3 {
				l, err := p.Pick(PickKey{}, nil)
				if err != nil {
					got = append(got, "-")
					continue
				}
				got = append(got, abcd[l.Peer().Name])
			}
			if join(got) != tt.want {
				t.Errorf("got %q; want %q", join(got), tt.want)
			}
		})
	}
}

func TestTriedAcrossNextUpstream(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003"),
	}})
	var tr Tried
	seen := map[string]bool{}
	for i := range 3 {
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if seen[l.Peer().Name] {
			t.Fatalf("attempt %d got %s again; want untried peers only", i, l.Peer().Name)
		}
		seen[l.Peer().Name] = true
		l.Done(Next) // 403/404 retries are not failures
		if want := 2 - i; tr.Left() != want {
			t.Errorf("after attempt %d got Left()=%d; want %d", i, tr.Left(), want)
		}
	}
	for _, s := range p.Stats() {
		if s.Fails != 0 {
			t.Errorf("peer %s got fails=%d after Next outcomes; want 0", s.Peer.Name, s.Fails)
		}
	}
}

// TestRefund checks the try a failed cached connection gives back
// (ngx_http_upstream_next's u->peer.tries++): one more try left, the
// failed peer still tried and its failure still counted.
func TestRefund(t *testing.T) {
	tests := []struct {
		name     string
		servers  []config.UpstreamServer
		wantLeft int // after Done(FailError) and Refund
		next     string
		fails    int // the first peer's, after the failure
	}{
		{"single peer", []config.UpstreamServer{srv("127.0.0.1:1001")}, 1, "127.0.0.1:1001", 0},
		{"two peers", []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")}, 2, "127.0.0.1:1002", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPool(t, NewRegistry(Options{Now: newFakeClock().Now}), &config.Upstream{Servers: tt.servers})
			var tr Tried
			l, err := p.Pick(PickKey{}, &tr)
			if err != nil {
				t.Fatalf("Pick: %v", err)
			}
			l.Done(FailError)
			tr.Refund()
			if tr.Left() != tt.wantLeft {
				t.Errorf("got Left()=%d after Refund; want %d", tr.Left(), tt.wantLeft)
			}
			l, err = p.Pick(PickKey{}, &tr)
			if err != nil {
				t.Fatalf("Pick after Refund: %v", err)
			}
			if l.Peer().Name != tt.next {
				t.Errorf("got %s after Refund; want %s", l.Peer().Name, tt.next)
			}
			l.Done(Success)
			if s := p.Stats()[0]; s.Fails != tt.fails {
				t.Errorf("got fails=%d for the failed peer; want %d", s.Fails, tt.fails)
			}
		})
	}
}
