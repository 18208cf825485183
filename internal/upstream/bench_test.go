package upstream

import (
	"fmt"
	"testing"

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
