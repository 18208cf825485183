package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
)

const (
	tA    = dnsmessage.TypeA
	tAAAA = dnsmessage.TypeAAAA
)

// clock is a settable clock for the cache.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// zone is a handler from a table: name → type → reply; a name or type not
// listed gets an empty NOERROR answer.
func zone(z map[string]map[dnsmessage.Type]*dnsmessage.Message) proxytest.DNSHandler {
	return func(q proxytest.DNSQuery) *dnsmessage.Message {
		if m, ok := z[q.Name][q.Type]; ok {
			if m == nil {
				return nil
			}
			c := *m
			return &c
		}
		return proxytest.DNSReply(dnsmessage.RCodeSuccess)
	}
}

func newResolver(t *testing.T, cfg Config, opts Options) *Resolver {
	t.Helper()
	if !cfg.IPv4 && !cfg.IPv6 {
		cfg.IPv4, cfg.IPv6 = true, true
	}
	r, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lookup(t *testing.T, r *Resolver, name string) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := r.Lookup(ctx, name)
	var out []string
	for _, ad := range a.Addrs {
		out = append(out, ad.String())
	}
	return out, err
}

var (
	ok      = dnsmessage.RCodeSuccess
	answer  = proxytest.DNSReply
	rrA     = proxytest.DNSA
	rrCNAME = proxytest.DNSCNAME
)

