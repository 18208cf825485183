package vars

import (
	"strings"
	"testing"
)

// nginxVariables are the variables nginx 1.22.1 defines in the modules
// wsgate has, from their ngx_http_variable_t tables; a name ending in "_"
// is a prefix (ngx_http_variables.c's prefix variables), tried with a
// suffix.
var nginxVariables = map[string][]string{
	"ngx_http_variables.c": {
		"http_host", "http_user_agent", "http_referer", "http_via", "http_x_forwarded_for", "http_cookie",
		"content_length", "content_type", "host", "binary_remote_addr", "remote_addr", "remote_port",
		"server_addr", "server_port", "server_protocol", "scheme", "https", "request_uri", "uri",
		"document_uri", "request", "document_root", "realpath_root", "query_string", "args", "is_args",
		"request_filename", "server_name", "request_method", "remote_user", "bytes_sent",
		"body_bytes_sent", "pipe", "request_completion", "request_body", "request_body_file",
		"request_length", "request_time", "request_id", "status", "sent_http_content_type",
		"sent_http_content_length", "sent_http_location", "sent_http_last_modified",
		"sent_http_connection", "sent_http_keep_alive", "sent_http_transfer_encoding",
		"sent_http_cache_control", "sent_http_link", "limit_rate", "connection", "connection_requests",
		"connection_time", "nginx_version", "hostname", "pid", "msec", "time_iso8601", "time_local",
		"tcpinfo_rtt", "tcpinfo_rttvar", "tcpinfo_snd_cwnd", "tcpinfo_rcv_space",
		"http_", "sent_http_", "sent_trailer_", "cookie_", "arg_",
		"proxy_protocol_addr", "proxy_protocol_port", "proxy_protocol_server_addr",
		"proxy_protocol_server_port",
	},
	"ngx_http_realip_module.c": {"realip_remote_addr", "realip_remote_port"},
	"ngx_http_upstream.c": {
		"upstream_addr", "upstream_status", "upstream_connect_time", "upstream_header_time",
		"upstream_response_time", "upstream_response_length", "upstream_bytes_received",
		"upstream_bytes_sent", "upstream_cache_status", "upstream_cache_last_modified",
		"upstream_cache_etag", "upstream_http_", "upstream_trailer_", "upstream_cookie_",
	},
	"ngx_http_proxy_module.c": {
		"proxy_host", "proxy_port", "proxy_add_x_forwarded_for", "proxy_internal_body_length",
		"proxy_internal_chunked",
	},
	"ngx_http_ssl_module.c": {
		"ssl_protocol", "ssl_cipher", "ssl_ciphers", "ssl_curve", "ssl_curves", "ssl_session_id",
		"ssl_session_reused", "ssl_early_data", "ssl_server_name", "ssl_alpn_protocol",
		"ssl_client_cert", "ssl_client_raw_cert", "ssl_client_escaped_cert", "ssl_client_s_dn",
		"ssl_client_i_dn", "ssl_client_s_dn_legacy", "ssl_client_i_dn_legacy", "ssl_client_serial",
		"ssl_client_fingerprint", "ssl_client_verify", "ssl_client_v_start", "ssl_client_v_end",
		"ssl_client_v_remain",
	},
	"ngx_http_stub_status_module.c": {
		"connections_active", "connections_reading", "connections_writing", "connections_waiting",
	},
	"ngx_http_v2_module.c": {"http2"},
	"ngx_http_v3_module.c": {"http3"},
}

