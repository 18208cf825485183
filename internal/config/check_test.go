package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestCheckMatchesNginx checks that wsgate reports the same message nginx
// 1.22 does for configurations nginx rejects, and runs nginx -t on each
// when nginx is installed to confirm the wording.
func TestCheckMatchesNginx(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown", `location / { foo; }`, `unknown directive "foo"`},
		{"not allowed", `location / { server_name x; }`, `"server_name" directive is not allowed here`},
		{"arity", `location / { proxy_http_version; }`, `invalid number of arguments in "proxy_http_version" directive`},
		{"time", `location / { proxy_read_timeout 10x; }`, `"proxy_read_timeout" directive invalid value`},
		{"time year in msec", `location / { proxy_read_timeout 1y; }`, `"proxy_read_timeout" directive invalid value`},
		{"size", `location / { client_max_body_size 1q; }`, `"client_max_body_size" directive invalid value`},
		{"number", `location / { keepalive_requests x; }`, `"keepalive_requests" directive invalid number`},
		{"flag", `location / { proxy_buffering maybe; }`, `invalid value "maybe" in "proxy_buffering" directive, it must be "on" or "off"`},
		{"enum", `location / { proxy_http_version 2; }`, `invalid value "2"`},
		{"bitmask", `location / { proxy_next_upstream foo; }`, `invalid value "foo"`},
		{"duplicate", `location / { proxy_read_timeout 1s; proxy_read_timeout 2s; }`, `"proxy_read_timeout" directive is duplicate`},
		{"cookie off then rule", `location / { proxy_cookie_domain off; proxy_cookie_domain a b; }`, `"proxy_cookie_domain" directive is duplicate`},
		{"cookie rule then off", `location / { proxy_cookie_path /a /b; proxy_cookie_path off; }`, `"proxy_cookie_path" directive is duplicate`},
		{"cookie flags off twice", `location / { proxy_cookie_flags off; proxy_cookie_flags off; }`, `"proxy_cookie_flags" directive is duplicate`},
		{"cookie one argument", `location / { proxy_cookie_path x; }`, `invalid parameter "x"`},
		{"bind address", `location / { proxy_bind 1.2.3; }`, `invalid address "1.2.3"`},
		{"bind parameter", `location / { proxy_bind 127.0.0.1 foo; }`, `invalid parameter "foo"`},
		{"ignore headers", `location / { proxy_ignore_headers X-Accel-Redirect Foo; }`, `invalid value "Foo"`},
		{"keepalive_time", `location / { keepalive_time 1x; }`, `"keepalive_time" directive invalid value`},
		{"keepalive_disable", `location / { keepalive_disable msie7; }`, `invalid value "msie7"`},
		{"log cache max", `location / { open_log_file_cache max=x; }`, `invalid "open_log_file_cache" parameter "max=x"`},
		{"log cache valid", `location / { open_log_file_cache max=1 valid=5ms; }`, `invalid "open_log_file_cache" parameter "valid=5ms"`},
		{"log cache unknown", `location / { open_log_file_cache max=1 size=5; }`, `invalid "open_log_file_cache" parameter "size=5"`},
		{"log cache duplicate", `location / { open_log_file_cache off; open_log_file_cache off; }`, `"open_log_file_cache" directive is duplicate`},
		{"buffered log with variables", `location / { access_log /tmp/$host.log combined buffer=4k; }`, `buffered logs cannot have variables in name`},
		{"gzip log with variables", `location / { access_log /tmp/$host.log combined gzip; }`, `buffered logs cannot have variables in name`},
		{"unix without path", `location / { proxy_pass http://unix:; }`, `no path in the unix domain socket in upstream "unix:"`},
		{"regex uri", `location ~ /a { proxy_pass http://127.0.0.1:1/y; }`, `"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block`},
		{"redirect default", `location / { proxy_redirect default; }`, `"proxy_redirect default" should be placed after the "proxy_pass" directive`},
		{"return code", `location / { return 1000; }`, `invalid return code "1000"`},
		{"duplicate location", `location /a {} location /a {}`, `duplicate location "/a"`},
		{"inside exact", `location = / { location /x {} }`, `location "/x" cannot be inside the exact location "/"`},
		{"error_page without code", `error_page = /x;`, `invalid value "="`},
		{"error_page 499", `error_page 499 /x;`, `invalid value "499"`},
		{"error_page code", `error_page 404 x /y;`, `invalid value "x"`},
		{"error_page range", `error_page 200 /x;`, `value "200" must be between 300 and 599`},
		{"error_page range high", `error_page 600 /x;`, `value "600" must be between 300 and 599`},
		{"error_page response", `error_page 404 =abc /x;`, `invalid value "=abc"`},
		{"internal in server", `internal;`, `"internal" directive is not allowed here`},
		{"internal duplicate", `location /a { internal; internal; }`, `"internal" directive is duplicate`},
		{"named nested", `location /x { location @a {} }`, `named location "@a" can be on the server level only`},
		{"inside named", `location @a { location /b {} }`, `location "/b" cannot be inside the named location "@a"`},
		{"named in exact", `location = /x { location @a {} }`, `location "@a" cannot be inside the exact location "/x"`},
		{"named uri part", `location @a { proxy_pass http://127.0.0.1:1/x; }`, `"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block`},
		{"listen param", `listen 127.0.0.1:18999 foo;`, `invalid parameter "foo"`},
		{"backlog", `listen 127.0.0.1:18999 backlog=x;`, `invalid backlog "backlog=x"`},
		{"resolver valid", `location / { resolver 127.0.0.1 valid=x; }`, `invalid parameter: valid=x`},
		{"resolver ipv6", `location / { resolver 127.0.0.1 ipv6=maybe; }`, `invalid parameter: ipv6=maybe`},
		{"allow address", `location / { allow 1.2.3; }`, `invalid parameter "1.2.3"`},
		{"deny cidr", `location / { deny 10.0.0.0/33; }`, `invalid parameter "10.0.0.0/33"`},
		{"deny in if", `location / { if ($a) { deny all; } }`, `"deny" directive is not allowed here`},
		{"auth_basic duplicate", `location / { auth_basic a; auth_basic b; }`, `"auth_basic" directive is duplicate`},
		{"auth_basic_user_file arity", `location / { auth_basic_user_file; }`, `invalid number of arguments in "auth_basic_user_file" directive`},
		{"satisfy value", `location / { satisfy some; }`, `invalid value "some"`},
		{"satisfy duplicate", `location / { satisfy any; satisfy all; }`, `"satisfy" directive is duplicate`},
		{"limit_except method", `location / { limit_except GET FOO { } }`, `invalid method "FOO"`},
		{"limit_except duplicate", `location / { limit_except GET { } limit_except POST { } }`, `"limit_except" directive is duplicate`},
		{"limit_except in server", `limit_except GET { }`, `"limit_except" directive is not allowed here`},
		{"satisfy in limit_except", `location / { limit_except GET { satisfy any; } }`, `"satisfy" directive is not allowed here`},
		{"resolver port", `location / { resolver 127.0.0.1:x; }`, `invalid port in resolver "127.0.0.1:x"`},
	}
	httpTests := []struct {
		name, http, want string
	}{
		{"map default", `map $a $b { default 1; default 2; }`, `duplicate default map parameter`},
		{"map conflict", `map $a $b { x 1; X 2; }`, `conflicting parameter "x"`},
		{"map arity", `map $a $b { x 1 2; }`, `invalid number of the map parameters`},
		{"map var", `map $a b { x 1; }`, `invalid variable name "b"`},
		{"ip_hash backup", `upstream u { ip_hash; server 127.0.0.1 backup; }`, `balancing method does not support parameter "backup"`},
		{"weight", `upstream u { server 127.0.0.1 weight=0; }`, `invalid parameter "weight=0"`},
		{"duplicate upstream", `upstream u { server 127.0.0.1; } upstream u { server 127.0.0.1; }`, `duplicate upstream "u"`},
		{"upstream port", `upstream u { server 127.0.0.1; } server { listen 127.0.0.1:18999; location / { proxy_pass http://u:81; } }`, `upstream "u" may not have port 81`},
		{"log_format", `log_format combined "x";`, `duplicate "log_format" name "combined"`},
		{"access_log format", `access_log /dev/null nosuch;`, `unknown log format "nosuch"`},
		{"default server", `server { listen 127.0.0.1:18999 default_server; } server { listen 127.0.0.1:18999 default_server; }`, `a duplicate default server for 127.0.0.1:18999`},
	}
	type tc struct{ name, conf, want string }
	var all []tc
	for _, tt := range tests {
		all = append(all, tc{tt.name, "events {}\nhttp { server { listen 127.0.0.1:18999; " + tt.body + " } }\n", tt.want})
	}
	for _, tt := range httpTests {
		all = append(all, tc{tt.name, "events {}\nhttp { " + tt.http + " }\n", tt.want})
	}
	nginx := proxytest.NginxPath()
	for _, tt := range all {
		t.Run(tt.name, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte(tt.conf), ParseOptions{})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			_, errs = Check(ast)
			if len(errs) != 1 || errs[0].Msg != tt.want {
				t.Errorf("got errors %q; want exactly %q", errs.Error(), tt.want)
			}
			if nginx == "" {
				return
			}
			dir := t.TempDir()
			conf := filepath.Join(dir, "x.conf")
			if err := os.WriteFile(conf, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out := proxytest.NginxTest(t, nginx, conf)
			if !strings.Contains(string(out), "[emerg]") || !strings.Contains(string(out), tt.want+" in ") {
				t.Errorf("nginx -t said %q; want an emerg with %q", out, tt.want)
			}
		})
	}
}

