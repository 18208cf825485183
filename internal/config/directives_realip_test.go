package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestRealIPConf pins how the realip module's directives are read and
// inherited (ngx_http_realip_merge_loc_conf): set_real_ip_from all or
// nothing, real_ip_header and real_ip_recursive each on its own.
func TestRealIPConf(t *testing.T) {
	tests := []struct {
		name, server string
		from         []string // CIDR, or "unix:"
		header       string
		recursive    bool
	}{
		{"none", `location / { }`, nil, "", false},
		{"own", `location / { set_real_ip_from 10.0.0.0/8; set_real_ip_from ::1; set_real_ip_from unix:; real_ip_header X-Forwarded-For; real_ip_recursive on; }`,
			[]string{"10.0.0.0/8", "::1/128", "unix:"}, "X-Forwarded-For", true},
		{"masked", `location / { set_real_ip_from 192.168.1.7/16; }`, []string{"192.168.0.0/16"}, "", false},
		{"inherited", `set_real_ip_from 127.0.0.1; real_ip_header proxy_protocol; real_ip_recursive on; location / { }`,
			[]string{"127.0.0.1/32"}, "proxy_protocol", true},
		{"own list drops inherited", `set_real_ip_from 127.0.0.1; real_ip_header X-Custom; location / { set_real_ip_from 10.0.0.1; }`,
			[]string{"10.0.0.1/32"}, "X-Custom", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := checkText(t, "events {}\nhttp { server { "+tt.server+" } }\n")
			ri := s.HTTP.Servers[0].Locations[0].Conf.RealIP
			var from []string
			for _, f := range ri.From {
				if f.Unix {
					from = append(from, "unix:")
				} else {
					from = append(from, f.CIDR)
				}
			}
			if !reflect.DeepEqual(from, tt.from) || ri.Header != tt.header || ri.Recursive != tt.recursive {
				t.Errorf("got %v %q %v; want %v %q %v", from, ri.Header, ri.Recursive, tt.from, tt.header, tt.recursive)
			}
		})
	}
}

// TestRealIPAndCacheConditionsChecked pins what -t says: listen ...
// proxy_protocol is read, set_real_ip_from refuses what is neither an
// address nor a host name, and
// proxy_cache_bypass and proxy_no_cache are read with or without a
// proxy_cache.
func TestRealIPAndCacheConditionsChecked(t *testing.T) {
	tests := []struct {
		name, http string
		errs       []string // substrings, one per error
		notice     string
	}{
		{name: "proxy_protocol", http: `server { listen 127.0.0.1:8080 proxy_protocol; listen 8443 ssl proxy_protocol; ssl_certificate c; ssl_certificate_key k; }`},
		{name: "bad address", http: `set_real_ip_from 10.0.0.300;`, errs: []string{`invalid parameter "10.0.0.300"`}},
		{name: "bad CIDR", http: `set_real_ip_from 10.0.0.0/33;`, errs: []string{`invalid parameter "10.0.0.0/33"`}},
		{name: "host name", http: `set_real_ip_from lb.internal;`},
		{name: "not a host name", http: `set_real_ip_from lb_internal;`, errs: []string{`invalid parameter "lb_internal"`}},
		{name: "recursive twice", http: `real_ip_recursive on; real_ip_recursive off;`, errs: []string{`"real_ip_recursive" directive is duplicate`}},
		{name: "cache conditions without a cache", http: `server { location / { proxy_cache_bypass $http_upgrade; proxy_no_cache $cookie_x 1; } }`},
		{name: "cache conditions with a cache", http: `proxy_cache_path c keys_zone=z:1m; server { location / { proxy_cache_bypass $http_upgrade; proxy_cache z; } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ast, perrs := parse("test.conf", []byte("events {}\nhttp { "+tt.http+" }\n"), ParseOptions{})
			if len(perrs) > 0 {
				t.Fatalf("parsing: %v", perrs)
			}
			s, errs := Check(ast)
			if len(errs) != len(tt.errs) {
				t.Fatalf("got errors %v; want %d", errs, len(tt.errs))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.errs[i]) {
					t.Errorf("error %d: got %q; want one with %q", i, e.Error(), tt.errs[i])
				}
			}
			if tt.notice != "" {
				found := false
				for _, n := range s.Notices {
					found = found || strings.Contains(n.Msg, tt.notice)
				}
				if !found {
					t.Errorf("got notices %v; want one with %q", s.Notices, tt.notice)
				}
			}
		})
	}
}
