package geo

import (
	"net/netip"
	"testing"
)

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in   string
		want string
		low  bool
		ok   bool
	}{
		{"10.0.0.0/8", "10.0.0.0/8", false, true},
		{"10.1.2.3/8", "10.0.0.0/8", true, true},
		{"10.1.2.3", "10.1.2.3/32", false, true},
		{"010.0.0.1", "10.0.0.1/32", false, true},
		{"1..2.3", "1.0.2.3/32", false, true},
		{"255.255.255.255", "255.255.255.255/32", false, true},
		{"0.0.0.0/0", "0.0.0.0/0", false, true},
		{"2001:db8::/32", "2001:db8::/32", false, true},
		{"2001:db8::1/32", "2001:db8::/32", true, true},
		{"10.0.0.0/33", "", false, false},
		{"10.0.0.0/", "", false, false},
		{"10.0.0.256", "", false, false},
		{"10.0.0", "", false, false},
		{"example", "", false, false},
		{"255.255.255.255/32", "", false, false},
	}
	for _, tt := range tests {
		p, low, ok := ParseCIDR(tt.in)
		if ok != tt.ok || ok && (p.String() != tt.want || low != tt.low) {
			t.Errorf("ParseCIDR(%q) = %v, %v, %v; want %s, %v, %v", tt.in, p, low, ok, tt.want, tt.low, tt.ok)
		}
	}
}