func TestLookupAnswers(t *testing.T) {
	t.Parallel()
	long := "cn000.example.net"
	chain := map[string]map[dnsmessage.Type]*dnsmessage.Message{}
	for i := 0; i < 60; i++ {
		name, next := fmt.Sprintf("cn%03d.example.net", i), fmt.Sprintf("cn%03d.example.net", i+1)
		m := answer(ok, rrCNAME(name, 60, next))
		chain[name] = map[dnsmessage.Type]*dnsmessage.Message{tA: m, tAAAA: m}
	}
	chain["cn060.example.net"] = map[dnsmessage.Type]*dnsmessage.Message{tA: answer(ok, rrA("cn060.example.net", 60, "127.0.0.9"))}
	short := map[string]map[dnsmessage.Type]*dnsmessage.Message{}
	for i := 0; i < 50; i++ {
		name, next := fmt.Sprintf("s%02d.example.net", i), fmt.Sprintf("s%02d.example.net", i+1)
		m := answer(ok, rrCNAME(name, 60, next))
		short[name] = map[dnsmessage.Type]*dnsmessage.Message{tA: m, tAAAA: m}
	}
	short["s50.example.net"] = map[dnsmessage.Type]*dnsmessage.Message{tA: answer(ok, rrA("s50.example.net", 60, "127.0.0.9"))}

	tests := []struct {
		name  string
		zone  map[string]map[dnsmessage.Type]*dnsmessage.Message
		cfg   Config
		ask   string
		want  []string
		err   string
		types []dnsmessage.Type // the types asked, when it matters
	}{
		{name: "A", ask: "a.example.net", want: []string{"127.0.0.1"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"a.example.net": {tA: answer(ok, rrA("a.example.net", 60, "127.0.0.1"))}}},
		{name: "A then AAAA", ask: "n.example.net", want: []string{"127.0.0.1", "127.0.0.2", "::1"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"n.example.net": {
				tAAAA: answer(ok, rrA("n.example.net", 60, "::1")),
				tA:    answer(ok, rrA("n.example.net", 60, "127.0.0.1"), rrA("n.example.net", 60, "127.0.0.2"))}}},
		{name: "case and trailing dot", ask: "A.Example.NET.", want: []string{"127.0.0.1"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"a.example.net": {tA: answer(ok, rrA("a.example.net", 60, "127.0.0.1"))}}},
		{name: "IP literal", ask: "192.0.2.1", want: []string{"192.0.2.1"}},
		{name: "CNAME only is asked again", ask: "c.example.net", want: []string{"127.0.0.3"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{
				"c.example.net": {tA: answer(ok, rrCNAME("c.example.net", 60, "t.example.net")), tAAAA: answer(ok, rrCNAME("c.example.net", 60, "t.example.net"))},
				"t.example.net": {tA: answer(ok, rrA("t.example.net", 60, "127.0.0.3"))}}},
		{name: "CNAME and A in one answer", ask: "c.example.net", want: []string{"127.0.0.4"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{
				"c.example.net": {tA: answer(ok, rrCNAME("c.example.net", 60, "t.example.net"), rrA("t.example.net", 60, "127.0.0.4"))}}},
		{name: "NXDOMAIN", ask: "nx.example.net", err: "nx.example.net could not be resolved (3: Host not found)",
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"nx.example.net": {tA: answer(dnsmessage.RCodeNameError), tAAAA: answer(dnsmessage.RCodeNameError)}}},
		{name: "no records is not found", ask: "empty.example.net", err: "empty.example.net could not be resolved (3: Host not found)"},
		{name: "SERVFAIL", ask: "sf.example.net", err: "sf.example.net could not be resolved (2: Server failure)",
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"sf.example.net": {tA: answer(dnsmessage.RCodeServerFailure)}}},
		{name: "REFUSED", ask: "r.example.net", err: "r.example.net could not be resolved (5: Operation refused)",
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"r.example.net": {tA: answer(dnsmessage.RCodeRefused), tAAAA: answer(dnsmessage.RCodeRefused)}}},
		{name: "an AAAA error fails the name", ask: "n-e.example.net", err: "n-e.example.net could not be resolved (2: Server failure)",
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"n-e.example.net": {tA: answer(ok, rrA("n-e.example.net", 60, "127.0.0.1")), tAAAA: answer(dnsmessage.RCodeServerFailure)}}},
		{name: "the last answer's CNAME is followed", ask: "c1-c2.example.net", want: []string{"::6"},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{
				"c1-c2.example.net":  {tA: answer(ok, rrCNAME("c1-c2.example.net", 60, "alias4.example.net")), tAAAA: answer(ok, rrCNAME("c1-c2.example.net", 60, "alias6.example.net"))},
				"alias4.example.net": {tA: answer(ok, rrA("alias4.example.net", 60, "127.0.0.4"))},
				"alias6.example.net": {tAAAA: answer(ok, rrA("alias6.example.net", 60, "::6"))}}},
		{name: "CNAME to the root", ask: "root.example.net", err: "root.example.net could not be resolved (3: Host not found)",
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"root.example.net": {tA: answer(ok, rrCNAME("root.example.net", 60, ".")), tAAAA: answer(ok, rrCNAME("root.example.net", 60, "."))}}},
		{name: "50 CNAMEs are followed", ask: "s00.example.net", want: []string{"127.0.0.9"}, zone: short},
		{name: "51 CNAMEs are too many", ask: long, err: long + " could not be resolved (3: Host not found)", zone: chain},
		{name: "ipv6=off", ask: "n.example.net", cfg: Config{IPv4: true}, want: []string{"127.0.0.1"}, types: []dnsmessage.Type{tA},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"n.example.net": {tA: answer(ok, rrA("n.example.net", 60, "127.0.0.1")), tAAAA: answer(ok, rrA("n.example.net", 60, "::1"))}}},
		{name: "ipv4=off", ask: "n.example.net", cfg: Config{IPv6: true}, want: []string{"::1"}, types: []dnsmessage.Type{tAAAA},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"n.example.net": {tA: answer(ok, rrA("n.example.net", 60, "127.0.0.1")), tAAAA: answer(ok, rrA("n.example.net", 60, "::1"))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := proxytest.NewDNS(t, zone(tt.zone))
			cfg := tt.cfg
			cfg.Servers = []netip.AddrPort{srv.Addr}
			r := newResolver(t, cfg, Options{})
			got, err := lookup(t, r, tt.ask)
			if tt.err != "" {
				var de *Error
				if err == nil || err.Error() != tt.err || !errors.As(err, &de) {
					t.Fatalf("lookup %s: got %v, %v; want error %q", tt.ask, got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("lookup %s: got %v, %v; want %v", tt.ask, got, err, tt.want)
			}
			if tt.types != nil {
				var types []dnsmessage.Type
				for _, q := range srv.Queries() {
					types = append(types, q.Type)
				}
				if !slices.Equal(types, tt.types) {
					t.Errorf("types asked: got %v; want %v", types, tt.types)
				}
			}
		})
	}
}

