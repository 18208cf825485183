package upstream

import (
	"fmt"
	"net"
	"testing"
	"time"

	"wsgate/internal/config"
)

func BenchmarkPickRoundRobin4(b *testing.B) {
	p := buildPool(b, NewRegistry(Options{}), &config.Upstream{Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001", weight(3)), srv("127.0.0.1:1002"), srv("127.0.0.1:1003"), srv("127.0.0.1:1004", weight(2)),
	}})
	var tr Tried
	b.ReportAllocs()
	for b.Loop() {
		tr.Reset()
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			b.Fatal(err)
		}
		l.Done(Success)
	}
}

func BenchmarkPickConsistentHash10(b *testing.B) {
	var servers []config.UpstreamServer
	for i := range 10 {
		servers = append(servers, srv(fmt.Sprintf("127.0.0.1:%d", 2000+i)))
	}
	p := buildPool(b, NewRegistry(Options{}), &config.Upstream{Balance: config.BalanceHash, HashKey: "$k", HashConsistent: true, Servers: servers})
	keys := make([]PickKey, 256)
	for i := range keys {
		keys[i] = PickKey{Hash: fmt.Appendf(nil, "/room/%d", i)}
	}
	var tr Tried
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		tr.Reset()
		l, err := p.Pick(keys[i%len(keys)], &tr)
		if err != nil {
			b.Fatal(err)
		}
		l.Done(Success)
		i++
	}
}

func TestConcurrentPicksBalanceConns(t *testing.T) {
	p := buildPool(t, NewRegistry(Options{}), &config.Upstream{Balance: config.BalanceLeastConn, Servers: []config.UpstreamServer{
		srv("127.0.0.1:1001"), srv("127.0.0.1:1002"), srv("127.0.0.1:1003"),
	}})
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			var tr Tried
			for range 500 {
				tr.Reset()
				l, err := p.Pick(PickKey{}, &tr)
				if err != nil {
					t.Error(err)
					return
				}
				l.Done(Success)
			}
		}()
	}
	for range 8 {
		<-done
	}
	for _, s := range p.Stats() {
		if s.Conns != 0 {
			t.Errorf("peer %s: got conns=%d after all leases ended; want 0", s.Peer.Name, s.Conns)
		}
	}
}

// loopbackPair returns both ends of a loopback TCP connection, closed when
// tb ends.
func loopbackPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		tb.Fatal("accepting a loopback connection failed")
	}
	tb.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// BenchmarkKeepaliveRequest is the upstream side of one keep-alive
// request: pick a peer, take its idle connection (with the liveness
// check), put it back, end the lease.
func BenchmarkKeepaliveRequest(b *testing.B) {
	p := buildPool(b, NewRegistry(Options{}), &config.Upstream{
		Servers:   []config.UpstreamServer{srv("127.0.0.1:1001"), srv("127.0.0.1:1002")},
		Keepalive: 16, KeepaliveTimeout: time.Minute, KeepaliveRequests: 1 << 30,
	})
	var tr Tried
	conns := map[string]net.Conn{}
	for range 2 {
		tr.Reset()
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := loopbackPair(b)
		conns[l.Peer().Name] = c
		l.PutIdle(IdleConn{Conn: c, Dialed: time.Now()})
		l.Done(Success)
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.Reset()
		l, err := p.Pick(PickKey{}, &tr)
		if err != nil {
			b.Fatal(err)
		}
		ic, ok := l.TakeIdle()
		if !ok {
			b.Fatal("no idle connection")
		}
		// As the proxy does: the IdleConn it took, one request more.
		ic.Requests++
		if !l.PutIdle(ic) {
			b.Fatal("PutIdle refused")
		}
		l.Done(Success)
	}
}

// BenchmarkKeepalivePutTake is putting and taking one idle connection.
func BenchmarkKeepalivePutTake(b *testing.B) {
	p := buildPool(b, NewRegistry(Options{}), &config.Upstream{
		Servers:   []config.UpstreamServer{srv("127.0.0.1:1001")},
		Keepalive: 16, KeepaliveTimeout: time.Minute, KeepaliveRequests: 1 << 30,
	})
	l, err := p.Pick(PickKey{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Done(Success)
	c, _ := loopbackPair(b)
	ic := IdleConn{Conn: c, Dialed: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if !l.PutIdle(ic) {
			b.Fatal("PutIdle refused")
		}
		var ok bool
		if ic, ok = l.TakeIdle(); !ok {
			b.Fatal("no idle connection")
		}
	}
}
