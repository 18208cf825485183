package server

import (
	"net"
	"testing"
)

// TestAddrNameSplit checks that addrName gives what net.SplitHostPort
// makes of the address's text, also when it reuses the previous texts.
func TestAddrNameSplit(t *testing.T) {
	var n addrName
	for _, tc := range []struct {
		name string
		addr *net.TCPAddr
	}{
		{"v4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}},
		{"v4 same", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}},
		{"v4 other port", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 80}},
		{"v4 other host", &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80}},
		{"v6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}},
		{"v6 zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth0"}},
		{"v6 other zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth1"}},
		{"v4 in v6", &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 8080}},
	} {
		wantHost, wantPort, err := net.SplitHostPort(tc.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		host, port := n.split(tc.addr)
		if host != wantHost || port != wantPort {
			t.Errorf("%s: got %q %q; want %q %q", tc.name, host, port, wantHost, wantPort)
		}
	}
}

// TestAddrNameReuses checks that a second split of the same address
// allocates nothing.
func TestAddrNameReuses(t *testing.T) {
	var n addrName
	a := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 12345}
	n.split(a)
	if allocs := testing.AllocsPerRun(100, func() { n.split(a) }); allocs != 0 {
		t.Errorf("got %v allocations per split; want 0", allocs)
	}
}