// TestCache: what is cached and for how long, with a clock the test moves.
func TestCache(t *testing.T) {
	t.Parallel()
	soa := func(m *dnsmessage.Message) *dnsmessage.Message {
		m.Authorities = []dnsmessage.Resource{proxytest.DNSSOA("example.net", 300, 30)}
		return m
	}
	tests := []struct {
		name  string
		zone  map[string]map[dnsmessage.Type]*dnsmessage.Message
		valid time.Duration
		// after each step of the clock, the lookup is made again; queries
		// are the A queries the server got after each lookup.
		steps   []time.Duration
		queries []int
	}{
		{name: "TTL", steps: []time.Duration{0, 0, 9 * time.Second, time.Second}, queries: []int{1, 1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(ok, rrA("x.example.net", 10, "127.0.0.1"))}}},
		{name: "the smallest TTL of a CNAME and its A", steps: []time.Duration{0, time.Second, time.Second}, queries: []int{1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(ok, rrCNAME("x.example.net", 2, "y.example.net"), rrA("y.example.net", 3600, "127.0.0.1"))}}},
		{name: "zero TTL is not cached", steps: []time.Duration{0, 0}, queries: []int{1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(ok, rrA("x.example.net", 0, "127.0.0.1"))}}},
		{name: "valid= replaces the TTL", valid: 5 * time.Second, steps: []time.Duration{0, 4 * time.Second, time.Second}, queries: []int{1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(ok, rrA("x.example.net", 1, "127.0.0.1"))}}},
		{name: "SERVFAIL is not cached", steps: []time.Duration{0, 0}, queries: []int{1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(dnsmessage.RCodeServerFailure)}}},
		{name: "NXDOMAIN without SOA is not cached", steps: []time.Duration{0, 0}, queries: []int{1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(dnsmessage.RCodeNameError), tAAAA: answer(dnsmessage.RCodeNameError)}}},
		{name: "NXDOMAIN is cached for the SOA's minimum", steps: []time.Duration{0, 29 * time.Second, time.Second}, queries: []int{1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: soa(answer(dnsmessage.RCodeNameError)), tAAAA: soa(answer(dnsmessage.RCodeNameError))}}},
		{name: "no data is cached for the SOA's minimum", steps: []time.Duration{0, 29 * time.Second, time.Second}, queries: []int{1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: soa(answer(ok)), tAAAA: soa(answer(ok))}}},
		{name: "NXDOMAIN is cached for valid=", valid: 5 * time.Second, steps: []time.Duration{0, 4 * time.Second, time.Second}, queries: []int{1, 1, 2},
			zone: map[string]map[dnsmessage.Type]*dnsmessage.Message{"x.example.net": {tA: answer(dnsmessage.RCodeNameError), tAAAA: answer(dnsmessage.RCodeNameError)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := proxytest.NewDNS(t, zone(tt.zone))
			clk := newClock()
			r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}, Valid: tt.valid}, Options{Now: clk.now})
			for i, d := range tt.steps {
				clk.advance(d)
				lookup(t, r, "x.example.net")
				if got := srv.Count("x.example.net", tA); got != tt.queries[i] {
					t.Fatalf("after lookup %d: got %d A queries; want %d", i+1, got, tt.queries[i])
				}
			}
		})
	}
}