// TestInheritance pins nginx's merge rules directly.
func TestInheritance(t *testing.T) {
	s := checkText(t, `
http {
	proxy_set_header X-A a;
	proxy_read_timeout 5s;
	server {
		location /p/ {
			proxy_pass http://App/v1/;
			location /p/n/ { proxy_set_header X-B b; }
		}
		proxy_send_timeout 7s;
	}
	upstream app { server 127.0.0.1:1; }
}
events {}`)
	srv := s.HTTP.Servers[0]
	p := srv.Locations[0]
	n := p.Locations[0]
	if got := p.Conf.ProxySendTimeout; got != 7*time.Second {
		t.Errorf("directive after a location: got proxy_send_timeout %v; want 7s", got)
	}
	if got := n.Conf.ProxyReadTimeout; got != 5*time.Second {
		t.Errorf("nested location: got proxy_read_timeout %v; want 5s from http", got)
	}
	if !p.Conf.SetHeadersInherited || len(p.Conf.ProxySetHeaders) != 1 || p.Conf.ProxySetHeaders[0].Name != "X-A" {
		t.Errorf("location without proxy_set_header: got %+v inherited=%v; want X-A inherited", p.Conf.ProxySetHeaders, p.Conf.SetHeadersInherited)
	}
	if n.Conf.SetHeadersInherited || len(n.Conf.ProxySetHeaders) != 1 || len(n.Conf.SetHeadersDropped) != 1 {
		t.Errorf("nested with its own: got %+v dropped %+v; want only X-B, X-A dropped", n.Conf.ProxySetHeaders, n.Conf.SetHeadersDropped)
	}
	if n.Conf.ProxyPass != nil {
		t.Errorf("proxy_pass inherited into a nested location: got %+v; want nil", n.Conf.ProxyPass)
	}
	pp := p.Conf.ProxyPass
	if pp == nil || pp.Upstream != "app" || pp.URI != "/v1/" || !pp.HasURI || pp.Host != "App" {
		t.Errorf("proxy_pass: got %+v; want upstream app (case-insensitive), URI /v1/", pp)
	}
	if len(srv.Listens) != 1 || srv.Listens[0].Addr != "0.0.0.0:80" || !srv.Listens[0].IsDefault {
		t.Errorf("server without listen: got %+v; want default *:80", srv.Listens)
	}
	if len(p.Conf.ProxyRedirect) != 1 || p.Conf.ProxyRedirect[0].From != "http://App/v1/" || p.Conf.ProxyRedirect[0].To != "/p/" {
		t.Errorf("proxy_redirect default: got %+v; want http://App/v1/ → /p/", p.Conf.ProxyRedirect)
	}
}

