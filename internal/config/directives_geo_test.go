package config

import (
	"strings"
	"testing"
)

// TestGeoErrors checks that geo and split_clients blocks are refused
// with nginx's own words (ngx_http_geo_module.c,
// ngx_http_split_clients_module.c).
func TestGeoErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"geo ok", `geo $g { default a; 10.0.0.0/8 b; delete 10.0.0.0/8; 2001:db8::/32 c; proxy 127.0.0.1; proxy_recursive; }`, ``},
		{"geo ranges ok", `geo $arg_ip $g { ranges; default a; 10.0.0.0-10.0.0.9 b; 10.0.0.2-10.0.0.3 c; delete 10.0.0.2-10.0.0.3; }`, ``},
		{"geo var name", `geo g { }`, `invalid variable name "g"`},
		{"geo source name", `geo a $g { }`, `invalid variable name "a"`},
		{"geo network", `geo $g { 10.0.0.300 a; }`, `invalid network "10.0.0.300"`},
		{"geo mask", `geo $g { 10.0.0.0/33 a; }`, `invalid network "10.0.0.0/33"`},
		{"geo arity", `geo $g { 10.0.0.0/8 a b; }`, `invalid number of the geo parameters`},
		{"geo ranges late", `geo $g { 10.0.0.0/8 a; ranges; }`, `the "ranges" directive must be the first directive inside "geo" block`},
		{"geo range", `geo $g { ranges; 10.0.0.0/8 a; }`, `invalid range "10.0.0.0/8"`},
		{"geo range order", `geo $g { ranges; 10.0.0.9-10.0.0.1 a; }`, `invalid range "10.0.0.9-10.0.0.1"`},
		{"geo overlap", `geo $g { ranges; 10.0.0.0-10.0.0.9 a; 10.0.0.5-10.0.0.20 b; }`, `range "10.0.0.5-10.0.0.20" overlaps "10.0.0.0-10.0.0.9"`},
		{"geo proxy", `geo $g { proxy x; }`, `invalid network "x"`},
		{"geo in server", `server { geo $g { } }`, `"geo" directive is not allowed here`},
		{"split ok", `split_clients $remote_addr $s { 10% a; 0.5% b; * c; }`, ``},
		{"split percent", `split_clients $remote_addr $s { 10 a; }`, `invalid percent value "10"`},
		{"split decimals", `split_clients $remote_addr $s { 1.005% a; }`, `invalid percent value "1.005%"`},
		{"split zero", `split_clients $remote_addr $s { 0% a; }`, `invalid percent value "0%"`},
		{"split total", `split_clients $remote_addr $s { 60% a; 50% b; }`, `percent total is greater than 100%`},
		{"split after star", `split_clients $remote_addr $s { * a; 1% b; }`, `percent total is greater than 100%`},
		{"split var", `split_clients $remote_addr s { }`, `invalid variable name "s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := checkRewrite(t, "events {} http { "+tt.body+" }")
			got := ""
			if len(errs) > 0 {
				got = errs.Error()
			}
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