// TestCacheChanges: a changed answer is seen once the TTL passed, not before.
func TestCacheChanges(t *testing.T) {
	t.Parallel()
	srv := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
		return answer(ok, rrA(q.Name, 10, "127.0.0.1"))
	})
	clk := newClock()
	r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}, IPv4: true}, Options{Now: clk.now})
	if got, err := lookup(t, r, "x.example.net"); err != nil || got[0] != "127.0.0.1" {
		t.Fatalf("first: got %v, %v", got, err)
	}
	srv.SetHandler(func(q proxytest.DNSQuery) *dnsmessage.Message { return answer(ok, rrA(q.Name, 10, "127.0.0.2")) })
	clk.advance(9 * time.Second)
	if got, err := lookup(t, r, "x.example.net"); err != nil || got[0] != "127.0.0.1" {
		t.Fatalf("within the TTL: got %v, %v; want the cached 127.0.0.1", got, err)
	}
	clk.advance(time.Second)
	if got, err := lookup(t, r, "x.example.net"); err != nil || got[0] != "127.0.0.2" {
		t.Fatalf("after the TTL: got %v, %v; want 127.0.0.2", got, err)
	}
}

// TestCachedRotates: answers from the cache start at varying addresses.
func TestCachedRotates(t *testing.T) {
	t.Parallel()
	srv := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
		return answer(ok, rrA(q.Name, 600, "127.0.0.1"), rrA(q.Name, 600, "127.0.0.2"), rrA(q.Name, 600, "127.0.0.3"))
	})
	r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}, IPv4: true}, Options{})
	first, _ := lookup(t, r, "x.example.net")
	if !slices.Equal(first, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
		t.Fatalf("fresh answer: got %v; want the server's order", first)
	}
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 3; i++ {
		got, _ := lookup(t, r, "x.example.net")
		seen[got[0]] = true
	}
	if len(seen) != 3 {
		t.Errorf("cached answers started with %v; want every address in turn", seen)
	}
}

// TestTransport: truncation, servers that do not answer or are not there,
// answers that are not for the query.
func TestTransport(t *testing.T) {
	t.Parallel()
	good := func(q proxytest.DNSQuery) *dnsmessage.Message { return answer(ok, rrA(q.Name, 60, "127.0.0.1")) }
	silent := func(proxytest.DNSQuery) *dnsmessage.Message { return nil }
	closedPort := func(t *testing.T) netip.AddrPort {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
		c.Close()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	var spoofed atomic.Bool
	tests := []struct {
		name    string
		servers func(t *testing.T) []netip.AddrPort
		resend  time.Duration
		want    string
		err     string
		timeout time.Duration
	}{
		{name: "truncated over UDP is asked over TCP", want: "127.0.0.7", servers: func(t *testing.T) []netip.AddrPort {
			return []netip.AddrPort{proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
				if !q.TCP {
					m := answer(ok, rrA(q.Name, 60, "127.0.0.201"))
					m.Header.Truncated = true
					return m
				}
				return answer(ok, rrA(q.Name, 60, "127.0.0.7"))
			}).Addr}
		}},
		{name: "a silent server is resent to the next", resend: 50 * time.Millisecond, want: "127.0.0.1", servers: func(t *testing.T) []netip.AddrPort {
			return []netip.AddrPort{proxytest.NewDNS(t, silent).Addr, proxytest.NewDNS(t, good).Addr}
		}},
		{name: "a closed port moves on at once", resend: time.Hour, want: "127.0.0.1", servers: func(t *testing.T) []netip.AddrPort {
			return []netip.AddrPort{closedPort(t), proxytest.NewDNS(t, good).Addr}
		}},
		{name: "an answer with another ID is ignored", resend: 50 * time.Millisecond, want: "127.0.0.1", servers: func(t *testing.T) []netip.AddrPort {
			return []netip.AddrPort{proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
				m := good(q)
				if spoofed.CompareAndSwap(false, true) {
					m.Header.ID = q.Msg.Header.ID + 1
				}
				return m
			}).Addr}
		}},
		{name: "FORMERR is ignored until the next server answers", resend: 50 * time.Millisecond, want: "127.0.0.1", servers: func(t *testing.T) []netip.AddrPort {
			return []netip.AddrPort{proxytest.NewDNS(t, func(proxytest.DNSQuery) *dnsmessage.Message { return answer(dnsmessage.RCodeFormatError) }).Addr, proxytest.NewDNS(t, good).Addr}
		}},
		{name: "no answer times out", resend: 50 * time.Millisecond, timeout: 300 * time.Millisecond,
			err: "x.example.net could not be resolved (110: Operation timed out)", servers: func(t *testing.T) []netip.AddrPort {
				return []netip.AddrPort{proxytest.NewDNS(t, silent).Addr}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, Config{Servers: tt.servers(t), IPv4: true}, Options{Resend: tt.resend})
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			a, err := r.Lookup(ctx, "x.example.net")
			if tt.err != "" {
				var de *Error
				if err == nil || err.Error() != tt.err || !errors.As(err, &de) || !de.Timeout() {
					t.Fatalf("got %v, %v; want error %q", a.Addrs, err, tt.err)
				}
				return
			}
			if err != nil || len(a.Addrs) != 1 || a.Addrs[0].String() != tt.want {
				t.Fatalf("got %v, %v; want %s", a.Addrs, err, tt.want)
			}
		})
	}
}

