package config

import (
	"reflect"
	"testing"
)

// TestAccessRules pins how allow and deny read their argument
// (ngx_http_access_rule) and how the list is inherited: all or nothing,
// allow and deny together (ngx_http_access_merge_loc_conf).
func TestAccessRules(t *testing.T) {
	type rule struct {
		Deny, All, Unix bool
		CIDR            string
	}
	tests := []struct {
		name, server string
		want         []rule // the first location's rules
	}{
		{"order", `location / { allow 10.0.0.1; deny 10.0.0.0/8; allow ::1; deny all; }`,
			[]rule{{false, false, false, "10.0.0.1/32"}, {true, false, false, "10.0.0.0/8"}, {false, false, false, "::1/128"}, {true, true, false, ""}}},
		{"masked", `location / { deny 192.168.1.7/16; }`, []rule{{true, false, false, "192.168.0.0/16"}}},
		{"unix", `location / { allow unix:; }`, []rule{{false, false, true, ""}}},
		{"inherited", `deny all; location / { }`, []rule{{true, true, false, ""}}},
		{"own deny drops inherited allow", `allow 10.0.0.0/8; deny all; location / { deny 10.1.0.0/16; }`, []rule{{true, false, false, "10.1.0.0/16"}}},
		{"own allow drops inherited deny", `deny all; location / { allow 127.0.0.1; }`, []rule{{false, false, false, "127.0.0.1/32"}}},
		{"nested", `deny all; location / { allow 127.0.0.1; location /a { } }`, []rule{{false, false, false, "127.0.0.1/32"}}},
		{"none", `location / { }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := checkText(t, "events {}\nhttp { server { "+tt.server+" } }\n")
			l := s.HTTP.Servers[0].Locations[0]
			if len(l.Locations) > 0 {
				l = l.Locations[0]
			}
			var got []rule
			for _, r := range l.Conf.Access {
				got = append(got, rule{r.Deny, r.All, r.Unix, r.CIDR})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestAuthBasicInheritance pins ngx_http_auth_basic_merge_loc_conf: the
// realm and the user file are inherited each on its own.
func TestAuthBasicInheritance(t *testing.T) {
	s := checkText(t, "events {}\nhttp { auth_basic_user_file /etc/htpasswd; server { auth_basic \"r $host\"; location / { } location /off { auth_basic off; auth_basic_user_file other; } } }\n")
	srv := s.HTTP.Servers[0]
	tests := []struct {
		name        string
		realm, file string
		lc          *LocConf
	}{
		{"inherited", "r $host", "/etc/htpasswd", &srv.Locations[0].Conf},
		{"own", "off", "other", &srv.Locations[1].Conf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.lc.AuthBasic == nil || tt.lc.AuthBasicUserFile == nil || tt.lc.AuthBasic.Text != tt.realm || tt.lc.AuthBasicUserFile.Text != tt.file {
				t.Errorf("got %+v, %+v; want %q, %q", tt.lc.AuthBasic, tt.lc.AuthBasicUserFile, tt.realm, tt.file)
			}
		})
	}
}