// TestNginxVariablesKnown fails when a variable nginx has in the modules
// wsgate has is unknown to wsgate ("unknown variable" at -t), and
// evaluates each against an empty and a filled request.
func TestNginxVariablesKnown(t *testing.T) {
	comp, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	full := &Ctx{
		Method: "GET", RequestURI: "/a?b=1", URI: "/a", Args: "b=1", HasArgs: true, Proto: "HTTP/1.1",
		Headers:          []Header{{Name: "Cookie", Value: "x=1"}, {Name: "Host", Value: "h"}},
		SentHead:         "HTTP/1.1 200 OK\r\nServer: wsgate\r\nContent-Type: text/plain\r\nX-Y: z\r\n\r\n",
		SentTrailers:     "X-Y: t\r\n",
		UpstreamHeaders:  []Header{{Name: "Set-Cookie", Value: "x=2; Path=/"}, {Name: "X-Y", Value: "u"}},
		UpstreamTrailers: []Header{{Name: "X-Y", Value: "v"}},
		Upstream:         []UpstreamTry{{Addr: "127.0.0.1:1", Status: 200}, {Addr: "127.0.0.1:2", Status: 502, Group: true}},
		Proxied:          true,
		Completed:        true,
	}
	for file, names := range nginxVariables {
		for _, name := range names {
			src := "$" + name
			if strings.HasSuffix(name, "_") {
				src += "x_y"
			}
			tm, err := comp.Compile(src)
			if err != nil {
				t.Errorf("%s (%s): %v", src, file, err)
				continue
			}
			tm.AppendEscaped(nil, &Ctx{}, EscapeDefault)
			tm.AppendEscaped(nil, full, EscapeDefault)
		}
	}
}

// TestNginxVariablesValues checks the values of the variables added to
// cover nginx's list, as nginx 1.22 writes them.
func TestNginxVariablesValues(t *testing.T) {
	c := &Ctx{
		Proto: "HTTP/2.0", TLS: true,
		SentHead: "HTTP/1.1 200 OK\r\nServer: wsgate\r\nDate: x\r\nContent-Type: text/html\r\nCache-Control: no-cache\r\n" +
			"Link: <a>\r\nCache-Control: private\r\nX-A: 1\r\nX-A: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
		SentTrailers:    "X-T: 1\r\nX-U: 2\r\n",
		UpstreamHeaders: []Header{{Name: "Set-Cookie", Value: "a=1; Path=/"}, {Name: "set-cookie", Value: "sid = abc;x"}},
		Upstream: []UpstreamTry{
			{Addr: "a", Status: 502, ConnectTime: -1, HeaderTime: -1, BytesSent: 10},
			{Addr: "b", Status: 200, HeaderTime: 1500e6, BytesSent: 20, BytesReceived: 30},
			{Addr: "c", Status: 404, Group: true, BytesSent: 5},
		},
		Proxied: true, ProxyBodyLength: 7, ProxyBodyKnown: true,
		LimitRate: 1024,
	}
	tests := []struct{ src, want string }{
		{"$sent_http_content_type", "text/html"},
		{"$sent_http_cache_control", "no-cache, private"},
		{"$sent_http_x_a", "1"},
		{"$sent_http_server|$sent_http_date", "-|-"},
		{"$sent_http_transfer_encoding", "chunked"},
		{"$sent_http_connection", "close"},
		{"$sent_http_content_length", "-"},
		{"$sent_trailer_x_u", "2"},
		{"$upstream_cookie_sid|$upstream_cookie_a|$upstream_cookie_b", "abc|1|-"},
		{"$upstream_status", "502, 200 : 404"},
		{"$upstream_addr", "a, b : c"},
		{"$upstream_header_time", "-, 1.500 : 0.000"},
		{"$upstream_bytes_sent", "10, 20 : 5"},
		{"$upstream_bytes_received", "0, 30 : 0"},
		{"$upstream_cache_status", "-"},
		{"$http2", "h2"},
		{"$nginx_version", NginxVersion},
		{"$request_completion|", "|"},
		{"$limit_rate", "1024"},
		{"$proxy_internal_body_length|$proxy_internal_chunked", "7|-"},
		{"$tcpinfo_rtt|$document_root|$request_body_file", "-|-|-"},
	}
	comp, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		tm, err := comp.Compile(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if got := string(tm.AppendEscaped(nil, c, EscapeDefault)); got != tt.want {
			t.Errorf("%s = %q; want %q", tt.src, got, tt.want)
		}
	}
}
