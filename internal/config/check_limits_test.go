package config

import (
	"strconv"
	"strings"
	"testing"
)

// TestLimitDirectives pins how the limit_req and limit_conn modules'
// directives read their arguments and inherit (all or nothing, as
// ngx_http_limit_req_merge_conf and ngx_http_limit_conn_merge_conf copy
// the parent's array only to a level without one), and nginx's errors.
func TestLimitDirectives(t *testing.T) {
	const zones = `limit_req_zone $binary_remote_addr zone=one:1m rate=30r/m; limit_req_zone $host zone=two:32k rate=5r/s; limit_conn_zone $binary_remote_addr zone=c:1m; `
	ok := []struct {
		name, http string
		req        string // the first location's limit_req zones, burst, delay
		conn       string
	}{
		{"own", zones + `server { location / { limit_req zone=one burst=5 nodelay; limit_req zone=two delay=2 burst=3; limit_conn c 10; } }`, "one/5/nodelay two/3/2", "c/10"},
		{"inherited", zones + `limit_req zone=one; server { limit_conn c 1; location / { } }`, "one/0/0", "c/1"},
		{"own drops inherited", zones + `limit_req zone=one; server { location / { limit_req zone=two; } }`, "two/0/0", ""},
		{"nested", zones + `server { location / { limit_req zone=two burst=1; location /a { } } }`, "two/1/0", ""},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			s := checkText(t, "events {}\nhttp { "+tt.http+" }\n")
			l := s.HTTP.Servers[0].Locations[0]
			if len(l.Locations) > 0 {
				l = l.Locations[0]
			}
			var req, conn []string
			for _, r := range l.Conf.LimitReq.Rules {
				d := itoa(r.Delay)
				if r.NoDelay {
					d = "nodelay"
				}
				req = append(req, r.Zone+"/"+itoa(r.Burst)+"/"+d)
			}
			for _, r := range l.Conf.LimitConn.Rules {
				conn = append(conn, r.Zone+"/"+itoa(int64(r.Conn)))
			}
			if got := strings.Join(req, " "); got != tt.req {
				t.Errorf("limit_req: got %q; want %q", got, tt.req)
			}
			if got := strings.Join(conn, " "); got != tt.conn {
				t.Errorf("limit_conn: got %q; want %q", got, tt.conn)
			}
		})
	}
	if z := checkText(t, "events {}\nhttp { "+zones+" }\n").HTTP.LimitZones; len(z) != 3 || z[0].Rate != 500 || z[1].Rate != 5000 || z[1].Size != 32<<10 || !z[2].Conn {
		t.Errorf("zones: got %+v %+v %+v", *z[0], *z[1], *z[2])
	}

	bad := []struct{ name, http, msg string }{
		{"no zone", `limit_req_zone $host rate=1r/s rate=2r/s;`, `"limit_req_zone" must have "zone" parameter`},
		{"no size", `limit_req_zone $host zone=a rate=1r/s;`, `invalid zone size "zone=a"`},
		{"too small", `limit_req_zone $host zone=a:16k rate=1r/s;`, `zone "zone=a:16k" is too small`},
		{"bad rate", `limit_req_zone $host zone=a:1m rate=0r/s;`, `invalid rate "rate=0r/s"`},
		{"rate on conn", `limit_conn_zone $host rate=1r/s;`, `invalid parameter "rate=1r/s"`},
		{"rebound", `limit_req_zone $host zone=a:1m rate=1r/s; limit_req_zone $uri zone=a:1m rate=1r/s;`, `limit_req_zone "a" is already bound to key "$host"`},
		{"other use", `limit_req_zone $host zone=a:1m rate=1r/s; limit_conn_zone $host zone=a:1m;`, `the shared memory zone "a" is already declared for a different use`},
		{"unknown zone", `server { location / { limit_req zone=nope; } }`, `zero size shared memory zone "nope"`},
		{"req names a conn zone", `limit_conn_zone $host zone=a:1m; server { limit_req zone=a; }`, `already declared for a different use`},
		{"duplicate", `limit_req_zone $host zone=a:1m rate=1r/s; server { limit_req zone=a; limit_req zone=a burst=2; }`, `"limit_req" directive is duplicate`},
		{"bad burst", `limit_req_zone $host zone=a:1m rate=1r/s; server { limit_req zone=a burst=0; }`, `invalid burst value "burst=0"`},
		{"bad delay", `limit_req_zone $host zone=a:1m rate=1r/s; server { limit_req zone=a delay=x; }`, `invalid delay value "delay=x"`},
		{"bad conn", `limit_conn_zone $host zone=a:1m; server { limit_conn a 0; }`, `invalid number of connections "0"`},
		{"status bounds", `limit_req_status 302;`, `value must be between 400 and 599`},
		{"log level", `limit_conn_log_level debug;`, `invalid value "debug"`},
		{"rate value", `limit_rate fast;`, `"limit_rate" directive invalid value`},
		{"zone in server", `server { limit_req_zone $host zone=a:1m rate=1r/s; }`, `"limit_req_zone" directive is not allowed here`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte("events {}\nhttp { "+tt.http+" }\n"), ParseOptions{})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			_, errs = Check(ast)
			if !strings.Contains(errs.Error(), tt.msg) {
				t.Errorf("got errors %v; want one with %q", errs, tt.msg)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
