package proxy_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestGateResolver checks a proxy_pass with variables whose host a
// resolver looks up (ngx_http_upstream_init_request, ngx_resolve_name):
// the statuses nginx answers, the error log line naming the host, every
// address tried in turn with proxy_next_upstream, CNAMEs followed, and an
// answer that changed being used once its TTL passed (here 0).
func TestGateResolver(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	_, port, _ := strings.Cut(b.Addr, ":")
	dnsAnswer := func(q proxytest.DNSQuery) *dnsmessage.Message {
		if q.Type != dnsmessage.TypeA {
			return proxytest.DNSReply(dnsmessage.RCodeSuccess)
		}
		switch q.Name {
		case "a.example.net":
			return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSA(q.Name, 600, "127.0.0.1"))
		case "many.example.net":
			// 127.0.0.201 refuses: the request goes on to 127.0.0.1.
			return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSA(q.Name, 0, "127.0.0.201"), proxytest.DNSA(q.Name, 0, "127.0.0.1"))
		case "cname.example.net":
			return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSCNAME(q.Name, 600, "a.example.net"))
		case "moving.example.net":
			return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSA(q.Name, 0, "127.0.0.1"))
		case "silent.example.net":
			return nil
		}
		return proxytest.DNSReply(dnsmessage.RCodeNameError)
	}
	dns := proxytest.NewDNS(t, dnsAnswer)
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	var errlog proxytest.SyncBuffer
	conf := strings.NewReplacer("{{dns}}", dns.Addr.String(), "{{port}}", port, "{{access}}", access).Replace(`
access_log off;
log_format up '$arg_n $uri $status $upstream_addr';
server { listen {{listen}};
  resolver {{dns}} ipv6=off;
  resolver_timeout 300ms;
  location / { access_log {{access}} up; proxy_pass http://$host:{{port}}; }
  location /none { resolver_timeout 1s; access_log {{access}} up;
    location /none/inner { proxy_pass http://$host:{{port}}; } }
}
server { listen {{listen}}; server_name noresolver;
  location / { proxy_pass http://$host:{{port}}; }
}`)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{Log: &errlog})
	get := func(host, path string) *proxytest.Response {
		t.Helper()
		gt := &gate{t: t, addr: g.Addr}
		return gt.do("GET "+path+" HTTP/1.0\nHost: "+host+"\n\n", "GET")
	}
	p := ":" + port
	tests := []struct {
		name, host, path string
		status           int
		log              string // the access log line: $uri $status $upstream_addr
		errlog           string // a line of the error log, when one is expected
	}{
		{name: "A", host: "a.example.net", path: "/", status: 200, log: "/ 200 127.0.0.1" + p},
		{name: "cached", host: "A.Example.Net", path: "/", status: 200, log: "/ 200 127.0.0.1" + p},
		{name: "CNAME", host: "cname.example.net", path: "/", status: 200, log: "/ 200 127.0.0.1" + p},
		{name: "every address in turn", host: "many.example.net", path: "/", status: 200, log: "/ 200 127.0.0.201" + p + ", 127.0.0.1" + p},
		{name: "NXDOMAIN", host: "nx.example.net", path: "/", status: 502, log: "/ 502 -",
			errlog: "nx.example.net could not be resolved (3: Host not found)"},
		{name: "timeout", host: "silent.example.net", path: "/", status: 502, log: "/ 502 -",
			errlog: "silent.example.net could not be resolved (110: Operation timed out)"},
		{name: "inherited resolver", host: "a.example.net", path: "/none/inner", status: 200, log: "/none/inner 200 127.0.0.1" + p},
		{name: "no resolver", host: "noresolver", path: "/", status: 502,
			errlog: "no resolver defined to resolve noresolver"},
		{name: "IP literal needs none", host: "127.0.0.1", path: "/", status: 200, log: "/ 200 127.0.0.1" + p},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// n tells this request's log line from the ones before.
			n := strconv.Itoa(i)
			r := get(tt.host, tt.path+"?n="+n)
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
			if tt.log != "" {
				if line := lastLogLine(t, access, n+" "); line != n+" "+tt.log {
					t.Errorf("access log: got %q; want %q", line, n+" "+tt.log)
				}
			}
			if tt.errlog != "" {
				proxytest.Eventually(t, 2*time.Second, func() bool { return strings.Contains(errlog.String(), tt.errlog) },
					"error log has %q; got:\n%s", tt.errlog, errlog.String())
			}
		})
	}

	t.Run("answer changes", func(t *testing.T) {
		if r := get("moving.example.net", "/"); r.Status != 200 {
			t.Fatalf("before: got status %d; want 200", r.Status)
		}
		dns.SetHandler(func(q proxytest.DNSQuery) *dnsmessage.Message {
			if q.Name == "moving.example.net" && q.Type == dnsmessage.TypeA {
				// Nothing listens on 127.0.0.2: 502, with the new address.
				return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSA(q.Name, 0, "127.0.0.2"))
			}
			return dnsAnswer(q)
		})
		r := get("moving.example.net", "/?n=after")
		if line := lastLogLine(t, access, "after "); r.Status != 502 || line != "after / 502 127.0.0.2"+p {
			t.Errorf("after: got status %d, %q; want 502 from the new address 127.0.0.2%s", r.Status, line, p)
		}
	})
}

// TestGateImplicitUpstreamByVariable: a proxy_pass with variables whose
// host and port are those of a proxy_pass without variables uses the
// upstream that one defined, with no resolver (nginx-tests
// proxy_implicit.t, "implicit upstream by variable"); another port, or
// another host, still needs one (502).
func TestGateImplicitUpstreamByVariable(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	_, port, _ := strings.Cut(b.Addr, ":")
	conf := strings.NewReplacer("{{port}}", port).Replace(`
access_log off;
server { listen {{listen}};
  location / { proxy_pass http://localhost:{{port}}/; }
  location /var { proxy_pass http://$arg_b/; }
}`)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{})
	gt := &gate{t: t, addr: g.Addr}
	tests := []struct {
		host string
		want int
	}{
		{"localhost:" + port, 200},
		{"LOCALHOST:" + port, 200},
		{"localhost:1", 502},
		{"example.invalid:" + port, 502},
	}
	for _, tc := range tests {
		if r := gt.get("/var?b=" + tc.host); r.Status != tc.want {
			t.Errorf("proxy_pass http://%s/: %d; want %d", tc.host, r.Status, tc.want)
		}
	}
}
