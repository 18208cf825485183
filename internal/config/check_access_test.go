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

// TestLimitExcept pins limit_except's methods (any case, GET brings
// HEAD) and its configuration: the location's, with the block's access
// directives on top.
func TestLimitExcept(t *testing.T) {
	s := checkText(t, "events {}\nhttp { server { location / { deny 10.0.0.1; auth_basic r; satisfy any; limit_except get Post post { allow all; } location /n { } } } }\n")
	l := s.HTTP.Servers[0].Locations[0]
	le := l.LimitExcept
	if le == nil {
		t.Fatal("no LimitExcept")
	}
	if want := []string{"GET", "POST", "HEAD"}; !reflect.DeepEqual(le.Methods, want) {
		t.Errorf("methods %q; want %q", le.Methods, want)
	}
	if len(le.Conf.Access) != 1 || !le.Conf.Access[0].All || le.Conf.Access[0].Deny {
		t.Errorf("block rules %+v; want allow all only", le.Conf.Access)
	}
	if le.Conf.AuthBasic == nil || le.Conf.AuthBasic.Text != "r" || !le.Conf.SatisfyAny {
		t.Errorf("block auth_basic %+v, satisfy any %v; want the location's", le.Conf.AuthBasic, le.Conf.SatisfyAny)
	}
	if len(l.Conf.Access) != 1 || !l.Conf.Access[0].Deny {
		t.Errorf("location rules %+v; want its deny", l.Conf.Access)
	}
	if l.Locations[0].LimitExcept != nil {
		t.Error("a nested location inherited limit_except")
	}
}

// TestLimitExceptRefused pins what wsgate's limit_except does not take,
// with a message that says so.
func TestLimitExceptRefused(t *testing.T) {
	tests := []struct{ name, loc, want string }{
		{"proxy_pass_uri", `limit_except GET { proxy_pass http://127.0.0.1:1/u; }`, `"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block`},
		{"proxy_pass_unix_uri", `limit_except GET { proxy_pass http://unix:/s:/u; }`, `"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block`},
		{"proxy_pass_twice", `limit_except GET { proxy_pass http://127.0.0.1:1; proxy_pass http://127.0.0.1:2; }`, `"proxy_pass" directive is duplicate`},
		{"proxy_set_header", `limit_except GET { proxy_set_header A b; }`, `"proxy_set_header" directive is not allowed here`},
		{"access_log", `limit_except GET { access_log off; }`, `"access_log" directive inside "limit_except" is not supported by wsgate; set it in the enclosing location`},
		{"return", `return 200; limit_except GET { deny all; }`, `"limit_except" in a location with rewrite module directives (rewrite, return, set, if) is not supported by wsgate: nginx does not run them for the methods the block limits; move them to a location of their own`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte("events {}\nhttp { server { location / { "+tt.loc+" } } }\n"), ParseOptions{})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			_, errs = Check(ast)
			if len(errs) != 1 || errs[0].Msg != tt.want {
				t.Errorf("got errors %q; want exactly %q", errs.Error(), tt.want)
			}
		})
	}
}

// TestLimitExceptProxyPass pins proxy_pass inside limit_except: the
// block's configuration gets its own, linked to an upstream{} of that
// name and with proxy_redirect default made from it when the location
// has none; the location's proxy_pass and redirects stay its own, and
// the block without a proxy_pass has none (the location's answers).
func TestLimitExceptProxyPass(t *testing.T) {
	s := checkText(t, "events {}\nhttp { upstream back { server 127.0.0.1:2; }\n"+
		"server { location /a/ { proxy_pass http://127.0.0.1:1/r/; limit_except POST { proxy_pass http://back; } }\n"+
		"location /b/ { limit_except GET { proxy_pass http://127.0.0.1:3; } }\n"+
		"location /c/ { proxy_pass http://127.0.0.1:1; limit_except GET { deny all; } } } }\n")
	locs := s.HTTP.Servers[0].Locations
	a := locs[0]
	if pp := a.LimitExcept.Conf.ProxyPass; pp == nil || pp.Upstream != "back" || pp.HasURI {
		t.Errorf("/a/ block proxy_pass %+v; want http://back linked to its upstream", pp)
	}
	if pp := a.Conf.ProxyPass; pp == nil || pp.Raw != "http://127.0.0.1:1/r/" {
		t.Errorf("/a/ location proxy_pass %+v; want its own", pp)
	}
	// nginx's lmt configuration copies the location's redirects array.
	if r := a.LimitExcept.Conf.ProxyRedirect; len(r) != 1 || r[0].From != "http://127.0.0.1:1/r/" || r[0].To != "/a/" {
		t.Errorf("/a/ block redirects %+v; want the location's", r)
	}
	b := locs[1]
	if b.Conf.ProxyPass != nil {
		t.Errorf("/b/ location proxy_pass %+v; want none", b.Conf.ProxyPass)
	}
	if r := b.LimitExcept.Conf.ProxyRedirect; len(r) != 1 || r[0].From != "http://127.0.0.1:3/" || r[0].To != "/" {
		t.Errorf("/b/ block redirects %+v; want its default", r)
	}
	if pp := locs[2].LimitExcept.Conf.ProxyPass; pp != nil {
		t.Errorf("/c/ block proxy_pass %+v; want none (the location answers)", pp)
	}
}
