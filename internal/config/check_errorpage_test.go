package config

import (
	"reflect"
	"testing"
)

// TestErrorPageArgs pins how error_page reads its arguments
// (ngx_http_core_error_page): one entry per code, "=" and "=code", a
// literal URI's arguments split off, 494 to 497 answered 400 by default.
func TestErrorPageArgs(t *testing.T) {
	type ep struct {
		Status   int
		Response ErrorPageResponse
		Code     int
		Target   string
		Args     string
	}
	tests := []struct {
		name, line string
		want       []ep
	}{
		{"uri", `error_page 502 503 /50x.html;`, []ep{{502, ResponseError, 0, "/50x.html", ""}, {503, ResponseError, 0, "/50x.html", ""}}},
		{"args", `error_page 404 /nf?from=404&x;`, []ep{{404, ResponseError, 0, "/nf", "from=404&x"}}},
		{"args with variables", `error_page 404 /nf?u=$uri;`, []ep{{404, ResponseError, 0, "/nf?u=$uri", ""}}},
		{"named", `error_page 502 = @backend;`, []ep{{502, ResponseTarget, 0, "@backend", ""}}},
		{"=0 is =", `error_page 502 =0 @backend;`, []ep{{502, ResponseTarget, 0, "@backend", ""}}},
		{"code", `error_page 404 =200 /empty;`, []ep{{404, ResponseCode, 200, "/empty", ""}}},
		{"redirect", `error_page 403 http://example.com/forbidden;`, []ep{{403, ResponseError, 0, "http://example.com/forbidden", ""}}},
		{"redirect 301", `error_page 404 =301 https://example.com/;`, []ep{{404, ResponseCode, 301, "https://example.com/", ""}}},
		{"tls codes", `error_page 497 404 https://$host$request_uri;`, []ep{{497, ResponseCode, 400, "https://$host$request_uri", ""}, {404, ResponseError, 0, "https://$host$request_uri", ""}}},
		{"tls codes with =", `error_page 497 =307 https://$host;`, []ep{{497, ResponseCode, 307, "https://$host", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := checkText(t, "events {}\nhttp { server { "+tt.line+" } }\n")
			var got []ep
			for _, p := range s.HTTP.Servers[0].Conf.ErrorPages {
				got = append(got, ep{p.Status, p.Response, p.Code, p.Target, p.Args})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestErrorPageInheritance pins the merge of the error page settings
// (ngx_http_core_merge_loc_conf): error_page all or nothing, like
// proxy_set_header; recursive_error_pages, proxy_intercept_errors and
// internal as plain values; named locations inheriting from the server.
func TestErrorPageInheritance(t *testing.T) {
	s := checkText(t, `
events {}
http {
	error_page 404 /404.html;
	error_page 500 /500.html;
	recursive_error_pages on;
	server {
		location /inherits { proxy_pass http://127.0.0.1:1; }
		location /own {
			error_page 502 /502.html;
			proxy_intercept_errors on;
			location /own/nested { internal; location /own/nested/deeper {} }
		}
		location @fallback { proxy_pass http://127.0.0.1:2; }
		location @fallback { return 204; }
		location = /x { }
	}
}`)
	srv := s.HTTP.Servers[0]
	codes := func(l *LocConf) []int {
		var c []int
		for _, p := range l.ErrorPages {
			c = append(c, p.Status)
		}
		return c
	}
	inh, own := srv.Locations[0], srv.Locations[1]
	nested := own.Locations[0]
	deeper := nested.Locations[0]
	tests := []struct {
		name      string
		conf      *LocConf
		codes     []int
		recursive bool
		intercept bool
		internal  bool
	}{
		{"server", &srv.Conf, []int{404, 500}, true, false, false},
		{"location without error_page", &inh.Conf, []int{404, 500}, true, false, false},
		{"location with its own", &own.Conf, []int{502}, true, true, false},
		{"nested internal", &nested.Conf, []int{502}, true, true, true},
		{"nested in internal", &deeper.Conf, []int{502}, true, true, true},
		{"named", &srv.Named[0].Conf, []int{404, 500}, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.conf
			if got := codes(c); !reflect.DeepEqual(got, tt.codes) {
				t.Errorf("error pages: got %v; want %v", got, tt.codes)
			}
			if c.RecursiveErrorPages != tt.recursive || c.ProxyInterceptErrors != tt.intercept || c.Internal != tt.internal {
				t.Errorf("got recursive %v intercept %v internal %v; want %v %v %v", c.RecursiveErrorPages, c.ProxyInterceptErrors, c.Internal, tt.recursive, tt.intercept, tt.internal)
			}
		})
	}
	if len(srv.Locations) != 3 {
		t.Errorf("got %d locations matched by URI; want 3, the named ones apart", len(srv.Locations))
	}
	if len(srv.Named) != 2 || srv.Named[0].Path != "@fallback" || srv.Named[0].Match != MatchNamed || srv.Named[0].Conf.ProxyPass == nil {
		t.Errorf("named: got %+v; want both @fallback, the proxied one first", srv.Named)
	}
}
