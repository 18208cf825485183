package server

import (
	"net"
	"net/netip"
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

// TestAddrNameSplitAddrPort checks that a raw socket's address split
// from its netip.AddrPort reads as the same address split through a
// net.Addr, whichever of the two the previous connection used, and that
// a closed socket's empty address reads as split's of an empty TCPAddr.
func TestAddrNameSplitAddrPort(t *testing.T) {
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
		{"v4 in v6", &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 8080}},
		{"v4 after v4 in v6", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8080}},
	} {
		var ref addrName
		wantHost, wantPort := ref.split(tc.addr)
		ip, _ := netip.AddrFromSlice(tc.addr.IP)
		if tc.addr.IP.To4() == nil {
			ip = ip.WithZone(tc.addr.Zone)
		}
		ap := netip.AddrPortFrom(ip, uint16(tc.addr.Port))
		host, port := n.splitAddrPort(ap)
		if host != wantHost || port != wantPort {
			t.Errorf("%s: got %q %q; want %q %q", tc.name, host, port, wantHost, wantPort)
		}
		// The next connection's address through a net.Addr sees no text
		// of this one's.
		if host, port := n.split(tc.addr); host != wantHost || port != wantPort {
			t.Errorf("%s then split: got %q %q; want %q %q", tc.name, host, port, wantHost, wantPort)
		}
	}
	var ref addrName
	wantHost, wantPort := ref.split(&net.TCPAddr{})
	if host, port := n.splitAddrPort(netip.AddrPort{}); host != wantHost || port != wantPort {
		t.Errorf("empty address: got %q %q; want %q %q", host, port, wantHost, wantPort)
	}
	ap := netip.MustParseAddrPort("127.0.0.1:12345")
	n.splitAddrPort(ap)
	if allocs := testing.AllocsPerRun(100, func() { n.splitAddrPort(ap) }); allocs != 0 {
		t.Errorf("got %v allocations per splitAddrPort; want 0", allocs)
	}
}
