package upstream_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestGateResolveService: "server NAME resolve service=ws" follows the SRV
// records of _ws._tcp.NAME on a name server the test controls: the
// records of the lowest priority are the peers, at the records' ports;
// a target whose address changes moves them; the next priority serves as
// backup when they fail; a failing name server keeps the peers; a service
// that no longer exists leaves none.
func TestGateResolveService(t *testing.T) {
	p1, p2, p3 := sharedPort(t), sharedPort(t), sharedPort(t)
	startPeer(t, "127.0.0.2", p1)
	startPeer(t, "127.0.0.3", p1)
	startPeer(t, "127.0.0.3", p2)
	startPeer(t, "127.0.0.4", p3)
	const svc = "_ws._tcp.be.test"
	records := []srvRec{{1, 5, uint16(p1), "a.test"}, {1, 5, uint16(p2), "b.test"}, {2, 1, uint16(p3), "c.test"}}
	zone := newZone(1)
	zone.set(func(z *dnsZone) {
		z.srv[svc] = records
		z.a["a.test"] = []string{"127.0.0.2"}
		z.a["b.test"] = []string{"127.0.0.3"}
		z.a["c.test"] = []string{"127.0.0.4"}
	})
	ns := proxytest.NewDNS(t, zone.handle)
	var errlog proxytest.SyncBuffer
	conf := strings.NewReplacer("{{dns}}", ns.Addr.String()).Replace(`
access_log off;
resolver {{dns}} ipv6=off;
resolver_timeout 500ms;
upstream u {
  zone u 64k;
  server be.test service=ws resolve;
}
server { listen {{listen}};
  location / { proxy_pass http://u; proxy_connect_timeout 1s; }
}`)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{Log: &errlog})
	at := func(ip string, port int) string { return ip + ":" + strconv.Itoa(port) }
	seen := func(n int) string {
		got := map[string]bool{}
		for range n {
			got[getPath(g.Addr, "/addr")] = true
		}
		var out []string
		for k := range got {
			out = append(out, k)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	steps := []struct {
		name   string
		change func(z *dnsZone)
		want   string
	}{
		{name: "the lowest priority's records", change: func(*dnsZone) {},
			want: at("127.0.0.2", p1) + "," + at("127.0.0.3", p2)},
		{name: "a target's address changes", change: func(z *dnsZone) { z.a["a.test"] = []string{"127.0.0.3"} },
			want: at("127.0.0.3", p1) + "," + at("127.0.0.3", p2)},
		{name: "the next priority is the backup", change: func(z *dnsZone) {
			z.a["a.test"] = []string{"127.0.0.5"}
			z.a["b.test"] = []string{"127.0.0.5"}
		}, want: at("127.0.0.4", p3)},
		{name: "a failing name server keeps the peers", change: func(z *dnsZone) { z.servfail = true },
			want: at("127.0.0.4", p3)},
		{name: "a service that is gone leaves no peers", change: func(z *dnsZone) {
			z.servfail = false
			delete(z.srv, svc)
		}, want: "502"},
		{name: "back", change: func(z *dnsZone) {
			z.srv[svc] = records
			z.a["a.test"] = []string{"127.0.0.2"}
			z.a["b.test"] = []string{"127.0.0.3"}
		}, want: at("127.0.0.2", p1) + "," + at("127.0.0.3", p2)},
	}
	for _, s := range steps {
		asked := ns.Count(svc, dnsmessage.TypeSRV)
		zone.set(s.change)
		if s.name == "a failing name server keeps the peers" {
			proxytest.Eventually(t, 10*time.Second, func() bool { return ns.Count(svc, dnsmessage.TypeSRV) > asked+1 }, "the service was not asked again")
		}
		var got string
		if !proxytest.Poll(15*time.Second, func() bool { got = seen(6); return got == s.want }) {
			t.Fatalf("%s: /addr answered %s; want %s\nlog:\n%s", s.name, got, s.want, errlog.String())
		}
	}
	if !strings.Contains(errlog.String(), "resolving upstream service failed, its peers kept") {
		t.Errorf("no warning logged for the failing name server:\n%s", errlog.String())
	}
}
