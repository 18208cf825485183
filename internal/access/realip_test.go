package access

import (
	"errors"
	"net/netip"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/proxyproto"
	"wsgate/internal/vars"
)

// TestRealIP checks Resolve against ngx_http_realip_handler and
// ngx_http_get_forwarded_addr, with the cases of nginx's realip.t,
// realip_remote_port.t and proxy_protocol.t among them.
func TestRealIP(t *testing.T) {
	trusted := []config.RealIPFrom{{CIDR: "127.0.0.1/32"}, {CIDR: "10.0.1.0/24"}}
	pp := &proxyproto.Header{SrcAddr: "192.0.2.1", DstAddr: "192.0.2.2", SrcPort: 1234, DstPort: 80}
	h := func(kv ...string) []vars.Header {
		var hs []vars.Header
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, vars.Header{Name: kv[i], Value: kv[i+1]})
		}
		return hs
	}
	lookup := func(host string) ([]netip.Addr, error) {
		if host != "lb.test" {
			return nil, errors.New("not found")
		}
		return []netip.Addr{netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("2001:db8::9")}, nil
	}
	for _, tc := range []struct {
		name      string
		header    string
		recursive bool
		from      []config.RealIPFrom
		client    string
		hdrs      []vars.Header
		pp        *proxyproto.Header
		want      string // "" : the address stays
	}{
		{name: "X-Real-IP", client: "127.0.0.1", hdrs: h("X-Real-IP", "192.0.2.1"), want: "192.0.2.1:0"},
		{name: "X-Real-IP with a port", client: "127.0.0.1", hdrs: h("x-real-ip", "192.0.2.1:8080"), want: "192.0.2.1:8080"},
		{name: "X-Real-IP, IPv6 with a port", client: "127.0.0.1", hdrs: h("X-Real-IP", "[2001:db8::1]:8080"), want: "[2001:db8::1]:8080"},
		{name: "X-Real-IP, the first line", client: "127.0.0.1", hdrs: h("X-Real-IP", "192.0.2.1", "X-Real-IP", "192.0.2.9"), want: "192.0.2.1:0"},
		{name: "X-Real-IP, leading zeros", client: "127.0.0.1", hdrs: h("X-Real-IP", "192.000.002.001"), want: "192.0.2.1:0"},
		{name: "X-Real-IP not an address", client: "127.0.0.1", hdrs: h("X-Real-IP", "unknown")},
		{name: "untrusted client", client: "192.0.2.7", hdrs: h("X-Real-IP", "192.0.2.1")},
		{name: "IPv4-mapped client is trusted", client: "::ffff:127.0.0.1", hdrs: h("X-Real-IP", "192.0.2.1"), want: "192.0.2.1:0"},
		{name: "no header", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1")},
		{name: "custom header", header: "X-Real-IP-Custom", client: "127.0.0.1", hdrs: h("X-Real-IP-Custom", "192.0.2.1"), want: "192.0.2.1:0"},
		{name: "xff multi", header: "X-Forwarded-For", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "10.0.0.1, 192.0.2.1"), want: "192.0.2.1:0"},
		{name: "xff recursive off", header: "X-Forwarded-For", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1, 10.0.1.1, 127.0.0.1"), want: "127.0.0.1:0"},
		{name: "xff recursive on", header: "X-Forwarded-For", recursive: true, client: "127.0.0.1", hdrs: h("X-Forwarded-For", "10.0.1.1, 192.0.2.1, 127.0.0.1"), want: "192.0.2.1:0"},
		{name: "xff recursive, all trusted", header: "X-Forwarded-For", recursive: true, client: "127.0.0.1", hdrs: h("X-Forwarded-For", "10.0.1.2, 10.0.1.1"), want: "10.0.1.2:0"},
		{name: "xff multi lines recursive off", header: "X-Forwarded-For", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1", "X-Forwarded-For", "127.0.0.1, 10.0.1.1"), want: "10.0.1.1:0"},
		{name: "x-forwarded-for written in lower case is any header: its first line", header: "x-forwarded-for", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1", "X-Forwarded-For", "127.0.0.1, 10.0.1.1"), want: "192.0.2.1:0"},
		{name: "xff multi lines recursive on", header: "X-Forwarded-For", recursive: true, client: "127.0.0.1", hdrs: h("X-Forwarded-For", "10.0.1.1", "X-Forwarded-For", "192.0.2.1", "X-Forwarded-For", "127.0.0.1"), want: "192.0.2.1:0"},
		{name: "xff trailing separators", header: "X-Forwarded-For", client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1, ,"), want: "192.0.2.1:0"},
		{name: "xff bad last", header: "X-Forwarded-For", recursive: true, client: "127.0.0.1", hdrs: h("X-Forwarded-For", "192.0.2.1, bogus")},
		{name: "xff bad before trusted", header: "X-Forwarded-For", recursive: true, client: "127.0.0.1", hdrs: h("X-Forwarded-For", "bogus, 10.0.1.1"), want: "10.0.1.1:0"},
		{name: "proxy_protocol", header: "proxy_protocol", client: "127.0.0.1", pp: pp, want: "192.0.2.1:1234"},
		{name: "proxy_protocol without a header", header: "proxy_protocol", client: "127.0.0.1"},
		{name: "proxy_protocol untrusted", header: "proxy_protocol", client: "192.0.2.7", pp: pp},
		{name: "unix: trusts no TCP client", from: []config.RealIPFrom{{Unix: true}}, client: "127.0.0.1", hdrs: h("X-Real-IP", "192.0.2.1")},
		{name: "host name", from: []config.RealIPFrom{{Host: "lb.test"}}, client: "10.9.9.9", hdrs: h("X-Real-IP", "192.0.2.1"), want: "192.0.2.1:0"},
		{name: "host name, other client", from: []config.RealIPFrom{{Host: "lb.test"}}, client: "10.9.9.8", hdrs: h("X-Real-IP", "192.0.2.1")},
		{name: "IPv6 CIDR", from: []config.RealIPFrom{{CIDR: "::1/128"}}, client: "::1", hdrs: h("X-Real-IP", "192.0.2.1"), want: "192.0.2.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := tc.from
			if from == nil {
				from = trusted
			}
			ri, err := CompileRealIP(config.RealIP{From: from, Header: tc.header, Recursive: tc.recursive}, lookup)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := ri.Resolve(netip.MustParseAddr(tc.client), tc.hdrs, tc.pp)
			switch {
			case tc.want == "" && ok:
				t.Errorf("got %s; want the address kept", got)
			case tc.want != "" && (!ok || got.String() != tc.want):
				t.Errorf("got %s, %v; want %s", got, ok, tc.want)
			}
		})
	}
}

// TestRealIPHostNotFound pins nginx's error for a host name that does
// not resolve.
func TestRealIPHostNotFound(t *testing.T) {
	_, err := CompileRealIP(config.RealIP{From: []config.RealIPFrom{{Host: "nowhere.test"}}}, func(string) ([]netip.Addr, error) {
		return nil, errors.New("no such host")
	})
	if err == nil || err.Error() != `host not found in set_real_ip_from "nowhere.test"` {
		t.Errorf("got %v; want host not found", err)
	}
}

// BenchmarkRealIP measures the realip step of a request from a trusted
// proxy: X-Forwarded-For with three addresses, recursive.
func BenchmarkRealIP(b *testing.B) {
	ri, err := CompileRealIP(config.RealIP{From: []config.RealIPFrom{{CIDR: "127.0.0.1/32"}, {CIDR: "10.0.0.0/8"}}, Header: "X-Forwarded-For", Recursive: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	hdrs := []vars.Header{{Name: "Host", Value: "h"}, {Name: "User-Agent", Value: "x"}, {Name: "X-Forwarded-For", Value: "198.51.100.7, 192.0.2.1, 10.1.2.3"}}
	addr := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ri.Resolve(addr, hdrs, nil); !ok {
			b.Fatal("not resolved")
		}
	}
}
