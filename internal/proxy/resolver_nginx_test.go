package proxy_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestResolverMatchesNginx runs real nginx (when installed) and wsgate on
// one configuration, each with name servers of its own on loopback that
// answer alike, and checks that they answer the same statuses, try the
// same addresses, log the same resolver errors and ask the same servers
// for the same names: the first name of a two-server line to the first
// server, the next name to the second (nginx rotates per query), A only
// with ipv6=off, and a cached name not again.
func TestResolverMatchesNginx(t *testing.T) {
	proxytest.NeedNginx(t)
	b := proxytest.NewRecording(t, "")
	_, port, _ := strings.Cut(b.Addr, ":")
	handler := func(q proxytest.DNSQuery) *dnsmessage.Message {
		reply, a := proxytest.DNSReply, proxytest.DNSA
		if q.Type != dnsmessage.TypeA {
			if q.Name == "cname.example.net" {
				return reply(dnsmessage.RCodeSuccess, proxytest.DNSCNAME(q.Name, 60, "a.example.net"))
			}
			return reply(dnsmessage.RCodeSuccess)
		}
		switch q.Name {
		case "a.example.net", "r1.example.net", "r2.example.net":
			return reply(dnsmessage.RCodeSuccess, a(q.Name, 60, "127.0.0.1"))
		case "many.example.net":
			return reply(dnsmessage.RCodeSuccess, a(q.Name, 60, "127.0.0.201"), a(q.Name, 60, "127.0.0.1"))
		case "cname.example.net":
			return reply(dnsmessage.RCodeSuccess, proxytest.DNSCNAME(q.Name, 60, "a.example.net"))
		case "sf.example.net":
			return reply(dnsmessage.RCodeServerFailure)
		case "silent.example.net":
			return nil
		}
		return reply(dnsmessage.RCodeNameError)
	}
	const conf = `
log_format up '$arg_n $host $status $upstream_addr';
server { listen %[1]s;
  access_log %[2]s up;
  resolver %[3]s;
  resolver_timeout 500ms;
  location / { proxy_pass http://$host:%[5]s; }
  location /two { resolver %[3]s %[4]s; proxy_pass http://$host:%[5]s; }
  location /v4 { resolver %[4]s ipv6=off; proxy_pass http://$host:%[5]s; }
  location /none { resolver_timeout 1s; proxy_pass http://$host:%[5]s; }
}
server { listen %[1]s; server_name noresolver;
  access_log %[2]s up;
  location / { proxy_pass http://$host:%[5]s; }
}`
	type target struct {
		addr     string
		log      string
		errlog   func() string
		ns1, ns2 *proxytest.DNSServer
	}
	start := func(nginx bool) *target {
		tg := &target{ns1: proxytest.NewDNS(t, handler), ns2: proxytest.NewDNS(t, handler)}
		dir := t.TempDir()
		tg.log = filepath.Join(dir, "access.log")
		if nginx {
			n := proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(conf, proxytest.FreeAddr(t), tg.log, tg.ns1.Addr, tg.ns2.Addr, port)))
			tg.addr, tg.errlog = n.Addr, n.Output
			return tg
		}
		var errlog proxytest.SyncBuffer
		g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(strings.Replace(conf, "%[1]s", "{{listen}}", 2), "", tg.log, tg.ns1.Addr, tg.ns2.Addr, port)), gatetest.Options{Log: &errlog})
		tg.addr, tg.errlog = g.Addr, errlog.String
		return tg
	}
	targets := map[string]*target{"nginx": start(true), "wsgate": start(false)}

	p := ":" + port
	tests := []struct {
		host, path string
		status     int
		upstream   string // $upstream_addr
		errlog     string
	}{
		{host: "a.example.net", path: "/", status: 200, upstream: "127.0.0.1" + p},
		{host: "A.EXAMPLE.NET", path: "/", status: 200, upstream: "127.0.0.1" + p},
		{host: "many.example.net", path: "/", status: 200, upstream: "127.0.0.201" + p + ", 127.0.0.1" + p},
		{host: "cname.example.net", path: "/", status: 200, upstream: "127.0.0.1" + p},
		{host: "nx.example.net", path: "/", status: 502, upstream: "-", errlog: "nx.example.net could not be resolved (3: Host not found)"},
		{host: "sf.example.net", path: "/", status: 502, upstream: "-", errlog: "sf.example.net could not be resolved (2: Server failure)"},
		{host: "silent.example.net", path: "/", status: 502, upstream: "-", errlog: "silent.example.net could not be resolved (110: Operation timed out)"},
		{host: "noresolver", path: "/", status: 502, upstream: "-", errlog: "no resolver defined to resolve noresolver"},
		{host: "r1.example.net", path: "/two", status: 200, upstream: "127.0.0.1" + p},
		{host: "r2.example.net", path: "/two", status: 200, upstream: "127.0.0.1" + p},
		{host: "a.example.net", path: "/v4", status: 200, upstream: "127.0.0.1" + p},
		{host: "a.example.net", path: "/none", status: 200, upstream: "127.0.0.1" + p},
	}
	for name, tg := range targets {
		t.Run(name, func(t *testing.T) {
			g := &gate{t: t, addr: tg.addr}
			for i, tt := range tests {
				// n tells this request's log line from the ones before.
				r := g.do(fmt.Sprintf("GET %s?n=%d HTTP/1.0\nHost: %s\n\n", tt.path, i, tt.host), "GET")
				if r.Status != tt.status {
					t.Errorf("%s %s: got status %d; want %d", tt.host, tt.path, r.Status, tt.status)
				}
				want := fmt.Sprintf("%d %s %d %s", i, strings.ToLower(tt.host), tt.status, tt.upstream)
				if got := lastLogLine(t, tg.log, fmt.Sprintf("%d ", i)); got != want {
					t.Errorf("%s %s: access log %q; want %q", tt.host, tt.path, got, want)
				}
				if tt.errlog != "" && !proxytest.Poll(2*time.Second, func() bool { return strings.Contains(tg.errlog(), tt.errlog) }) {
					t.Errorf("%s %s: error log lacks %q:\n%s", tt.host, tt.path, tt.errlog, tg.errlog())
				}
			}
			// Who was asked what.
			asked := func(ns *proxytest.DNSServer) string {
				var out []string
				for _, q := range ns.Queries() {
					out = append(out, q.Name+"/"+q.Type.String()[4:])
				}
				return strings.Join(out, " ")
			}
			if got, want := asked(tg.ns1), "a.example.net/A a.example.net/AAAA many.example.net/A many.example.net/AAAA cname.example.net/A cname.example.net/AAAA "+
				"nx.example.net/A nx.example.net/AAAA sf.example.net/A sf.example.net/AAAA silent.example.net/A silent.example.net/AAAA r1.example.net/A r1.example.net/AAAA"; got != want {
				t.Errorf("first name server was asked\n%s\nwant\n%s", got, want)
			}
			if got, want := asked(tg.ns2), "r2.example.net/A r2.example.net/AAAA a.example.net/A"; got != want {
				t.Errorf("second name server was asked\n%s\nwant\n%s", got, want)
			}
		})
	}
}
