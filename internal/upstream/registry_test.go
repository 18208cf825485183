package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"wsgate/internal/config"
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
		Keepalive: 2, KeepaliveTimeout: 30 * time.Second, KeepaliveRequests: 3,
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
		deadline := time.Now().Add(5 * time.Second)
		for {
			ic, ok := l.TakeIdle()
			if !ok {
				break // the FIN was seen and the conn dropped
			}
			if time.Now().After(deadline) {
				t.Fatalf("still reusing a conn the peer closed")
			}
			l.PutIdle(ic)
			time.Sleep(10 * time.Millisecond)
		}
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
}