// TestKeepaliveInheritance: keepalive_timeout's header value is merged on
// its own (a one-value keepalive_timeout keeps the outer header), and
// keepalive_disable defaults to msie6, "none" turning it off, and the
// lines of one level add up.
func TestKeepaliveInheritance(t *testing.T) {
	s := checkText(t, `
http {
	keepalive_timeout 60 50;
	server {
		location /a/ { keepalive_timeout 30; keepalive_disable none; }
		location /b/ { keepalive_disable msie6 safari; }
		location /c/ { }
		location /d/ { keepalive_disable safari; keepalive_disable none; }
	}
}
events {}`)
	locs := s.HTTP.Servers[0].Locations
	for i, want := range []struct {
		timeout, header time.Duration
		disable         KeepaliveDisable
	}{
		{30 * time.Second, 50 * time.Second, KeepaliveDisable{}},
		{60 * time.Second, 50 * time.Second, KeepaliveDisable{MSIE6: true, Safari: true}},
		{60 * time.Second, 50 * time.Second, KeepaliveDisable{MSIE6: true}},
		{60 * time.Second, 50 * time.Second, KeepaliveDisable{Safari: true}},
	} {
		c := locs[i].Conf
		if c.KeepaliveTimeout != want.timeout || c.KeepaliveHeader != want.header || c.KeepaliveDisable != want.disable {
			t.Errorf("location %s: got timeout %v header %v disable %+v; want %v %v %+v", locs[i].Path,
				c.KeepaliveTimeout, c.KeepaliveHeader, c.KeepaliveDisable, want.timeout, want.header, want.disable)
		}
	}
}

