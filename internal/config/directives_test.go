package config

import (
	"os"
	"strings"
	"testing"
)

// TestDirectiveFamilies checks the table's assembly: no directive is in
// two module families, and none of a family's is shadowed by the lists of
// ignored or unsupported names.
func TestDirectiveFamilies(t *testing.T) {
	table := directiveTable()
	owner := map[string]int{}
	for i, family := range directiveFamilies() {
		for name, d := range family() {
			if j, ok := owner[name]; ok {
				t.Errorf("%q is in families %d and %d; want one", name, j, i)
			}
			owner[name] = i
			if d.set == nil && !d.block {
				t.Errorf("%q has no setter", name)
			}
			got := table[name]
			if got == nil || got.ignored || got.instead != "" {
				t.Errorf("%q in the table got %+v; want family %d's entry", name, got, i)
			}
		}
	}
	if len(owner) == 0 {
		t.Fatal("got no family entries")
	}
}

// TestNginxDirectivesKnown: every directive of the nginx modules that
// Debian builds is in the table (implemented, accepted with a notice, or
// refused with what to do instead), so none is an "unknown directive".
func TestNginxDirectivesKnown(t *testing.T) {
	data, err := os.ReadFile("testdata/nginx-directives.txt")
	if err != nil {
		t.Fatal(err)
	}
	table := directiveTable()
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if _, ok := table[f[1]]; !ok {
			t.Errorf("%s's %q is not in the directive table: it would be an unknown directive", f[0], f[1])
		}
	}
	if n < 500 {
		t.Errorf("got %d nginx directives; want the whole list", n)
	}
}

// TestConfigureArgs: -V's configure arguments follow the directive table:
// the SSL module and the rewrite module (return works) are claimed,
// HTTP/2 and HTTP/3 are, headers-more is added as a
// third-party module, and every probe is a directive nginx has.
func TestConfigureArgs(t *testing.T) {
	args := " " + ConfigureArgs() + " "
	for _, want := range []string{" --with-http_ssl_module ", " --with-http_v2_module ", " --with-http_v3_module ", " --without-http_fastcgi_module ", " --without-http_ssi_module ", " --add-module=../headers-more-nginx-module "} {
		if !strings.Contains(args, want) {
			t.Errorf("got %q; want %q in it", args, want)
		}
	}
	for _, not := range []string{"http-cache", "rewrite", "http_gzip_module", "http_proxy", "http_map", "upstream_hash", "upstream_keepalive", "http_geo_module", "http_split_clients_module", "http_charset_module"} {
		if strings.Contains(args, not) {
			t.Errorf("got %q; want no %q in it (claimed and not built, or built and denied)", args, not)
		}
	}
	table := directiveTable()
	for _, m := range nginxModules {
		if table[m.Probe] == nil {
			t.Errorf("module %s: probe %q is not in the directive table", m.Name, m.Probe)
		}
	}
}

