package upstream

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"wsgate/internal/dns"
)

// TestServiceSpecs: the peers a service line gets from an SRV answer, as
// ngx_http_upstream_zone_resolve_handler makes them: priorities to
// primary and backup peers, weights from the records unless the line sets
// one, the records' ports and targets, equal records kept twice.
func TestServiceSpecs(t *testing.T) {
	ip := netip.MustParseAddr
	answer := dns.SRVAnswer{Targets: []dns.SRVTarget{
		{SRVRecord: dns.SRVRecord{Target: "c.test", Port: 8003, Priority: 2, Weight: 1}, Addrs: []netip.Addr{ip("127.0.0.4")}},
		{SRVRecord: dns.SRVRecord{Target: "b.test", Port: 8002, Priority: 1, Weight: 2}, Addrs: []netip.Addr{ip("::1"), ip("127.0.0.3")}},
		{SRVRecord: dns.SRVRecord{Target: "a.test", Port: 8001, Priority: 1, Weight: 7}, Addrs: []netip.Addr{ip("127.0.0.2")}},
		{SRVRecord: dns.SRVRecord{Target: "a.test", Port: 8001, Priority: 1, Weight: 7}, Addrs: []netip.Addr{ip("127.0.0.2")}},
		{SRVRecord: dns.SRVRecord{Target: "nx.test", Port: 8009, Priority: 1, Weight: 1}, Err: &dns.Error{Name: "nx.test", Code: dns.NXDomain}},
	}}
	text := func(specs []memberSpec) []string {
		var out []string
		for _, s := range specs {
			b := ""
			if s.backup {
				b = " backup"
			}
			out = append(out, fmt.Sprintf("%s %s w%d%s", s.addr.name, s.server, s.weight, b))
		}
		return out
	}
	tests := []struct {
		name    string
		tmpl    memberSpec
		backups bool
		want    []string
	}{
		{name: "round robin", tmpl: memberSpec{weight: 1}, backups: true, want: []string{
			"127.0.0.2:8001 a.test w7", "127.0.0.2:8001 a.test w7",
			"127.0.0.3:8002 b.test w2", "[::1]:8002 b.test w2",
			"127.0.0.4:8003 c.test w1 backup"}},
		{name: "the line's weight", tmpl: memberSpec{weight: 3}, backups: true, want: []string{
			"127.0.0.2:8001 a.test w3", "127.0.0.2:8001 a.test w3",
			"127.0.0.3:8002 b.test w3", "[::1]:8002 b.test w3",
			"127.0.0.4:8003 c.test w3 backup"}},
		{name: "a method without backups", tmpl: memberSpec{weight: 1}, want: []string{
			"127.0.0.2:8001 a.test w7", "127.0.0.2:8001 a.test w7",
			"127.0.0.3:8002 b.test w2", "[::1]:8002 b.test w2"}},
		{name: "a backup line", tmpl: memberSpec{weight: 1, backup: true}, backups: true, want: []string{
			"127.0.0.2:8001 a.test w7 backup", "127.0.0.2:8001 a.test w7 backup",
			"127.0.0.3:8002 b.test w2 backup", "[::1]:8002 b.test w2 backup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text(srvSpecs(tt.tmpl, srvPeers(answer), tt.backups))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	// The same records in another order are the same peers.
	rev := dns.SRVAnswer{Targets: slices.Clone(answer.Targets)}
	slices.Reverse(rev.Targets)
	if !slices.Equal(srvPeers(rev), srvPeers(answer)) {
		t.Errorf("the order of the records changed the peers")
	}
}
