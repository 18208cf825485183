package upstream_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestGateResolveServer: "server NAME resolve" in an upstream with a zone
// (nginx 1.27.3) follows a name server the test controls, without a
// reload: an answer that changes once its TTL ran out moves new requests,
// a CNAME is followed, a truncated UDP answer is asked again over TCP, a
// server that stops answering leaves the last peers in place, a name that
// no longer exists leaves none (502). A tunnel opened before its peer left
// DNS is not touched while ws_drain_removed waits; afterwards it is
// closed with 1012.
func TestGateResolveServer(t *testing.T) {
	port := sharedPort(t)
	b2 := startPeer(t, "127.0.0.2", port)
	startPeer(t, "127.0.0.3", port)
	startPeer(t, "127.0.0.4", port)
	zone := newZone(1)
	zone.setA("be.test", "127.0.0.2")
	ns := proxytest.NewDNS(t, zone.handle)
	var errlog proxytest.SyncBuffer
	conf := strings.NewReplacer("{{dns}}", ns.Addr.String(), "{{port}}", strconv.Itoa(port)).Replace(`
access_log off;
resolver {{dns}} ipv6=off;
resolver_timeout 500ms;
upstream u {
  zone u 64k;
  server be.test:{{port}} resolve;
  ws_drain_removed 1500ms;
  ws_drain_window 0;
}
server { listen {{listen}};
  location / { proxy_pass http://u; proxy_connect_timeout 1s; }
}`)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{Log: &errlog})
	proxytest.Eventually(t, 10*time.Second, func() bool { return getID(g.Addr) == "127.0.0.2" },
		"the first answer never reached the pool")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tun, err := dialWS(ctx, g.Addr, "/ws/a")
	if err != nil {
		t.Fatalf("dialing a tunnel: %v", err)
	}
	defer tun.CloseNow()
	if err := echo(ctx, tun, "before"); err != nil {
		t.Fatalf("tunnel before the change: %v", err)
	}

	steps := []struct {
		name   string
		change func(z *dnsZone)
		want   string // the answers of /id, sorted
	}{
		{name: "answer changes after its TTL", change: func(z *dnsZone) { z.a["be.test"] = []string{"127.0.0.3"} }, want: "127.0.0.3"},
		{name: "two addresses", change: func(z *dnsZone) { z.a["be.test"] = []string{"127.0.0.3", "127.0.0.4"} }, want: "127.0.0.3,127.0.0.4"},
		{name: "CNAME", change: func(z *dnsZone) {
			delete(z.a, "be.test")
			z.cname["be.test"] = "real.test"
			z.a["real.test"] = []string{"127.0.0.4"}
		}, want: "127.0.0.4"},
		{name: "truncated, then TCP", change: func(z *dnsZone) {
			z.truncate = true
			z.a["real.test"] = []string{"127.0.0.3"}
		}, want: "127.0.0.3"},
		{name: "silent server keeps the peers", change: func(z *dnsZone) {
			z.truncate = false
			z.silent = true
			z.a["real.test"] = []string{"127.0.0.4"}
		}, want: "127.0.0.3"},
		{name: "NXDOMAIN empties the server", change: func(z *dnsZone) {
			z.silent = false
			delete(z.cname, "be.test")
		}, want: "502"},
		{name: "back", change: func(z *dnsZone) { z.a["be.test"] = []string{"127.0.0.2"} }, want: "127.0.0.2"},
	}
	for _, s := range steps {
		zone.set(s.change)
		var got string
		if !proxytest.Poll(15*time.Second, func() bool { got = seenIDs(g.Addr, 6); return got == s.want }) {
			t.Fatalf("%s: /id answered %s; want %s\nlog:\n%s", s.name, got, s.want, errlog.String())
		}
		if s.name == "silent server keeps the peers" {
			// Several lookups time out meanwhile: the peers stay.
			if proxytest.Poll(2*time.Second, func() bool { got = seenIDs(g.Addr, 2); return got != s.want }) {
				t.Fatalf("%s: /id answered %s while the server was silent; want %s\nlog:\n%s", s.name, got, s.want, errlog.String())
			}
			if !strings.Contains(errlog.String(), "resolving upstream server failed, its peers kept") {
				t.Errorf("%s: no warning logged:\n%s", s.name, errlog.String())
			}
		}
		if s.name == "two addresses" {
			// 127.0.0.2 left DNS 1.5 s ago or less: its tunnel is not
			// touched before ws_drain_removed has passed.
			if err := echo(ctx, tun, "after"); err != nil {
				t.Fatalf("tunnel to a removed peer, within ws_drain_removed: %v", err)
			}
		}
	}
	// 127.0.0.2 was removed long ago: ws_drain_removed closed its tunnel
	// with 1012 (and it is back now, which new tunnels may use).
	_, _, err = tun.Read(ctx)
	if code := closedWith(err); code != 1012 {
		t.Fatalf("tunnel of the removed peer ended with %v (code %d); want Close 1012", err, code)
	}
	if n := b2.open.Load(); n != 0 {
		t.Errorf("127.0.0.2 still has %d WebSockets open", n)
	}
	if n := ns.Count("be.test", dnsmessage.TypeA); n < 3 {
		t.Errorf("be.test was asked %d times; want a lookup per TTL", n)
	}
}

// TestGateResolveReload: a reload starts a resolve server from the last
// answer, at the port its line has now, so that it serves while the name
// server fails (nginx-tests upstream_resolve_reload.t, "preresolve").
func TestGateResolveReload(t *testing.T) {
	p1, p2 := sharedPort(t), sharedPort(t)
	startPeer(t, "127.0.0.2", p1)
	startPeer(t, "127.0.0.2", p2)
	zone := newZone(1)
	zone.setA("be.test", "127.0.0.2")
	ns := proxytest.NewDNS(t, zone.handle)
	conf := func(port int) string {
		return gatetest.HTTP(strings.NewReplacer("{{dns}}", ns.Addr.String(), "{{port}}", strconv.Itoa(port)).Replace(`
access_log off;
resolver {{dns}} ipv6=off;
resolver_timeout 500ms;
upstream u { zone u 64k; server be.test:{{port}} resolve; }
server { listen {{listen}}; location / { proxy_pass http://u; } }`))
	}
	g := gatetest.Start(t, conf(p1), gatetest.Options{})
	want1 := "127.0.0.2:" + strconv.Itoa(p1)
	proxytest.Eventually(t, 10*time.Second, func() bool { return getPath(g.Addr, "/addr") == want1 }, "the first answer never reached the pool")
	zone.set(func(z *dnsZone) { z.servfail = true })
	// Once the cached answer has expired and a lookup has failed, the
	// reload cannot take the addresses from the resolver's cache.
	asked := ns.Count("be.test", dnsmessage.TypeA)
	proxytest.Eventually(t, 10*time.Second, func() bool { return ns.Count("be.test", dnsmessage.TypeA) > asked+1 }, "be.test was not asked again")
	g.Write(conf(p2))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	want2 := "127.0.0.2:" + strconv.Itoa(p2)
	if got := getPath(g.Addr, "/addr"); got != want2 {
		t.Fatalf("after the reload, with the name server failing: %s; want %s", got, want2)
	}
}
