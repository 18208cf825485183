package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
)

func TestImplicitUpstream(t *testing.T) {
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host != "localhost" {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")}, nil
	}
	tests := []struct {
		name   string
		pp     config.ProxyPass
		key    string
		peers  []string
		single bool
	}{
		{"localhost expands v4 first", config.ProxyPass{Scheme: "http", Host: "localhost", Port: "8080"},
			"localhost:8080", []string{"127.0.0.1:8080", "[::1]:8080"}, false},
		{"literal", config.ProxyPass{Scheme: "http", Host: "127.0.0.1", Port: "3000"},
			"127.0.0.1:3000", []string{"127.0.0.1:3000"}, true},
		{"https default port", config.ProxyPass{Scheme: "https", Host: "[::1]"},
			"[::1]:443", []string{"[::1]:443"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry(Options{})
			set, err := r.Build(context.Background(), nil, []*config.ProxyPass{&tt.pp, &tt.pp}, resolve)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got := ImplicitKey(&tt.pp); got != tt.key {
				t.Errorf("got key %q; want %q", got, tt.key)
			}
			p := set.Pool(tt.key)
			if p == nil {
				t.Fatalf("got no pool %q; pools %v", tt.key, set.Pools())
			}
			var names []string
			for _, pe := range p.Peers() {
				names = append(names, pe.Name)
			}
			if join(names) != join(tt.peers) {
				t.Errorf("got peers %v; want %v", names, tt.peers)
			}
			var tr Tried
			l, err := p.Pick(PickKey{}, &tr)
			if err != nil {
				t.Fatalf("Pick: %v", err)
			}
			l.Done(FailError)
			if got := tr.Left() == 0; got != tt.single {
				t.Errorf("got Left()=%d after a failure; want no retry only for a single peer", tr.Left())
			}
		})
	}
	r := NewRegistry(Options{})
	_, err := r.Build(context.Background(), nil, []*config.ProxyPass{{Scheme: "http", Host: "nowhere", Port: "80"}}, resolve)
	if err == nil {
		t.Errorf("got nil error for an unresolvable host; want one")
	}
}

