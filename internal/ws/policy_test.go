package ws

import "testing"

func TestPolicyOrigins(t *testing.T) {
	tests := []struct {
		desc    string
		origins []string
		origin  string // "-": no Origin header
		want    bool
	}{
		{"exact", []string{"https://app.example.com"}, "https://app.example.com", true},
		{"exact, case", []string{"https://app.example.com"}, "HTTPS://App.Example.com", true},
		{"exact, other scheme", []string{"https://app.example.com"}, "http://app.example.com", false},
		{"exact, port", []string{"https://app.example.com"}, "https://app.example.com:8443", false},
		{"host, any scheme", []string{"app.example.com"}, "http://app.example.com", true},
		{"wildcard", []string{"*.example.com"}, "https://a.b.example.com", true},
		{"wildcard, apex", []string{"*.example.com"}, "https://example.com", false},
		{"wildcard, look-alike", []string{"*.example.com"}, "https://evilexample.com", false},
		{"wildcard, scheme", []string{"https://*.example.com"}, "http://a.example.com", false},
		{"regex", []string{`~^https://[a-z]+\.example\.org$`}, "https://app.example.org", true},
		{"regex, case", []string{`~^https://app\.example\.org$`}, "https://APP.example.org", false},
		{"regex, no case", []string{`~*^https://app\.example\.org$`}, "https://APP.example.org", true},
		{"other site", []string{"https://app.example.com", "*.example.net"}, "https://attacker.test", false},
		{"null", []string{"https://app.example.com"}, "null", false},
		{"no Origin", []string{"https://app.example.com"}, "-", true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := NewPolicy(tc.origins, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			var o []byte
			if tc.origin != "-" {
				o = []byte(tc.origin)
			}
			if got := p.AllowOrigin(o); got != tc.want {
				t.Errorf("AllowOrigin(%q) with %q: got %v; want %v", tc.origin, tc.origins, got, tc.want)
			}
		})
	}
}

func TestPolicySubprotocolsAndDeflate(t *testing.T) {
	p, _ := NewPolicy(nil, []string{"chat", "v2.json"}, "strip")
	for _, tc := range []struct{ in, want string }{
		{"chat", "chat"},
		{"bogus, v2.json ,chat", "v2.json, chat"},
		{"bogus", ""},
		{"Chat", ""}, // RFC 6455 11.3.4: compared as registered
	} {
		got, ok := p.FilterSubprotocols([]byte(tc.in))
		if string(got) != tc.want || ok != (tc.want != "") {
			t.Errorf("FilterSubprotocols(%q): got %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"permessage-deflate; client_max_window_bits", ""},
		{"x-foo, permessage-deflate; server_no_context_takeover, permessage-deflate", "x-foo"},
		{"x-foo; a=1", "x-foo; a=1"},
	} {
		got, ok := StripDeflate([]byte(tc.in))
		if string(got) != tc.want || ok != (tc.want != "") {
			t.Errorf("StripDeflate(%q): got %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if p, _ := NewPolicy(nil, nil, "on"); p != nil {
		t.Errorf("a policy with nothing set: got %+v; want nil", p)
	}
}
