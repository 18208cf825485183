package dns

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
)

const tSRV = dnsmessage.TypeSRV

var rrSRV = proxytest.DNSSRV

// srvText renders an answer as "prio/weight target:port=addr,addr" lines,
// a failed target as "prio/weight target:port!CODE".
func srvText(a SRVAnswer) []string {
	var out []string
	for _, t := range a.Targets {
		s := fmt.Sprintf("%d/%d %s:%d", t.Priority, t.Weight, t.Target, t.Port)
		if t.Err != nil {
			s += fmt.Sprintf("!%d", t.Err.(*Error).Code)
		} else {
			var as []string
			for _, ad := range t.Addrs {
				as = append(as, ad.String())
			}
			s += "=" + strings.Join(as, ",")
		}
		out = append(out, s)
	}
	return out
}

func TestServiceName(t *testing.T) {
	t.Parallel()
	tests := []struct{ service, host, want string }{
		{"http", "backend.example", "_http._tcp.backend.example"},
		{"_http._tcp", "backend.example", "_http._tcp.backend.example"},
		{"server1.backend", "example.com", "server1.backend.example.com"},
	}
	for _, tt := range tests {
		if got := ServiceName(tt.service, tt.host); got != tt.want {
			t.Errorf("ServiceName(%q, %q) = %q; want %q", tt.service, tt.host, got, tt.want)
		}
	}
}

// TestLookupSRV: the SRV records, their targets' addresses, and the
// failures, as nginx's resolver reports them to an upstream.
func TestLookupSRV(t *testing.T) {
	t.Parallel()
	const svc = "_http._tcp.example.net"
	type z = map[string]map[dnsmessage.Type]*dnsmessage.Message
	tests := []struct {
		name string
		zone z
		want []string
		err  string
	}{
		{name: "targets resolved, by priority, weight 0 read as 1",
			zone: z{
				svc: {tSRV: answer(ok, rrSRV(svc, 60, 2, 0, 8002, "b.example.net"), rrSRV(svc, 60, 1, 5, 8001, "a.example.net"))},
				"a.example.net": {tA: answer(ok, rrA("a.example.net", 60, "127.0.0.1"), rrA("a.example.net", 60, "127.0.0.2")),
					tAAAA: answer(ok, rrA("a.example.net", 60, "::1"))},
				"b.example.net": {tA: answer(ok, rrA("b.example.net", 60, "127.0.0.3"))},
			},
			want: []string{"1/5 a.example.net:8001=127.0.0.1,127.0.0.2,::1", "2/1 b.example.net:8002=127.0.0.3"}},
		{name: "a CNAME for the service is followed",
			zone: z{
				svc:                 {tSRV: answer(ok, rrCNAME(svc, 60, "alias.example.net"))},
				"alias.example.net": {tSRV: answer(ok, rrSRV("alias.example.net", 60, 1, 5, 8001, "a.example.net"))},
				"a.example.net":     {tA: answer(ok, rrA("a.example.net", 60, "127.0.0.1"))},
			},
			want: []string{"1/5 a.example.net:8001=127.0.0.1"}},
		{name: "a target's CNAME is followed",
			zone: z{
				svc: {tSRV: answer(ok, rrSRV(svc, 60, 1, 5, 8001, "a.example.net"))},
				"a.example.net": {tA: answer(ok, rrCNAME("a.example.net", 60, "alias.example.net")),
					tAAAA: answer(ok, rrCNAME("a.example.net", 60, "alias.example.net"))},
				"alias.example.net": {tA: answer(ok, rrA("alias.example.net", 60, "127.0.0.3"))},
			},
			want: []string{"1/5 a.example.net:8001=127.0.0.3"}},
		{name: "a failed target is left out when another has addresses",
			zone: z{
				svc:             {tSRV: answer(ok, rrSRV(svc, 60, 1, 5, 8001, "a.example.net"), rrSRV(svc, 60, 1, 5, 8002, "nx.example.net"))},
				"a.example.net": {tA: answer(ok, rrA("a.example.net", 60, "127.0.0.1"))},
			},
			want: []string{"1/5 a.example.net:8001=127.0.0.1", "1/5 nx.example.net:8002!3"}},
		{name: "no SRV records", err: svc + " could not be resolved (3: Host not found)"},
		{name: "SRV SERVFAIL", zone: z{svc: {tSRV: answer(dnsmessage.RCodeServerFailure)}},
			err: svc + " could not be resolved (2: Server failure)"},
		{name: "every target fails: the first one's code",
			zone: z{
				svc:              {tSRV: answer(ok, rrSRV(svc, 60, 1, 5, 8001, "sf.example.net"))},
				"sf.example.net": {tA: answer(dnsmessage.RCodeServerFailure), tAAAA: answer(dnsmessage.RCodeServerFailure)},
			},
			want: []string{"1/5 sf.example.net:8001!2"},
			err:  svc + " could not be resolved (2: Server failure)"},
		{name: "every target fails, one does not exist: NXDOMAIN",
			zone: z{
				svc:              {tSRV: answer(ok, rrSRV(svc, 60, 1, 5, 8001, "sf.example.net"), rrSRV(svc, 60, 1, 5, 8001, "nx.example.net"))},
				"sf.example.net": {tA: answer(dnsmessage.RCodeServerFailure), tAAAA: answer(dnsmessage.RCodeServerFailure)},
			},
			want: []string{"1/5 sf.example.net:8001!2", "1/5 nx.example.net:8001!3"},
			err:  svc + " could not be resolved (3: Host not found)"},
		{name: "the root target offers nothing",
			zone: z{svc: {tSRV: answer(ok, rrSRV(svc, 60, 1, 0, 0, "."))}},
			want: []string{"1/1 :0!3"},
			err:  svc + " could not be resolved (3: Host not found)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := proxytest.NewDNS(t, zone(tt.zone))
			r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}}, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a, err := r.LookupSRV(ctx, svc)
			got := srvText(a)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got %v, %v; want error %q", got, err, tt.err)
				}
			} else if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestSRVExpiry: the answer expires with the soonest of the SRV TTL and