func TestBuildErrors(t *testing.T) {
	r := NewRegistry(Options{})
	_, err := r.Build(context.Background(), []*config.Upstream{
		{Name: "a", Servers: []config.UpstreamServer{srv("127.0.0.1:99999")}},
		{Name: "b", Servers: []config.UpstreamServer{srv("127.0.0.1:1", backup)}},
	}, nil, noResolve)
	if err == nil {
		t.Fatalf("got nil; want errors for a bad port and an upstream with only backups")
	}
	for _, want := range []string{"invalid port", "no servers in upstream \"b\""} {
		if !contains(err.Error(), want) {
			t.Errorf("got %q; want it to mention %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestReloadHandover(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	up := func(servers ...config.UpstreamServer) []*config.Upstream {
		return []*config.Upstream{{Name: "app", Servers: servers, Keepalive: 4, KeepaliveTimeout: time.Minute, KeepaliveRequests: 100}}
	}
	a := srv("127.0.0.1:1001", maxFails(3))
	b := srv("127.0.0.1:1002", maxFails(3))
	c := srv("127.0.0.1:1003", maxFails(3))
	set1, err := r.Build(context.Background(), up(a, b), nil, noResolve)
	if err != nil {
		t.Fatal(err)
	}
	r.Activate(set1)
	p1 := set1.Pool("app")

	// One failure on a; a lease held on b with an idle connection cached.
	var leaseB *Lease
	for leaseB == nil {
		l, err := p1.Pick(PickKey{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch abcd[l.Peer().Name] {
		case "a":
			if p1.Stats()[0].Fails == 0 {
				l.Done(FailError)
			} else {
				l.Done(Success)
			}
		case "b":
			leaseB = l
		}
	}
	idleB, far := net.Pipe()
	defer far.Close()
	if !leaseB.PutIdle(IdleConn{Conn: idleB, Requests: 1}) {
		t.Fatalf("PutIdle refused; want cached")
	}

	set2, err := r.Build(context.Background(), up(a, c), nil, noResolve)
	if err != nil {
		t.Fatal(err)
	}
	r.Activate(set2)
	p2 := set2.Pool("app")
	st := p2.Stats()
	if st[0].Peer.Name != "127.0.0.1:1001" || st[0].Fails != 1 {
		t.Errorf("kept peer a: got %+v; want fails 1 carried over", st[0])
	}
	// b is retired but its lease is in flight: its idle connection stays.
	if got := p1.Stats()[1]; got.Conns != 1 || got.Idle != 1 {
		t.Errorf("retired b with a lease: got conns=%d idle=%d; want 1 1", got.Conns, got.Idle)
	}
	leaseB.Done(Success)
	if got := p1.Stats()[1]; got.Conns != 0 || got.Idle != 0 {
		t.Errorf("retired b after its lease: got conns=%d idle=%d; want 0 0", got.Conns, got.Idle)
	}
	far.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := far.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("reading the far end of b's idle conn: got %v; want EOF (closed)", err)
	}
	// A lease held across the reload on a kept peer counts in both views.
	l, err := p2.Pick(PickKey{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := l.Peer().Name
	for _, s := range p1.Stats() {
		if s.Peer.Name == name && s.Conns != 1 {
			t.Errorf("old view of %s: got conns=%d; want 1 (shared state)", name, s.Conns)
		}
	}
	l.Done(Success)

	// Removing the pool retires all of it.
	set3, err := r.Build(context.Background(), nil, nil, noResolve)
	if err != nil {
		t.Fatal(err)
	}
	r.Activate(set3)
	if set3.Pool("app") != nil {
		t.Errorf("got pool app in an empty set; want none")
	}
}

func TestKeepaliveCache(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(Options{Now: clk.Now})
	p := buildPool(t, r, &config.Upstream{
		Servers:   []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
		Keepalive: 2, KeepaliveTimeout: 30 * time.Second, KeepaliveRequests: 3, KeepaliveTime: 50 * time.Second,
	})
	type pair struct{ near, far net.Conn }
	newPair := func() pair {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return pair{a, b}
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}
	lease := func(name string) *Lease {
		t.Helper()
		for range 4 {
			l, err := p.Pick(PickKey{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if abcd[l.Peer().Name] == name {
				return l
			}
			l.Done(Success)
		}
		t.Fatalf("never picked %s", name)
		return nil
	}

	t.Run("reuse most recent of the peer", func(t *testing.T) {
		la := lease("a")
		c1, c2 := newPair(), newPair()
		la.PutIdle(IdleConn{Conn: c1.near, Requests: 1})
		la.PutIdle(IdleConn{Conn: c2.near, Requests: 2})
		lb := lease("b")
		if _, ok := lb.TakeIdle(); ok {
			t.Errorf("b got a's connection; want none")
		}
		lb.Done(Success)
		ic, ok := la.TakeIdle()
		if !ok || ic.Conn != c2.near || ic.Requests != 2 {
			t.Errorf("got %v %v; want the most recent (requests 2)", ic, ok)
		}
		ic, ok = la.TakeIdle()
		if !ok || ic.Conn != c1.near {
			t.Errorf("got %v %v; want the older one", ic, ok)
		}
		la.Done(Success)
	})
	t.Run("LRU across the pool", func(t *testing.T) {
		la, lb := lease("a"), lease("b")
		c1, c2, c3 := newPair(), newPair(), newPair()
		la.PutIdle(IdleConn{Conn: c1.near})
		lb.PutIdle(IdleConn{Conn: c2.near})
		la.PutIdle(IdleConn{Conn: c3.near}) // evicts c1, the oldest
		if !closed(c1.far) {
			t.Errorf("oldest idle conn not closed on eviction")
		}
		if ic, ok := lb.TakeIdle(); !ok || ic.Conn != c2.near {
			t.Errorf("got %v %v; want b's conn kept", ic, ok)
		}
		if ic, ok := la.TakeIdle(); !ok || ic.Conn != c3.near {
			t.Errorf("got %v %v; want a's newest conn", ic, ok)
		}
		la.Done(Success)
		lb.Done(Success)
	})
	t.Run("keepalive_requests", func(t *testing.T) {
		la := lease("a")
		c := newPair()
		if la.PutIdle(IdleConn{Conn: c.near, Requests: 3}) {
			t.Errorf("cached a conn at keepalive_requests; want it closed")
		}
		if !closed(c.far) {
			t.Errorf("conn at keepalive_requests not closed")
		}
		la.Done(Success)
	})
	t.Run("keepalive_timeout", func(t *testing.T) {
		la := lease("a")
		c := newPair()
		la.PutIdle(IdleConn{Conn: c.near})
		clk.Advance(30 * time.Second)
		if _, ok := la.TakeIdle(); ok {
			t.Errorf("got a conn idle for keepalive_timeout; want none")
		}
		if !closed(c.far) {
			t.Errorf("expired conn not closed")
		}
		la.Done(Success)
	})
	t.Run("keepalive_time", func(t *testing.T) {
		la := lease("a")
		young, old := newPair(), newPair()
		la.PutIdle(IdleConn{Conn: old.near, Dialed: clk.Now().Add(-51 * time.Second)})
		la.PutIdle(IdleConn{Conn: young.near, Dialed: clk.Now().Add(-49 * time.Second)})
		ic, ok := la.TakeIdle()
		if !ok || ic.Conn != young.near {
			t.Errorf("got %v %v; want the connection younger than keepalive_time", ic, ok)
		}
		if ic, ok := la.TakeIdle(); ok {
			t.Errorf("got %v; want the one older than keepalive_time closed, not reused", ic)
		}
		la.Done(Success)
	})
}

func TestKeepaliveTimerAndPeerClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() (net.Conn, net.Conn) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s := <-accepted
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, s
	}
	r := NewRegistry(Options{})
	p := buildPool(t, r, &config.Upstream{
		Servers:   []config.UpstreamServer{{Addr: ln.Addr().String(), Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second}},
		Keepalive: 4, KeepaliveTimeout: 100 * time.Millisecond, KeepaliveRequests: 100,
	})
	l, err := p.Pick(PickKey{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Done(Success)

	t.Run("closed by peer", func(t *testing.T) {
		c, s := dial()
		l.PutIdle(IdleConn{Conn: c})
		s.Close()
		proxytest.Eventually(t, 5*time.Second, func() bool {
			ic, ok := l.TakeIdle()
			if !ok {
				return true // the FIN was seen and the conn dropped
			}
			l.PutIdle(ic)
			return false
		}, "still reusing a conn the peer closed")
	})
	t.Run("live conn reused", func(t *testing.T) {
		c, _ := dial()
		l.PutIdle(IdleConn{Conn: c})
		if ic, ok := l.TakeIdle(); !ok || ic.Conn != c {
			t.Errorf("got %v %v; want the live conn back", ic, ok)
		}
	})
	t.Run("timer closes after keepalive_timeout", func(t *testing.T) {
		c, s := dial()
		l.PutIdle(IdleConn{Conn: c})
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := s.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("server side read got %v; want EOF once the idle conn expired", err)
		}
		if _, ok := l.TakeIdle(); ok {
			t.Errorf("got an expired conn back; want none")
		}
	})
	t.Run("one timer closes connections cached at different times", func(t *testing.T) {
		c1, s1 := dial()
		c2, s2 := dial()
		c3, s3 := dial()
		l.PutIdle(IdleConn{Conn: c1})
		// The wait is the case: c2 is cached 50 ms after c1, and the
		// one timer must still close each at its own expiry.
		time.Sleep(50 * time.Millisecond)
		l.PutIdle(IdleConn{Conn: c2})
		// c3 is taken back before it expires and stays open.
		l.PutIdle(IdleConn{Conn: c3})
		if ic, ok := l.TakeIdle(); !ok || ic.Conn != c3 {
			t.Fatalf("got %v %v; want c3 back", ic.Conn, ok)
		}
		for i, s := range []net.Conn{s1, s2} {
			s.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := s.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("server side of c%d: got %v; want EOF once it expired", i+1, err)
			}
		}
		s3.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := s3.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("server side of the taken c3: got %v; want it open (deadline exceeded)", err)
		}
	})
}

// TestDuplicateServerLines checks that every server line is a peer of its
// own, as ngx_http_upstream_init_round_robin makes one per line and
// address: identical lines give a request one try each, fail separately,
// and keep their states apart across reloads.
func TestDuplicateServerLines(t *testing.T) {
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "twice" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")}, nil
		}
		return nil, errors.New("no such host")
	}
	tests := []struct {
		name    string
		servers []config.UpstreamServer
		peers   string // Peers names
		tries   int
		// seq is the peer names one request tries when every try fails
		seq string
	}{
		{"identical lines", []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
			"127.0.0.1:1001 127.0.0.1:1001 127.0.0.1:1002", 3, "127.0.0.1:1001 127.0.0.1:1001 127.0.0.1:1002"},
		{"name and literal of one address", []config.UpstreamServer{srv("twice:1001"), srv("127.0.0.1:1001")},
			"127.0.0.1:1001 127.0.0.2:1001 127.0.0.1:1001", 3, "127.0.0.1:1001 127.0.0.2:1001 127.0.0.1:1001"},
		{"two lines only", []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1001")},
			"127.0.0.1:1001 127.0.0.1:1001", 2, "127.0.0.1:1001 127.0.0.1:1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry(Options{Now: newFakeClock().Now, Logger: discardLogger()})
			set, err := r.Build(context.Background(), []*config.Upstream{{Name: "app", Servers: tt.servers}}, nil, resolve)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			r.Activate(set)
			p := set.Pool("app")
			var names []string
			for _, pe := range p.Peers() {
				names = append(names, pe.Name)
			}
			if join(names) != tt.peers {
				t.Errorf("got peers %q; want %q", join(names), tt.peers)
			}
			if p.Tries() != tt.tries {
				t.Errorf("got Tries()=%d; want %d", p.Tries(), tt.tries)
			}
			var tr Tried
			var seq []string
			for range 10 {
				l, err := p.Pick(PickKey{}, &tr)
				if err != nil {
					break
				}
				seq = append(seq, l.Peer().Name)
				l.Done(FailError)
				if tr.Left() == 0 {
					break
				}
			}
			if join(seq) != tt.seq {
				t.Errorf("got tries %q; want %q", join(seq), tt.seq)
			}
			for i, s := range p.Stats() {
				if s.Fails != 1 || !s.Disabled {
					t.Errorf("peer %d %s: got fails=%d disabled=%v; want 1 true (its own failure)", i, s.Peer.Name, s.Fails, s.Disabled)
				}
			}
		})
	}

	t.Run("reload keeps each line's state", func(t *testing.T) {
		r := NewRegistry(Options{Now: newFakeClock().Now, Logger: discardLogger()})
		build := func(servers ...config.UpstreamServer) *Pool {
			t.Helper()
			set, err := r.Build(context.Background(), []*config.Upstream{{Name: "app", Servers: servers}}, nil, noResolve)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			r.Activate(set)
			return set.Pool("app")
		}
		a, b := srv("127.0.0.1:1001", maxFails(5)), srv("127.0.0.1:1002", maxFails(5))
		p1 := build(a, b, a)
		// Fail the second line of a (peer 2) twice, the first once.
		var tr Tried
		fails := map[int]int{0: 1, 2: 2}
		for range 20 {
			tr.Reset()
			l, err := p1.Pick(PickKey{}, &tr)
			if err != nil {
				t.Fatal(err)
			}
			idx := -1
			for i := range p1.primary.members {
				if &p1.primary.members[i] == l.m {
					idx = i
				}
			}
			if fails[idx] > 0 {
				fails[idx]--
				l.Done(FailError)
				continue
			}
			l.Done(Next)
		}
		if fails[0]+fails[2] != 0 {
			t.Fatalf("could not fail the lines as planned: %v left", fails)
		}
		failsOf := func(p *Pool) string {
			var out []string
			for _, s := range p.Stats() {
				out = append(out, fmt.Sprintf("%s=%d", abcd[s.Peer.Name], s.Fails))
			}
			return join(out)
		}
		if got, want := failsOf(p1), "a=1 b=0 a=2"; got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
		// The same lines again, the b line moved: the n-th a keeps the
		// n-th a's state.
		if got, want := failsOf(build(a, a, b)), "a=1 a=2 b=0"; got != want {
			t.Errorf("after reload with the same lines got %q; want %q", got, want)
		}
		// One a line fewer: the first stays, the second is retired.
		if got, want := failsOf(build(b, a)), "b=0 a=1"; got != want {
			t.Errorf("after dropping a line got %q; want %q", got, want)
		}
		// Added back, it starts afresh.
		if got, want := failsOf(build(b, a, a)), "b=0 a=1 a=0"; got != want {
			t.Errorf("after adding the line back got %q; want %q", got, want)
		}
	})

	t.Run("identical lines share idle connections", func(t *testing.T) {
		// nginx's keepalive cache matches on the peer's sockaddr
		// (ngx_http_upstream_get_keepalive_peer), not on the peer.
		r := NewRegistry(Options{})
		p := buildPool(t, r, &config.Upstream{
			Servers:   []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
			Keepalive: 4, KeepaliveTimeout: time.Minute, KeepaliveRequests: 100,
		})
		var t0, t1 Tried
		l0, err := p.Pick(PickKey{}, &t0)
		if err != nil {
			t.Fatal(err)
		}
		l1, err := p.Pick(PickKey{}, &t1)
		if err != nil {
			t.Fatal(err)
		}
		if l0.m == l1.m || l0.Peer().Name != l1.Peer().Name {
			t.Fatalf("got peers %s and %s; want the two lines of 127.0.0.1:1001", l0.Peer().Name, l1.Peer().Name)
		}
		c, _ := loopbackPair(t)
		if !l0.PutIdle(IdleConn{Conn: c, Requests: 1}) {
			t.Fatal("PutIdle refused")
		}
		if st := p.Stats(); st[0].Idle != 1 || st[1].Idle != 0 {
			t.Errorf("got idle %d %d; want 1 0 (counted for the line that cached it)", st[0].Idle, st[1].Idle)
		}
		if ic, ok := l1.TakeIdle(); !ok || ic.Conn != c {
			t.Errorf("second line got %v %v; want the first line's connection", ic.Conn, ok)
		}
		l0.Done(Success)
		l1.Done(Success)
	})
}

// TestKeepaliveAllocs pins the keep-alive path: once a connection has been
// cached, putting it back and taking it again allocate nothing, also when
// the caller wraps it in a fresh IdleConn as the proxy does.
func TestKeepaliveAllocs(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{
		Servers:   []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
		Keepalive: 8, KeepaliveTimeout: time.Minute, KeepaliveRequests: 1 << 30,
	})
	var tr Tried
	for range 2 {
		tr.Reset()
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := loopbackPair(t)
		l.PutIdle(IdleConn{Conn: c, Dialed: time.Now()})
		l.Done(Success)
	}
	var failed string
	allocs := testing.AllocsPerRun(200, func() {
		tr.Reset()
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			failed = err.Error()
			return
		}
		ic, ok := l.TakeIdle()
		if !ok {
			failed = "no idle connection for " + l.Peer().Name
			l.Done(Success)
			return
		}
		// As the proxy does: the IdleConn it took, one request more.
		ic.Requests++
		l.PutIdle(ic)
		l.Done(Success)
	})
	if failed != "" {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("got %v allocations per pick, take, put and done; want 0", allocs)
	}
}
