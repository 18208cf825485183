package access

import (
	"net/netip"
	"testing"

	"wsgate/internal/config"
)

// TestRulesDecide pins ngx_http_access_handler's decision: the first
// matching rule decides, no match declines, IPv4-mapped clients meet the
// IPv4 rules, unix: matches only UNIX-domain clients.
func TestRulesDecide(t *testing.T) {
	allow := func(cidr string) config.AccessRule { return config.AccessRule{CIDR: cidr} }
	deny := func(cidr string) config.AccessRule { return config.AccessRule{Deny: true, CIDR: cidr} }
	denyAll := config.AccessRule{Deny: true, All: true}
	tests := []struct {
		name   string
		rules  []config.AccessRule
		client string // "unix" for a UNIX-domain client
		want   Decision
	}{
		{"no rules", nil, "10.0.0.1", Declined},
		{"deny all", []config.AccessRule{denyAll}, "10.0.0.1", Forbidden},
		{"allow first", []config.AccessRule{allow("10.0.0.0/8"), denyAll}, "10.2.3.4", Allowed},
		{"allow misses", []config.AccessRule{allow("10.0.0.0/8"), denyAll}, "11.2.3.4", Forbidden},
		{"first match wins", []config.AccessRule{deny("10.0.0.1/32"), allow("10.0.0.0/8")}, "10.0.0.1", Forbidden},
		{"no match declines", []config.AccessRule{deny("10.0.0.0/8")}, "192.168.0.1", Declined},
		{"allow all", []config.AccessRule{{All: true}, denyAll}, "::1", Allowed},
		{"allow v6", []config.AccessRule{allow("2001:db8::/32"), denyAll}, "2001:db8::1", Allowed},
		{"v6 rule v4 client", []config.AccessRule{deny("::/0")}, "127.0.0.1", Declined},
		{"v4 rule v6 client", []config.AccessRule{deny("0.0.0.0/0")}, "::1", Declined},
		{"v6", []config.AccessRule{deny("2001:db8::/32")}, "2001:db8::5", Forbidden},
		{"mapped", []config.AccessRule{deny("127.0.0.0/8")}, "::ffff:127.0.0.1", Forbidden},
		{"zone", []config.AccessRule{deny("fe80::/10")}, "fe80::1%eth0", Forbidden},
		{"unix rule tcp client", []config.AccessRule{{Deny: true, Unix: true}}, "127.0.0.1", Declined},
		{"unix rule", []config.AccessRule{{Deny: true, Unix: true}}, "unix", Forbidden},
		{"unix client ip rule", []config.AccessRule{deny("0.0.0.0/0"), deny("::/0")}, "unix", Declined},
		{"unix client all", []config.AccessRule{denyAll}, "unix", Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := CompileRules(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			var addr netip.Addr
			unix := tt.client == "unix"
			if !unix {
				addr = netip.MustParseAddr(tt.client)
			}
			if got := rs.Decide(addr, unix); got != tt.want {
				t.Errorf("Decide(%s) = %v; want %v", tt.client, got, tt.want)
			}
		})
	}
}

func TestRulesDecideNoAlloc(t *testing.T) {
	rs, err := CompileRules([]config.AccessRule{{CIDR: "10.0.0.0/8"}, {Deny: true, All: true}})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("192.168.0.1")
	if n := testing.AllocsPerRun(100, func() { rs.Decide(addr, false) }); n != 0 {
		t.Errorf("got %v allocations; want 0", n)
	}
}