// TestResolverDirective: the resolver line's addresses and parameters, and
// its inheritance (ngx_http_core_resolver, ngx_resolver_create).
func TestResolverDirective(t *testing.T) {
	s := checkText(t, `
http {
	resolver 127.0.0.1 [::1]:5353 ns.example valid=30s ipv6=off;
	server {
		location /a { }
		location /b { resolver 10.0.0.1 ipv4=off; }
	}
	server { resolver_timeout 5s; }
}
events {}`)
	srv := s.HTTP.Servers[0]
	a, b := srv.Locations[0].Conf.Resolver, srv.Locations[1].Conf.Resolver
	if a == nil || strings.Join(a.Addrs, " ") != "127.0.0.1 [::1]:5353 ns.example" || a.Valid != 30*time.Second || !a.IPv4 || a.IPv6 {
		t.Errorf("inherited: got %+v; want the http line, valid=30s, ipv6 off", a)
	}
	if b == nil || strings.Join(b.Addrs, " ") != "10.0.0.1" || b.Valid != 0 || b.IPv4 || !b.IPv6 {
		t.Errorf("own line: got %+v; want 10.0.0.1, ipv4 off", b)
	}
	if got := s.HTTP.Servers[1].Conf.ResolverTimeout; got != 5*time.Second {
		t.Errorf("resolver_timeout: got %v; want 5s", got)
	}
	for _, tt := range []struct {
		in   string
		host string
		port uint16
		ok   bool
	}{
		{"127.0.0.1", "127.0.0.1", 53, true},
		{"127.0.0.1:5353", "127.0.0.1", 5353, true},
		{"[::1]", "::1", 53, true},
		{"[::1]:54", "::1", 54, true},
		{"::1", "::1", 53, true},
		{"ns.example:53", "ns.example", 53, true},
		{"ns.example:0", "", 0, false},
		{"[::1", "", 0, false},
		{"127.0.0.1:70000", "", 0, false},
	} {
		host, port, ok := SplitResolverAddr(tt.in)
		if host != tt.host || port != tt.port || ok != tt.ok {
			t.Errorf("SplitResolverAddr(%q) = %q, %d, %v; want %q, %d, %v", tt.in, host, port, ok, tt.host, tt.port, tt.ok)
		}
	}
}

// TestCheckReportsAll: errors do not stop Check.
func TestCheckReportsAll(t *testing.T) {
	ast, errs := parse("t.conf", []byte("server { foo; bar; location / { proxy_read_timeout x; baz; } }"), ParseOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, errs = Check(ast)
	if len(errs) != 4 {
		t.Errorf("got %d errors (%v); want 4", len(errs), errs)
	}
}

// TestGlobals: -g directives are checked in the main context before the file.
func TestGlobals(t *testing.T) {
	ast, errs := parse("t.conf", []byte("pid a.pid;\nevents {}\n"), ParseOptions{Globals: "pid b.pid; daemon off;"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, errs = Check(ast)
	if len(errs) != 1 || errs[0].Msg != `"pid" directive is duplicate` || errs[0].Pos.File != "t.conf" {
		t.Errorf("got %v; want one \"pid\" duplicate in t.conf", errs)
	}
}

func FuzzCheck(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join(goldenDir, "*.conf"))
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ast, _ := parse("fuzz.conf", data, ParseOptions{
			ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
			Glob:     func(string) ([]string, error) { return nil, nil },
		})
		if ast == nil {
			return
		}
		s, _ := Check(ast)
		var b strings.Builder
		Dump(&b, s)
		_ = Lint(s)
	})
}