// its targets' TTLs; the SRV answer is cached apart from the addresses of
// the same name; a truncated SRV answer is asked again over TCP.
func TestSRVExpiry(t *testing.T) {
	t.Parallel()
	const svc = "_http._tcp.example.net"
	srv := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
		switch {
		case q.Name == svc && q.Type == tSRV && !q.TCP:
			m := answer(ok)
			m.Header.Truncated = true
			return m
		case q.Name == svc && q.Type == tSRV:
			return answer(ok, rrSRV(svc, 30, 1, 1, 8001, "a.example.net"), rrSRV(svc, 30, 1, 1, 8002, "b.example.net"))
		case q.Name == "a.example.net" && q.Type == tA:
			return answer(ok, rrA(q.Name, 10, "127.0.0.1"))
		case q.Name == "b.example.net" && q.Type == tA:
			return answer(ok, rrA(q.Name, 20, "127.0.0.2"))
		case q.Name == svc && q.Type == tA:
			return answer(ok, rrA(q.Name, 20, "127.0.0.9"))
		}
		return answer(ok)
	})
	clk := newClock()
	start := clk.now()
	r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}}, Options{Now: clk.now})
	ctx := context.Background()
	a, err := r.LookupSRV(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(10 * time.Second); !a.Expires.Equal(want) {
		t.Errorf("expires %v; want %v (the A record's TTL)", a.Expires, want)
	}
	if got := srvText(a); !slices.Equal(got, []string{"1/1 a.example.net:8001=127.0.0.1", "1/1 b.example.net:8002=127.0.0.2"}) {
		t.Errorf("got %q", got)
	}
	if n := len(srv.Queries()); n == 0 || !slices.ContainsFunc(srv.Queries(), func(q proxytest.DNSQuery) bool { return q.TCP && q.Type == tSRV }) {
		t.Errorf("the truncated SRV answer was not asked again over TCP: %d queries", n)
	}
	if got, err := lookup(t, r, svc); err != nil || !slices.Equal(got, []string{"127.0.0.9"}) {
		t.Errorf("the name's addresses: got %v, %v; want the A answer, not the SRV one", got, err)
	}
	clk.advance(15 * time.Second)
	before := srv.Count(svc, tSRV)
	if _, err := r.LookupSRV(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count(svc, tSRV); got != before {
		t.Errorf("the SRV answer was asked again within its TTL: %d queries, was %d", got, before)
	}
	clk.advance(15 * time.Second)
	if _, err := r.LookupSRV(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count(svc, tSRV); got == before {
		t.Errorf("the SRV answer was not asked again after its TTL")
	}
}
