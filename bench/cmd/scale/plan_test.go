package main

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		desc     string
		n, parts int
		want     []int
	}{
		{"100,000 over 7 client processes", 100000, 7, []int{14286, 14286, 14286, 14286, 14286, 14285, 14285}},
		{"the remainder goes first", 10, 3, []int{4, 3, 3}},
		{"even", 9, 3, []int{3, 3, 3}},
		{"fewer than parts", 2, 3, []int{1, 1, 0}},
		{"no parts is one", 5, 0, []int{5}},
	}
	for _, tt := range tests {
		if got := split(tt.n, tt.parts); !slices.Equal(got, tt.want) {
			t.Errorf("%s: split(%d, %d) = %v; want %v", tt.desc, tt.n, tt.parts, got, tt.want)
		}
	}
}

func TestCapacity(t *testing.T) {
	tests := []struct {
		desc  string
		procs int
		limit uint64
		per   int
		want  int
	}{
		{"one process, two sockets a tunnel", 1, 20000, 2, 9900},
		{"one process, one socket a connection", 1, 20000, 1, 19800},
		{"11 processes: 11 × 9,900 × 0.95, the kernel spreads unevenly", 11, 20000, 2, 103455},
		{"3 processes, one socket a connection", 3, 20000, 1, 56430},
		{"a limit below the reserve", 1, 100, 2, 0},
	}
	for _, tt := range tests {
		if got := capacity(tt.procs, tt.limit, tt.per); got != tt.want {
			t.Errorf("%s: capacity(%d, %d, %d) = %d; want %d", tt.desc, tt.procs, tt.limit, tt.per, got, tt.want)
		}
	}
}

func TestMakePlan(t *testing.T) {
	tests := []struct {
		desc            string
		conns, procs    int
		limit           uint64
		clientMax       int
		proxies, echoes int
		clients         []int
	}{
		{"one process as before", 9900, 1, 20000, 16000, 1, 1, []int{9900}},
		{"procs 0 is one", 5000, 0, 20000, 16000, 1, 1, []int{5000}},
		{"100,000 over 12", 100000, 12, 20000, 16000, 12, 6, []int{14286, 14286, 14286, 14286, 14286, 14285, 14285}},
		{"few connections, several proxies", 1000, 4, 20000, 16000, 4, 1, []int{1000}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			p := makePlan(tt.conns, tt.procs, tt.limit, tt.clientMax)
			if p.proxies != tt.proxies || p.echoes != tt.echoes || !slices.Equal(p.clients, tt.clients) {
				t.Errorf("got %+v; want proxies %d, echoes %d, clients %v", p, tt.proxies, tt.echoes, tt.clients)
			}
			sum := 0
			for _, n := range p.clients {
				sum += n
				if n > tt.clientMax {
					t.Errorf("a client process opens %d; want at most %d", n, tt.clientMax)
				}
			}
			if sum != tt.conns {
				t.Errorf("client processes open %d in all; want %d", sum, tt.conns)
			}
		})
	}
}
