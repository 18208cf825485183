package vars

import (
	"strings"
	"testing"

	"wsgate/internal/proxyproto"
)

// TestRealIPAndProxyProtocolVars checks the realip module's and the
// PROXY protocol's variables (ngx_http_realip_module.c,
// ngx_http_variables.c): found or not, a port 0 printed empty, and the
// same after a Freeze and Thaw (a tunnel's log line).
func TestRealIPAndProxyProtocolVars(t *testing.T) {
	c, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	src := "$remote_addr|$remote_port|$realip_remote_addr|$realip_remote_port|$proxy_protocol_addr|$proxy_protocol_port|$proxy_protocol_server_addr|$proxy_protocol_server_port"
	tpl, err := c.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ctx  Ctx
		want string // in a log line: "-" where not found
	}{
		{"no header", Ctx{RemoteAddr: "127.0.0.1", RemotePort: "5555", RealIPAddr: "127.0.0.1", RealIPPort: "5555"},
			"127.0.0.1|5555|127.0.0.1|5555|-|-|-|-"},
		{"header", Ctx{RemoteAddr: "192.0.2.1", RemotePort: "51000", RealIPAddr: "127.0.0.1", RealIPPort: "5555",
			ProxyProtocol: &proxyproto.Header{SrcAddr: "192.0.2.1", DstAddr: "203.0.113.2", SrcPort: 51000, DstPort: 443}},
			"192.0.2.1|51000|127.0.0.1|5555|192.0.2.1|51000|203.0.113.2|443"},
		{"port 0", Ctx{RemoteAddr: "192.0.2.1", RealIPAddr: "127.0.0.1", RealIPPort: "5555",
			ProxyProtocol: &proxyproto.Header{SrcAddr: "192.0.2.1", DstAddr: "203.0.113.2"}},
			"192.0.2.1||127.0.0.1|5555|192.0.2.1||203.0.113.2|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tpl.AppendEscaped(nil, &tc.ctx, EscapeDefault)); got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
			var f Frozen
			f.Freeze(&tc.ctx)
			var back Ctx
			f.Thaw(&back)
			if got := string(tpl.AppendEscaped(nil, &back, EscapeDefault)); got != tc.want {
				t.Errorf("after Thaw: got %q; want %q", got, tc.want)
			}
		})
	}
	if _, err := c.Compile("$proxy_protocol_tlv_ssl"); err == nil || !strings.Contains(err.Error(), "nginx 1.23.2") {
		t.Errorf("got %v; want the error that names nginx 1.23.2", err)
	}
}
