package config

import "fmt"

// This file completes the directive table with the rest of nginx: every
// directive of the nginx 1.22 modules that Debian builds (and of
// headers-more, which distributions ship) that no module family
// implements is either accepted with a notice, where ignoring it changes
// nothing a client or a backend sees, or refused with what to do instead.
// None is ever "unknown directive" (TestNginxDirectivesKnown, over
// testdata/nginx-directives.txt). An entry here never replaces one a family
// or directiveTable set: a directive someone implements leaves this list
// by itself.

// passNote is the notice for a setting of a module whose content handler
// (pass, e.g. "fastcgi_pass") wsgate refuses: without it the setting has
// nothing to act on, in nginx as here.
func passNote(pass, protocol string) string {
	return "only \"" + pass + "\" would use it, and wsgate speaks no " + protocol + " (" + pass + " is refused)"
}

// nginxRest adds the entries below to t where t has none.
func nginxRest(t map[string]*directive) {
	add := func(d *directive, names ...string) {
		for _, n := range names {
			if _, ok := t[n]; !ok {
				dd := *d
				t[n] = &dd
			}
		}
	}
	const anyCtx = ctxMain | ctxEvents | ctxHTTPAll | ctxUpstream
	ignore := func(ctx ctxMask, names ...string) {
		add(&directive{ctx: ctx, min: 0, max: unbounded, ignored: true}, names...)
	}
	note := func(ctx ctxMask, why string, names ...string) {
		add(&directive{ctx: ctx, min: 0, max: unbounded, ignored: true, note: why}, names...)
	}
	unsupported := func(instead string, names ...string) {
		add(&directive{ctx: anyCtx, min: 0, max: unbounded, instead: instead}, names...)
	}

	// Process, event loop and buffer tuning: nothing to do in wsgate.
	ignore(ctxMain, "timer_resolution", "debug_points", "worker_rlimit_core", "working_directory", "env", "ssl_engine")
	ignore(ctxEvents, "epoll_events", "debug_connection")
	ignore(ctxHTTPAll, "connection_pool_size", "request_pool_size", "client_body_in_single_buffer",
		"subrequest_output_buffer_size", "aio_write", "read_ahead", "directio_alignment", "send_lowat",
		"open_file_cache_events", "log_subrequest", "proxy_send_lowat")
	// zlib's window and memory, and nginx's buffering of what gzip
	// compresses: Go's compress/gzip has its own.
	ignore(ctxHTTPAll, "gzip_window", "gzip_hash", "postpone_gzipping", "gzip_no_buffer")
	note(ctxHTTPAll, "Go's compress/gzip sizes its own buffers", "gunzip_buffers")
	for name, instead := range http2Obsolete {
		note(ctxSrvAll, fmt.Sprintf("the %q directive is obsolete, use the %q directive instead", name, instead), name)
	}
	note(ctxSrvAll, "wsgate has no use for it (its HTTP/2 streams are kept in a map)", "http2_pool_size", "http2_streams_index_size")
	note(ctxHTTPAll, "wsgate does not push (HTTP/2 server push, which nginx 1.25.1 removed): clients request what a page needs themselves", "http2_push_preload", "http2_push", "http2_max_concurrent_pushes")
	note(ctxSrvAll, "wsgate does not accept TLS early data (0-RTT): Go's crypto/tls accepts none on a server, so clients send their request after the handshake, a round trip later, and no request can be replayed; $ssl_early_data is always empty", "ssl_early_data")
	note(ctxSrvAll, "Go's crypto/tls sizes TLS records itself: small ones while a connection starts, then up to 16 KiB", "ssl_buffer_size")

	unsupported(`set TLS up with "ssl_protocols" and "ssl_ciphers"`, "ssl_conf_command", "proxy_ssl_conf_command")
	unsupported(`check client certificates against "ssl_crl" (revocation lists), or in the backend`, "ssl_ocsp",
		"ssl_ocsp_responder", "ssl_ocsp_cache")
	note(ctxSrvAll, "quic-go keeps the number of connection IDs a client may hold itself", "quic_active_connection_id_limit")
	unsupported("wsgate runs one process, which owns its QUIC connections: remove it", "quic_bpf")
	unsupported("wsgate's QUIC keys are made at start: a reload keeps them (connections survive it), a restart does not; remove it", "quic_host_key")
	unsupported(`NGINX Plus's active checks are "ws_health_check" in the upstream block`, "health_check")

	note(ctxHTTPAll|ctxLocIf, passNote("fastcgi_pass", "FastCGI"), "fastcgi_param", "fastcgi_index",
		"fastcgi_split_path_info", "fastcgi_store", "fastcgi_store_access", "fastcgi_buffering",
		"fastcgi_request_buffering", "fastcgi_ignore_client_abort", "fastcgi_bind", "fastcgi_socket_keepalive",
		"fastcgi_connect_timeout", "fastcgi_send_timeout", "fastcgi_send_lowat", "fastcgi_buffer_size",
		"fastcgi_pass_request_headers", "fastcgi_pass_request_body", "fastcgi_intercept_errors",
		"fastcgi_read_timeout", "fastcgi_buffers", "fastcgi_busy_buffers_size", "fastcgi_force_ranges",
		"fastcgi_limit_rate", "fastcgi_cache", "fastcgi_cache_key", "fastcgi_cache_path", "fastcgi_cache_bypass",
		"fastcgi_no_cache", "fastcgi_cache_valid", "fastcgi_cache_min_uses", "fastcgi_cache_max_range_offset",
		"fastcgi_cache_use_stale", "fastcgi_cache_methods", "fastcgi_cache_lock", "fastcgi_cache_lock_timeout",
		"fastcgi_cache_lock_age", "fastcgi_cache_revalidate", "fastcgi_cache_background_update",
		"fastcgi_temp_path", "fastcgi_max_temp_file_size", "fastcgi_temp_file_write_size",
		"fastcgi_next_upstream", "fastcgi_next_upstream_tries", "fastcgi_next_upstream_timeout",
		"fastcgi_pass_header", "fastcgi_hide_header", "fastcgi_ignore_headers", "fastcgi_catch_stderr",
		"fastcgi_keep_conn")
	note(ctxHTTPAll|ctxLocIf, passNote("uwsgi_pass", "the uwsgi protocol"), "uwsgi_param",
		"uwsgi_modifier1", "uwsgi_modifier2", "uwsgi_store", "uwsgi_store_access", "uwsgi_buffering",
		"uwsgi_request_buffering", "uwsgi_ignore_client_abort", "uwsgi_bind", "uwsgi_socket_keepalive",
		"uwsgi_connect_timeout", "uwsgi_send_timeout", "uwsgi_buffer_size", "uwsgi_pass_request_headers",
		"uwsgi_pass_request_body", "uwsgi_intercept_errors", "uwsgi_read_timeout", "uwsgi_buffers",
		"uwsgi_busy_buffers_size", "uwsgi_force_ranges", "uwsgi_limit_rate", "uwsgi_cache", "uwsgi_cache_key",
		"uwsgi_cache_path", "uwsgi_cache_bypass", "uwsgi_no_cache", "uwsgi_cache_valid", "uwsgi_cache_min_uses",
		"uwsgi_cache_max_range_offset", "uwsgi_cache_use_stale", "uwsgi_cache_methods", "uwsgi_cache_lock",
		"uwsgi_cache_lock_timeout", "uwsgi_cache_lock_age", "uwsgi_cache_revalidate",
		"uwsgi_cache_background_update", "uwsgi_temp_path", "uwsgi_max_temp_file_size",
		"uwsgi_temp_file_write_size", "uwsgi_next_upstream", "uwsgi_next_upstream_tries",
		"uwsgi_next_upstream_timeout", "uwsgi_string", "uwsgi_pass_header", "uwsgi_hide_header",
		"uwsgi_ignore_headers", "uwsgi_ssl_session_reuse", "uwsgi_ssl_protocols", "uwsgi_ssl_ciphers",
		"uwsgi_ssl_name", "uwsgi_ssl_server_name", "uwsgi_ssl_verify", "uwsgi_ssl_verify_depth",
		"uwsgi_ssl_trusted_certificate", "uwsgi_ssl_crl", "uwsgi_ssl_certificate", "uwsgi_ssl_certificate_key",
		"uwsgi_ssl_password_file", "uwsgi_ssl_conf_command")
	note(ctxHTTPAll|ctxLocIf, passNote("scgi_pass", "SCGI"), "scgi_param",
		"scgi_store", "scgi_store_access", "scgi_buffering", "scgi_request_buffering", "scgi_ignore_client_abort",
		"scgi_bind", "scgi_socket_keepalive", "scgi_connect_timeout", "scgi_send_timeout", "scgi_buffer_size",
		"scgi_pass_request_headers", "scgi_pass_request_body", "scgi_intercept_errors", "scgi_read_timeout",
		"scgi_buffers", "scgi_busy_buffers_size", "scgi_force_ranges", "scgi_limit_rate", "scgi_cache",
		"scgi_cache_key", "scgi_cache_path", "scgi_cache_bypass", "scgi_no_cache", "scgi_cache_valid",
		"scgi_cache_min_uses", "scgi_cache_max_range_offset", "scgi_cache_use_stale", "scgi_cache_methods",
		"scgi_cache_lock", "scgi_cache_lock_timeout", "scgi_cache_lock_age", "scgi_cache_revalidate",
		"scgi_cache_background_update", "scgi_temp_path", "scgi_max_temp_file_size", "scgi_temp_file_write_size",
		"scgi_next_upstream", "scgi_next_upstream_tries", "scgi_next_upstream_timeout", "scgi_pass_header",
		"scgi_hide_header", "scgi_ignore_headers")
	note(ctxHTTPAll|ctxLocIf, passNote("grpc_pass", "gRPC"), "grpc_set_header",
		"grpc_bind", "grpc_socket_keepalive", "grpc_connect_timeout", "grpc_send_timeout", "grpc_intercept_errors",
		"grpc_buffer_size", "grpc_read_timeout", "grpc_next_upstream", "grpc_next_upstream_tries",
		"grpc_next_upstream_timeout", "grpc_pass_header", "grpc_hide_header", "grpc_ignore_headers",
		"grpc_ssl_session_reuse", "grpc_ssl_protocols", "grpc_ssl_ciphers", "grpc_ssl_name", "grpc_ssl_server_name",
		"grpc_ssl_verify", "grpc_ssl_verify_depth", "grpc_ssl_trusted_certificate", "grpc_ssl_crl",
		"grpc_ssl_certificate", "grpc_ssl_certificate_key", "grpc_ssl_password_file", "grpc_ssl_conf_command")
	note(ctxHTTPAll|ctxLocIf, passNote("memcached_pass", "the memcached protocol"),
		"memcached_bind", "memcached_socket_keepalive", "memcached_connect_timeout", "memcached_send_timeout",
		"memcached_buffer_size", "memcached_read_timeout", "memcached_next_upstream",
		"memcached_next_upstream_tries", "memcached_next_upstream_timeout", "memcached_gzip_flag")

	unsupported("a cached response is served whole, not by byte ranges", "proxy_cache_max_range_offset", "slice")
	unsupported("wsgate passes Range to the backend and relays its answer; it cuts no ranges out of proxied responses: let the backend answer ranges", "proxy_force_ranges")
	unsupported("responses are relayed as the backend sends them; change them there", "max_ranges")
	note(ctxHTTPAll, ssiNote, "ssi_silent_errors", "ssi_ignore_recycled_buffers", "ssi_min_file_chunk",
		"ssi_value_length", "ssi_types", "ssi_last_modified")
	unsupported("add_before_body and add_after_body put the answer of a subrequest in the body, which wsgate's body filters (sub_filter, charset, gzip) do not do; have the backend add it", "add_before_body",
		"add_after_body", "addition_types")
	unsupported("wsgate has no XSLT or image filter; transform the response in the backend", "xml_entities", "xslt_stylesheet", "xslt_param", "xslt_string_param",
		"xslt_types", "xslt_last_modified", "image_filter", "image_filter_jpeg_quality",
		"image_filter_webp_quality", "image_filter_sharpen", "image_filter_transparency",
		"image_filter_interlace", "image_filter_buffer")
	unsupported("proxy_pass to a server that streams or picks the file", "flv", "mp4", "mp4_buffer_size",
		"mp4_max_buffer_size", "mp4_start_key_frame", "random_index")
	unsupported("wsgate implements no WebDAV methods: proxy_pass to a WebDAV server", "dav_methods",
		"create_full_put_path", "min_delete_depth", "dav_access")
	unsupported("authenticate in the backend", "auth_delay", "secure_link", "secure_link_md5",
		"secure_link_secret", "valid_referers", "referer_hash_max_size", "referer_hash_bucket_size")
	unsupported("let the backend send response headers", "userid",
		"userid_service", "userid_name", "userid_domain", "userid_path", "userid_expires", "userid_flags",
		"userid_p3p", "userid_mark")
	unsupported(`use "map" to compute values from variables`, "modern_browser",
		"ancient_browser", "modern_browser_value", "ancient_browser_value")
	unsupported("pass the client address to the backend and look it up there", "geoip_country", "geoip_org",
		"geoip_city", "geoip_proxy", "geoip_proxy_recursive")
	unsupported("wsgate sends each request to one upstream; mirror traffic in front of it", "mirror",
		"mirror_request_body", "post_action")
	unsupported(`use "return 204", or let the backend send the image`, "empty_gif")
	unsupported(`wsgate embeds no Perl: move the code to the backend, or use "map" for a variable`, "perl",
		"perl_modules", "perl_require", "perl_set")
}