// TestServersInTurn: each new name goes to the next server; an error
// answer is final, not asked of the other server (nginx-tests
// http_resolver.t "two ns").
func TestServersInTurn(t *testing.T) {
	t.Parallel()
	bad := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message { return answer(dnsmessage.RCodeServerFailure) })
	good := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message { return answer(ok, rrA(q.Name, 60, "127.0.0.1")) })
	r := newResolver(t, Config{Servers: []netip.AddrPort{bad.Addr, good.Addr}, IPv4: true}, Options{})
	if _, err := lookup(t, r, "2.example.net"); err == nil {
		t.Fatal("first lookup: got no error; want the first server's SERVFAIL")
	}
	if got, err := lookup(t, r, "2.example.net"); err != nil || got[0] != "127.0.0.1" {
		t.Fatalf("second lookup: got %v, %v; want the second server's answer", got, err)
	}
	if n := len(bad.Queries()) + len(good.Queries()); n != 2 {
		t.Errorf("queries: got %d; want 2 (one per server)", n)
	}
}

// TestWaiters: lookups of a name in flight share its query; one that gives
// up does not end it for the others.
func TestWaiters(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := proxytest.NewDNS(t, func(q proxytest.DNSQuery) *dnsmessage.Message {
		<-release
		return answer(ok, rrA(q.Name, 60, "127.0.0.1"))
	})
	r := newResolver(t, Config{Servers: []netip.AddrPort{srv.Addr}, IPv4: true}, Options{})
	quitter, quit := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	quitErr := make(chan error, 1)
	go func() {
		_, err := r.Lookup(quitter, "x.example.net")
		quitErr <- err
	}()
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = r.Lookup(context.Background(), "x.example.net") })
	}
	proxytest.Eventually(t, 5*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		f := r.flights["x.example.net"]
		return f != nil && f.waiters == 5
	}, "five lookups waiting on one query")
	quit()
	if err := <-quitErr; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled lookup: got %v; want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("lookup %d: %v", i+1, err)
		}
	}
	if n := srv.Count("x.example.net", tA); n != 1 {
		t.Errorf("A queries: got %d; want 1", n)
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	g := NewRegistry(Options{})
	s := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}
	a, _ := g.Get(Config{Servers: s, IPv4: true, IPv6: true})
	b, _ := g.Get(Config{Servers: s, IPv4: true, IPv6: true})
	c, _ := g.Get(Config{Servers: s, IPv4: true, IPv6: true, Valid: time.Second})
	if a != b || a == c {
		t.Fatalf("same config: same resolver %v, other config: another %v", a == b, a != c)
	}
	g.Retain([]*Resolver{c})
	if d, _ := g.Get(Config{Servers: s, IPv4: true, IPv6: true}); d == a {
		t.Error("a resolver that was not retained was handed out again")
	}
	if e, _ := g.Get(c.Config()); e != c {
		t.Error("a retained resolver was not handed out again")
	}
	if _, err := g.Get(Config{}); err == nil {
		t.Error("a config without servers: got no error")
	}
}