// TestRanges replays geo.t's range blocks (ngx_http_geo_add_range's
// insert, split and shift cases, and delete).
func TestRanges(t *testing.T) {
	type line struct {
		net, v string // v "" deletes
	}
	tests := []struct {
		name  string
		lines []line
		addr  string
		want  string
	}{
		{"before", []line{{"127.0.0.1-127.0.0.255", "loopback"}, {"127.0.0.0-127.0.0.0", "test"}}, "127.0.0.1", "loopback"},
		{"after", []line{{"127.0.0.0-127.0.0.1", "loopback"}, {"127.0.0.2-127.0.0.255", "test"}}, "127.0.0.1", "loopback"},
		{"insert", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.1-127.0.0.2", "test2"}, {"127.0.0.1-127.0.0.1", "loopback"}}, "127.0.0.1", "loopback"},
		{"insert inner rest", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.1-127.0.0.2", "test2"}, {"127.0.0.1-127.0.0.1", "loopback"}}, "127.0.0.2", "test2"},
		{"insert before", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.0-127.0.0.1", "loopback"}}, "127.0.0.1", "loopback"},
		{"insert after", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.1-127.0.0.255", "loopback"}}, "127.0.0.1", "loopback"},
		{"insert after keeps head", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.1-127.0.0.255", "loopback"}}, "127.0.0.0", "test"},
		{"delete", []line{{"127.0.0.0-127.0.0.255", "test"}, {"127.0.0.1-127.0.0.1", "loopback"}, {"127.0.0.0-127.0.0.0", ""}, {"127.0.0.2-127.0.0.255", ""}, {"127.0.0.1-127.0.0.1", ""}}, "127.0.0.1", "default"},
		{"delete two /16", []line{{"127.0.0.0-127.1.0.0", "loopback"}, {"127.0.0.0-127.1.0.0", ""}}, "127.1.0.0", "default"},
		{"two /16 second", []line{{"10.10.3.0-10.11.2.255", "foo"}, {"10.12.3.0-10.13.2.255", "foo2"}}, "10.13.2.1", "foo2"},
		{"delete first of two", []line{{"10.10.3.0-10.11.2.255", "foo"}, {"10.12.3.0-10.13.2.255", "foo2"}, {"10.10.3.0-10.11.2.255", ""}}, "10.11.2.1", "default"},
		{"top /16", []line{{"255.255.0.0-255.255.255.254", "top"}}, "255.255.255.254", "top"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := NewTable(true)
			tab.SetDefault("default")
			for _, l := range tt.lines {
				s, e, ok := ParseRange(l.net)
				if !ok {
					t.Fatalf("ParseRange(%q) failed", l.net)
				}
				if l.v == "" {
					tab.DeleteRange(s, e)
					continue
				}
				if _, err := tab.AddRange(l.net, s, e, l.v); err != nil {
					t.Fatal(err)
				}
			}
			if got := tab.Lookup(netip.MustParseAddr(tt.addr), true); got != tt.want {
				t.Errorf("Lookup(%s) = %q; want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestRangeOverlap(t *testing.T) {
	tab := NewTable(true)
	s, e, _ := ParseRange("10.0.0.0-10.0.0.10")
	if _, err := tab.AddRange("a", s, e, "a"); err != nil {
		t.Fatal(err)
	}
	s, e, _ = ParseRange("10.0.0.5-10.0.0.20")
	_, err := tab.AddRange("10.0.0.5-10.0.0.20", s, e, "b")
	want := `range "10.0.0.5-10.0.0.20" overlaps "10.0.0.0-10.0.0.10"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v; want %s", err, want)
	}
}

func TestCIDRLookup(t *testing.T) {
	tab := NewTable(false)
	for _, l := range []struct{ net, v string }{
		{"10.0.0.0/8", "ten"}, {"10.1.0.0/16", "ten-one"}, {"2001:db8::/32", "v6"}, {"255.255.255.255", "none"},
	} {
		p, _, _ := ParseCIDR(l.net)
		tab.Add(p, l.v)
	}
	tests := []struct {
		addr string
		ok   bool
		want string
	}{
		{"10.2.0.1", true, "ten"},
		{"10.1.0.1", true, "ten-one"},
		{"::ffff:10.1.0.1", true, "ten-one"},
		{"2001:db8::5", true, "v6"},
		{"192.0.2.1", true, ""},
		{"", false, "none"},
	}
	for _, tt := range tests {
		var a netip.Addr
		if tt.ok {
			a = netip.MustParseAddr(tt.addr)
		}
		if got := tab.Lookup(a, tt.ok); got != tt.want {
			t.Errorf("Lookup(%q) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

// TestMurmurHash2 pins ngx_murmur_hash2's values (computed with nginx's C
// code) and split_clients' percentages.
func TestMurmurHash2(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0},
		{"a", 0x92685f5e},
		{"ab", 0x1aa14063},
		{"abc", 0x13577c9b},
		{"abcd", 0x26873021},
		{"127.0.0.1AAA", 0xb5fc5e4b},
		{"hello, world", 0x4b4c9d80},
	}
	for _, tt := range tests {
		if got := MurmurHash2([]byte(tt.in)); got != tt.want {
			t.Errorf("MurmurHash2(%q) = %#x; want %#x", tt.in, got, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		percents []string
		err      bool
	}{
		{[]string{"50%", "50%"}, false},
		{[]string{"50%", "50.01%"}, true},
		{[]string{"*", "1%"}, true},
		{[]string{"99.99%", "*"}, false},
	}
	for _, tt := range tests {
		var ps []uint32
		var vs []string
		for _, p := range tt.percents {
			n := uint32(0)
			if p != "*" {
				var ok bool
				if n, ok = ParsePercent(p); !ok {
					t.Fatalf("ParsePercent(%q) failed", p)
				}
			}
			ps, vs = append(ps, n), append(vs, p)
		}
		if _, err := NewSplit(ps, vs); (err != nil) != tt.err {
			t.Errorf("NewSplit(%v) error %v; want error %v", tt.percents, err, tt.err)
		}
	}
	for _, bad := range []string{"0%", "1.234%", "x%", "1", "%", "1..2%"} {
		if _, ok := ParsePercent(bad); ok {
			t.Errorf("ParsePercent(%q) accepted", bad)
		}
	}
	// The hash of "127.0.0.1AAA" is 0xb5fc5e4b, 71.1% of the range.
	sp, _ := NewSplit([]uint32{7000, 200, 0}, []string{"a", "b", "c"})
	if got := sp.Pick([]byte("127.0.0.1AAA")); got != "b" {
		t.Errorf("Pick = %q; want b", got)
	}
}