// TestDirectiveWording: real nginx directives wsgate does not implement
// are refused with what to do instead, never as unknown; those that change
// nothing here are accepted with a notice that says why; "http2 on"
// (nginx 1.25.1) marks the server's listens as http2 ones.
func TestDirectiveWording(t *testing.T) {
	tests := []struct {
		desc, conf string
		err        string // substring of the one error; "" for none
		notice     string // substring of a notice
	}{
		{desc: "stub_status", conf: "server { location /s { stub_status; } }"},
		{desc: "stub_status on", conf: "server { stub_status on; location /s { stub_status; } }"},
		{desc: "stub_status in http", conf: "stub_status;", err: `"stub_status" directive is not allowed here`},
		{desc: "stub_status with two arguments", conf: "server { location /s { stub_status on off; } }", err: `invalid number of arguments in "stub_status" directive`},
		{desc: "empty_gif", conf: "server { location /s { empty_gif; } }", err: `"empty_gif" directive is not supported by wsgate; `},
		{desc: "sub_filter_once", conf: "server { location / { sub_filter_once on; } }"},
		{desc: "sub_filter_types", conf: "server { location / { sub_filter_types text/css; } }"},
		{desc: "sub_filter empty pattern", conf: "server { location / { sub_filter '' x; } }", err: `empty search pattern`},
		{desc: "sub_filter in if", conf: "server { location / { if ($uri) { sub_filter a b; } } }", err: `"sub_filter" directive is not allowed here`},
		{desc: "ssi_types", conf: "server { ssi_types text/x; }", notice: `"ssi_types" accepted and ignored: they act only under "ssi on"`},
		{desc: "ssi off", conf: "server { location / { ssi off; } }", notice: `"ssi off" accepted`},
		{desc: "ssi on", conf: "server { location / { ssi on; } }", err: `"ssi on" is not supported by wsgate: it does not process server-side includes`},
		{desc: "ssi bad", conf: "server { ssi maybe; }", err: `invalid value "maybe" in "ssi" directive, it must be "on" or "off"`},
		{desc: "fastcgi_split_path_info", conf: "server { location / { fastcgi_split_path_info ^(.+)$; } }", notice: `"fastcgi_split_path_info" accepted and ignored: only "fastcgi_pass" would use it`},
		{desc: "fastcgi_param", conf: "server { fastcgi_param A b; } server { location / { fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name; } }", notice: `"fastcgi_param" accepted and ignored: only "fastcgi_pass" would use it, and wsgate speaks no FastCGI`},
		{desc: "fastcgi_pass", conf: "server { location / { fastcgi_pass 127.0.0.1:9000; } }", err: `"fastcgi_pass" directive is not supported by wsgate; wsgate speaks no FastCGI: serve the application over HTTP`},
		{desc: "uwsgi_pass", conf: "server { location / { uwsgi_pass 127.0.0.1:9000; } }", err: `wsgate speaks no uwsgi protocol: start uWSGI with "--http-socket"`},
		{desc: "grpc_pass", conf: "server { location / { grpc_pass grpc://127.0.0.1:9000; } }", err: `wsgate speaks no gRPC`},
		{desc: "grpc_set_header", conf: "server { location / { grpc_set_header A b; } }", notice: `only "grpc_pass" would use it`},
		{desc: "memcached_pass", conf: "server { location / { memcached_pass 127.0.0.1:11211; } }", err: `wsgate reads no memcached`},
		{desc: "scgi_param", conf: "server { scgi_param A b; }", notice: `only "scgi_pass" would use it`},
		{desc: "proxy_headers_hash in location", conf: "server { location / { proxy_headers_hash_max_size 1024; proxy_headers_hash_bucket_size 128; } }", notice: `"proxy_headers_hash_max_size" accepted and ignored`},
		{desc: "proxy_cache_max_range_offset", conf: "server { location / { proxy_cache_max_range_offset 1; } }", err: `"proxy_cache_max_range_offset" directive is not supported by wsgate; a cached response is served whole`},
		{desc: "ssl on", conf: "server { listen 443; ssl on; ssl_certificate c; ssl_certificate_key k; }", notice: `the "ssl" directive is deprecated, use the "listen ... ssl" directive instead`},
		{desc: "ssl on without a certificate", conf: "server { listen 443; ssl on; }", err: `no "ssl_certificate" is defined for the "listen ... ssl" directive`},
		{desc: "quic listen without a certificate", conf: "server { listen 443 quic; }", err: `no "ssl_certificate" is defined for the "listen ... quic" directive`},
		{desc: "quic listen", conf: "server { listen 443 ssl; listen 443 quic reuseport; http3 on; http3_max_concurrent_streams 64; http3_stream_buffer_size 128k; quic_retry on; quic_gso on; ssl_certificate c; ssl_certificate_key k; }"},
		{desc: "quic with ssl", conf: "server { listen 443 quic ssl; ssl_certificate c; ssl_certificate_key k; }", err: `"ssl" parameter is incompatible with "quic"`},
		{desc: "quic with http2", conf: "server { listen 443 quic http2; ssl_certificate c; ssl_certificate_key k; }", err: `"http2" parameter is incompatible with "quic"`},
		{desc: "http3_hq on", conf: "server { http3_hq on; }", err: `"http3_hq on" is not supported by wsgate`},
		{desc: "quic_host_key", conf: "server { quic_host_key k; }", err: `"quic_host_key" directive is not supported by wsgate`},
		{desc: "quic_active_connection_id_limit", conf: "server { quic_active_connection_id_limit 4; }", notice: `"quic_active_connection_id_limit" accepted and ignored`},
		{desc: "ssl_early_data", conf: "server { ssl_early_data on; }", notice: `"ssl_early_data" accepted and ignored: wsgate does not accept TLS early data`},
		{desc: "http2 tuning", conf: "http2_max_concurrent_streams 64; http2_recv_buffer_size 128k; server { http2_chunk_size 16k; http2_body_preread_size 1m; }"},
		{desc: "http2_chunk_size in a location", conf: "server { location / { http2_chunk_size 16k; } }"},
		{desc: "http2_chunk_size 0", conf: "server { location / { http2_chunk_size 0; } }", err: `the http2 chunk size cannot be 0`},
		{desc: "http2_recv_buffer_size in a server", conf: "server { http2_recv_buffer_size 1m; }", err: `"http2_recv_buffer_size" directive is not allowed here`},
		{desc: "http2_idle_timeout", conf: "server { http2_idle_timeout 3m; }", notice: `the "http2_idle_timeout" directive is obsolete, use the "keepalive_timeout" directive instead`},
		{desc: "http2_max_field_size", conf: "http2_max_field_size 8k; server { }", notice: `the "http2_max_field_size" directive is obsolete, use the "large_client_header_buffers" directive instead`},
		{desc: "http2_push", conf: "server { location / { http2_push /style.css; } }", notice: `"http2_push" accepted and ignored: wsgate does not push`},
		{desc: "listen http2", conf: "server { listen 8443 http2; }"},
		{desc: "http2 on", conf: "server { listen 8443; http2 on; }"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte(tt.conf), ParseOptions{})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			s, errs := Check(ast)
			switch {
			case tt.err == "" && len(errs) > 0:
				t.Fatalf("got errors %v; want none", errs)
			case tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.err)):
				t.Fatalf("got errors %v; want one saying %q", errs, tt.err)
			}
			if tt.notice == "" {
				return
			}
			found := false
			for _, n := range s.Notices {
				found = found || strings.Contains(n.Msg, tt.notice)
			}
			if !found {
				t.Errorf("got notices %v; want one saying %q", s.Notices, tt.notice)
			}
		})
	}

	// "http2 on" and "ssl on" at http level reach every server's listens.
	s := checkText(t, "http2 on; ssl on; ssl_certificate c; ssl_certificate_key k; server { listen 8443; listen 8444; } server { listen 8445; }")
	for _, srv := range s.HTTP.Servers {
		for _, l := range srv.Listens {
			if !l.HTTP2 || !l.SSL {
				t.Errorf("listen %s: got http2 %v, ssl %v after \"http2 on\" and \"ssl on\"; want both", l.Addr, l.HTTP2, l.SSL)
			}
		}
	}
}
