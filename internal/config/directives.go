package config

import (
	"strconv"
	"strings"
	"time"
)

// directive is one entry of the directive table, nginx's ngx_command_t:
// where it may appear, how many arguments it takes, and what it sets.
// Adding a directive is one entry here plus, if it carries a value, one
// field in spec.go.
type directive struct {
	ctx      ctxMask
	min, max int  // argument count; max < 0: no upper bound
	block    bool // takes a { } block (NGX_CONF_BLOCK)
	// blockIn lists contexts where the directive takes a block even though
	// block is false ("server" is a block in http, a line in upstream).
	blockIn ctxMask
	once    bool // a second occurrence in one block is `"x" directive is duplicate`
	// ignored: accepted with a Notice ("accepted and ignored").
	ignored bool
	// instead, when set, marks a real nginx directive wsgate does not
	// implement; the error names what to use instead.
	instead string
	set     setFunc
}

// setFunc reads one directive into the frame it appears in. first is true
// for the first occurrence in its block (array directives such as
// proxy_set_header drop inherited values on it).
type setFunc func(c *checker, f *frame, d *Directive, first bool)

const unbounded = -1

// directiveTable returns a fresh table (built per Check; nothing global is
// mutable). Grouped as nginx's modules group them.
func directiveTable() map[string]*directive {
	t := map[string]*directive{
		// core (NGX_MAIN_CONF) and events.
		"events":               {ctx: ctxMain, block: true, once: true, set: setEvents},
		"worker_connections":   {ctx: ctxEvents, min: 1, max: 1, once: true, set: setWorkerConnections},
		"worker_rlimit_nofile": {ctx: ctxMain, min: 1, max: 1, once: true, set: setWorkerRlimitNofile},
		"pid":                  {ctx: ctxMain, min: 1, max: 1, once: true, set: setPID},
		"error_log":            {ctx: ctxMain | ctxHTTPAll, min: 1, max: 2, set: setErrorLog},
		"include":              {ctx: ctxMain | ctxEvents | ctxHTTPAll | ctxUpstream, min: 1, max: 1, set: setInclude},

		// ngx_http_core_module.
		"http":                        {ctx: ctxMain, block: true, once: true, set: setHTTP},
		"server":                      {ctx: ctxHTTP | ctxUpstream, min: 0, max: unbounded, blockIn: ctxHTTP, set: setServer},
		"listen":                      {ctx: ctxServer, min: 1, max: unbounded, set: setListen},
		"server_name":                 {ctx: ctxServer, min: 1, max: unbounded, set: setServerName},
		"location":                    {ctx: ctxServer | ctxLocation, min: 1, max: 2, block: true, set: setLocation},
		"client_max_body_size":        {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(sizeArg, func(l *LocConf) *int64 { return &l.ClientMaxBodySize })},
		"client_body_timeout":         {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ClientBodyTimeout })},
		"send_timeout":                {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.SendTimeout })},
		"keepalive_timeout":           {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 2, once: true, set: setKeepaliveTimeout},
		"keepalive_requests":          {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 1, once: true, set: setKeepaliveRequests},
		"server_tokens":               {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ServerTokens })},
		"resolver":                    {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: setResolver},
		"resolver_timeout":            {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ResolverTimeout })},
		"client_header_timeout":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(msecArg, func(s *Server) *time.Duration { return &s.ClientHeaderTimeout })},
		"client_header_buffer_size":   {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(sizeArg, func(s *Server) *int64 { return &s.ClientHeaderBufferSize })},
		"large_client_header_buffers": {ctx: ctxSrvAll, min: 2, max: 2, once: true, set: onSrv(buffersArg, func(s *Server) *Buffers { return &s.LargeClientHeaderBuffers })},
		"merge_slashes":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.MergeSlashes })},
		"underscores_in_headers":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.UnderscoresInHeaders })},
		"ignore_invalid_headers":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.IgnoreInvalidHeaders })},

		// ngx_http_rewrite_module (return only).
		"return": {ctx: ctxServer | ctxLocation, min: 1, max: 2, set: setReturn},

		// ngx_http_proxy_module.
		"proxy_pass":                  {ctx: ctxLocation, min: 1, max: 1, once: true, set: setProxyPass},
		"proxy_http_version":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("1.0", "1.1"), func(l *LocConf) *string { return &l.ProxyHTTPVersion })},
		"proxy_set_header":            {ctx: ctxHTTPAll, min: 2, max: 2, set: setProxySetHeader},
		"proxy_hide_header":           {ctx: ctxHTTPAll, min: 1, max: 1, set: setHeaderNames(func(l *LocConf) *[]string { return &l.ProxyHideHeaders })},
		"proxy_pass_header":           {ctx: ctxHTTPAll, min: 1, max: 1, set: setHeaderNames(func(l *LocConf) *[]string { return &l.ProxyPassHeaders })},
		"proxy_redirect":              {ctx: ctxHTTPAll, min: 1, max: 2, set: setProxyRedirect},
		"proxy_connect_timeout":       {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyConnectTimeout })},
		"proxy_read_timeout":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyReadTimeout })},
		"proxy_send_timeout":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxySendTimeout })},
		"proxy_next_upstream":         {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(nextUpstreamArg, func(l *LocConf) *NextUpstream { return &l.ProxyNextUpstream })},
		"proxy_next_upstream_tries":   {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(numArg, func(l *LocConf) *int { return &l.ProxyNextUpstreamTries })},
		"proxy_next_upstream_timeout": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ProxyNextUpstreamTimeout })},
		"proxy_buffering":             {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyBuffering })},
		"proxy_buffer_size":           {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(sizeArg, func(l *LocConf) *int64 { return &l.ProxyBufferSize })},
		"proxy_request_buffering":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyRequestBuffering })},
		"proxy_pass_request_headers":  {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyPassRequestHeaders })},
		"proxy_pass_request_body":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyPassRequestBody })},
		"proxy_ignore_client_abort":   {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ProxyIgnoreClientAbort })},

		// ngx_http_log_module.
		"log_format": {ctx: ctxHTTP, min: 2, max: unbounded, set: setLogFormat},
		"access_log": {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setAccessLog},

		// ngx_http_ssl_module (server-level; inherited from http).
		"ssl_certificate":           {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.Certificate })},
		"ssl_certificate_key":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.CertificateKey })},
		"ssl_protocols":             {ctx: ctxSrvAll, min: 1, max: unbounded, once: true, set: onTLS(sslProtocolsArg, func(t *TLSConf) *[]string { return &t.Protocols })},
		"ssl_ciphers":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.Ciphers })},
		"ssl_prefer_server_ciphers": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(flagArg, func(t *TLSConf) *bool { return &t.PreferServerCiphers })},
		"ssl_session_cache":         {ctx: ctxSrvAll, min: 1, max: 2, once: true, set: onTLS(joinedArgs, func(t *TLSConf) *string { return &t.SessionCache })},
		"ssl_session_timeout":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(secArg, func(t *TLSConf) *time.Duration { return &t.SessionTimeout })},

		// ngx_http_upstream_module and the balancers.
		"upstream":   {ctx: ctxHTTP, min: 1, max: 1, block: true, set: setUpstream},
		"least_conn": {ctx: ctxUpstream, min: 0, max: 0, set: setBalance(BalanceLeastConn)},
		"ip_hash":    {ctx: ctxUpstream, min: 0, max: 0, set: setBalance(BalanceIPHash)},
		"hash":       {ctx: ctxUpstream, min: 1, max: 2, set: setHash},
		"random":     {ctx: ctxUpstream, min: 0, max: 2, set: setRandom},
		"keepalive":  {ctx: ctxUpstream, min: 1, max: 1, once: true, set: setUpstreamKeepalive},
		"zone":       {ctx: ctxUpstream, min: 1, max: 2, once: true, set: setZone},

		// ngx_http_map_module.
		"map": {ctx: ctxHTTP, min: 2, max: 2, block: true, set: setMap},

		// wsgate's own (WSConf): http, server and location, inherited.
		"ws_upgrade":           {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.WS.Upgrade })},
		"ws_allow_upgrade":     {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(tokensArg, func(l *LocConf) *[]string { return &l.WS.AllowUpgrades })},
		"ws_reload_close_code": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(closeCodeArg, func(l *LocConf) *int { return &l.WS.ReloadClose })},
		"ws_drain_window":      {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.WS.DrainWindow })},
	}

	// Accepted with a notice: meaningful to nginx, nothing to do in wsgate.
	ignore := func(ctx ctxMask, block bool, names ...string) {
		for _, n := range names {
			t[n] = &directive{ctx: ctx, min: 0, max: unbounded, block: block, ignored: true}
		}
	}
	ignore(ctxMain, false, "worker_processes", "user", "daemon", "master_process", "worker_cpu_affinity",
		"worker_priority", "worker_shutdown_timeout", "pcre_jit", "thread_pool", "lock_file", "load_module")
	ignore(ctxEvents, false, "multi_accept", "use", "accept_mutex", "accept_mutex_delay", "worker_aio_requests")
	ignore(ctxHTTPAll, false, "sendfile", "sendfile_max_chunk", "tcp_nopush", "tcp_nodelay", "default_type",
		"gzip", "gzip_types", "gzip_comp_level", "gzip_min_length", "gzip_proxied", "gzip_vary", "gzip_disable",
		"gzip_http_version", "gzip_buffers", "keepalive_disable", "types_hash_max_size", "types_hash_bucket_size",
		"client_body_buffer_size", "client_body_temp_path", "client_body_in_file_only", "proxy_buffers",
		"proxy_busy_buffers_size", "proxy_temp_path", "proxy_max_temp_file_size", "proxy_temp_file_write_size",
		"open_file_cache", "open_file_cache_valid", "open_file_cache_min_uses", "open_file_cache_errors",
		"output_buffers", "postpone_output", "reset_timedout_connection", "lingering_close", "lingering_time",
		"lingering_timeout", "server_name_in_redirect", "port_in_redirect", "absolute_redirect", "msie_padding",
		"msie_refresh", "log_not_found", "chunked_transfer_encoding", "ssl_session_tickets", "ssl_dhparam",
		"ssl_ecdh_curve", "ssl_buffer_size", "etag", "if_modified_since")
	ignore(ctxHTTP, false, "server_names_hash_bucket_size", "server_names_hash_max_size",
		"variables_hash_max_size", "variables_hash_bucket_size", "proxy_headers_hash_max_size",
		"proxy_headers_hash_bucket_size", "map_hash_max_size", "map_hash_bucket_size")
	ignore(ctxHTTPAll, true, "types")

	// Real nginx directives wsgate does not implement, with what to use instead.
	unsupported := func(ctx ctxMask, instead string, names ...string) {
		for _, n := range names {
			t[n] = &directive{ctx: ctx, min: 0, max: unbounded, instead: instead}
		}
	}
	const anyCtx = ctxMain | ctxEvents | ctxHTTPAll | ctxUpstream
	unsupported(anyCtx, "wsgate serves no files: proxy_pass to a server that does", "root", "alias", "index",
		"try_files", "autoindex", "autoindex_exact_size", "autoindex_format", "autoindex_localtime", "expires",
		"sub_filter", "ssi", "charset", "source_charset", "disable_symlinks", "internal", "limit_rate",
		"limit_rate_after", "directio", "aio")
	unsupported(anyCtx, `use "return" for redirects, or a URI part in "proxy_pass" to change the path`, "rewrite", "rewrite_log")
	unsupported(anyCtx, `use "map" to compute values from variables`, "if", "set", "break")
	unsupported(anyCtx, `use "proxy_pass" to an HTTP backend`, "fastcgi_pass", "uwsgi_pass", "scgi_pass",
		"grpc_pass", "memcached_pass", "fastcgi_param", "uwsgi_param", "scgi_param", "grpc_set_header", "fastcgi_index")
	unsupported(anyCtx, "authenticate in the backend", "auth_basic", "auth_basic_user_file", "auth_request",
		"auth_request_set", "satisfy", "allow", "deny")
	unsupported(anyCtx, "rate and connection limits belong in the backend or in front of wsgate", "limit_req",
		"limit_req_zone", "limit_req_status", "limit_conn", "limit_conn_zone", "limit_conn_status")
	unsupported(anyCtx, "let the backend send error pages and response headers", "error_page",
		"add_header", "add_trailer", "proxy_intercept_errors", "more_set_headers")
	unsupported(anyCtx, "wsgate does not cache responses", "proxy_cache", "proxy_cache_path", "proxy_cache_key",
		"proxy_cache_valid", "proxy_cache_bypass", "proxy_no_cache", "proxy_cache_use_stale", "proxy_store")
	unsupported(anyCtx, "configure certificate checking in the backend's TLS terminator", "ssl_stapling",
		"ssl_stapling_verify", "ssl_trusted_certificate", "ssl_client_certificate", "ssl_verify_client",
		"ssl_verify_depth", "ssl_crl", "ssl_password_file", "proxy_ssl_verify", "proxy_ssl_trusted_certificate",
		"proxy_ssl_certificate", "proxy_ssl_certificate_key", "proxy_ssl_server_name", "proxy_ssl_name",
		"proxy_ssl_protocols", "proxy_ssl_ciphers", "proxy_ssl_session_reuse")
	unsupported(anyCtx, "wsgate forwards requests as received; change them in the backend", "proxy_set_body",
		"proxy_method", "proxy_ignore_headers", "proxy_cookie_domain", "proxy_cookie_path", "proxy_bind",
		"proxy_socket_keepalive", "limit_except", "real_ip_header", "set_real_ip_from", "real_ip_recursive")
	unsupported(anyCtx, "wsgate proxies HTTP and WebSocket only", "stream", "mail")
	return t
}

// Argument parsers: each reads d.Args, reports nginx's error at the
// offending argument and returns ok=false on failure.

type argParser[T any] func(c *checker, d *Directive) (T, bool)

// onLoc stores a parsed value into a LocConf field at the directive's level.
func onLoc[T any](parse argParser[T], field func(*LocConf) *T) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		if v, ok := parse(c, d); ok {
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { *field(l) = v })
		}
	}
}

// onSrv stores a parsed value into a Server field (http or server level).
func onSrv[T any](parse argParser[T], field func(*Server) *T) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		if v, ok := parse(c, d); ok {
			f.lvl.srv = append(f.lvl.srv, func(s *Server) { *field(s) = v })
		}
	}
}

// onTLS stores a parsed value into the server's TLS settings.
func onTLS[T any](parse argParser[T], field func(*TLSConf) *T) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		if v, ok := parse(c, d); ok {
			f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { *field(t) = v })
		}
	}
}

// msecArg is ngx_conf_set_msec_slot.
func msecArg(c *checker, d *Directive) (time.Duration, bool) {
	v, ok := ParseTime(d.Args[0].Text, false)
	if !ok {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
	}
	return v, ok
}

// secArg is ngx_conf_set_sec_slot.
func secArg(c *checker, d *Directive) (time.Duration, bool) {
	v, ok := ParseTime(d.Args[0].Text, true)
	if !ok {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
	}
	return v, ok
}

// sizeArg is ngx_conf_set_size_slot / ngx_conf_set_off_slot.
func sizeArg(c *checker, d *Directive) (int64, bool) {
	v, ok := ParseSize(d.Args[0].Text)
	if !ok {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
	}
	return v, ok
}

// numArg is ngx_conf_set_num_slot.
func numArg(c *checker, d *Directive) (int, bool) {
	v, ok := parseNumber(d.Args[0].Text)
	if !ok || v > 1<<31-1 {
		c.errorf(d.Args[0].Pos, "%q directive invalid number", d.Name)
		return 0, false
	}
	return int(v), true
}

// flagArg is ngx_conf_set_flag_slot.
func flagArg(c *checker, d *Directive) (bool, bool) {
	v, ok := ParseFlag(d.Args[0].Text)
	if !ok {
		c.errorf(d.Args[0].Pos, "invalid value %q in %q directive, it must be \"on\" or \"off\"", d.Args[0].Text, d.Name)
	}
	return v, ok
}

func stringArg(c *checker, d *Directive) (string, bool) { return d.Args[0].Text, true }

func joinedArgs(c *checker, d *Directive) (string, bool) {
	parts := make([]string, len(d.Args))
	for i, a := range d.Args {
		parts[i] = a.Text
	}
	return strings.Join(parts, " "), true
}

// enumArg is ngx_conf_set_enum_slot: one of the given words, exactly.
func enumArg(values ...string) argParser[string] {
	return func(c *checker, d *Directive) (string, bool) {
		for _, v := range values {
			if d.Args[0].Text == v {
				return v, true
			}
		}
		c.errorf(d.Args[0].Pos, "invalid value %q", d.Args[0].Text)
		return "", false
	}
}

// buffersArg is ngx_conf_set_bufs_slot: "number size".
func buffersArg(c *checker, d *Directive) (Buffers, bool) {
	n, ok1 := parseNumber(d.Args[0].Text)
	size, ok2 := ParseSize(d.Args[1].Text)
	if !ok1 || !ok2 || n == 0 || size == 0 || n > 1<<31-1 {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
		return Buffers{}, false
	}
	return Buffers{Num: int(n), Size: size}, true
}

var nextUpstreamNames = map[string]NextUpstream{
	"error": NextError, "timeout": NextTimeout, "invalid_header": NextInvalidHeader,
	"http_500": NextHTTP500, "http_502": NextHTTP502, "http_503": NextHTTP503, "http_504": NextHTTP504,
	"http_403": NextHTTP403, "http_404": NextHTTP404, "http_429": NextHTTP429,
	"non_idempotent": NextNonIdempotent, "off": NextOff,
}

// nextUpstreamArg is ngx_conf_set_bitmask_slot over ngx_http_proxy_next_upstream_masks.
func nextUpstreamArg(c *checker, d *Directive) (NextUpstream, bool) {
	var m NextUpstream
	for _, a := range d.Args {
		v, ok := nextUpstreamNames[a.Text]
		if !ok {
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return 0, false
		}
		if v == NextOff {
			m = NextOff
			continue
		}
		m |= v
	}
	return m, true
}

// sslProtocolsArg accepts the protocol names nginx knows; wsgate (Go's
// crypto/tls) serves only TLSv1.2 and TLSv1.3, so older ones are dropped
// with a notice.
func sslProtocolsArg(c *checker, d *Directive) ([]string, bool) {
	var out []string
	for _, a := range d.Args {
		switch a.Text {
		case "TLSv1.2", "TLSv1.3":
			out = append(out, a.Text)
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1":
			c.notice(a.Pos, "%q in \"ssl_protocols\" ignored: wsgate serves TLSv1.2 and TLSv1.3 only", a.Text)
		default:
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return nil, false
		}
	}
	return out, true
}

// tokensArg reads ws_allow_upgrade's Upgrade tokens (RFC 9110 §7.8), lower-cased.
func tokensArg(c *checker, d *Directive) ([]string, bool) {
	out := make([]string, 0, len(d.Args))
	for _, a := range d.Args {
		if a.Text == "" || strings.ContainsAny(a.Text, " \t,;\"()<>@:\\/[]?={}") {
			c.errorf(a.Pos, "invalid upgrade token %q in %q directive", a.Text, d.Name)
			return nil, false
		}
		if strings.EqualFold(a.Text, "websocket") {
			c.errorf(a.Pos, "%q needs no %q: WebSocket upgrades are governed by \"ws_upgrade\"", d.Name, a.Text)
			return nil, false
		}
		out = append(out, strings.ToLower(a.Text))
	}
	return out, true
}

// closeCodeArg reads ws_reload_close_code: 1001 (Going Away) or 1012
// (Service Restart), RFC 6455 §7.4.1 and the IANA registry.
func closeCodeArg(c *checker, d *Directive) (int, bool) {
	switch d.Args[0].Text {
	case "1001":
		return 1001, true
	case "1012":
		return 1012, true
	}
	c.errorf(d.Args[0].Pos, "invalid value %q in %q directive, it must be 1001 or 1012", d.Args[0].Text, d.Name)
	return 0, false
}

// Setters for main and events.

func setEvents(c *checker, f *frame, d *Directive, _ bool) {
	c.walk(c.newFrame(ctxEvents), d.Block)
}

func setWorkerConnections(c *checker, f *frame, d *Directive, _ bool) {
	if v, ok := numArg(c, d); ok {
		c.spec.Main.WorkerConnections = v
	}
}

func setWorkerRlimitNofile(c *checker, f *frame, d *Directive, _ bool) {
	if v, ok := numArg(c, d); ok {
		c.spec.Main.WorkerRlimitNofile = v
	}
}

func setPID(c *checker, f *frame, d *Directive, _ bool) {
	c.spec.Main.PID = d.Args[0].Text
}

var logLevels = map[string]bool{"debug": true, "info": true, "notice": true, "warn": true, "error": true, "crit": true, "alert": true, "emerg": true}

// setErrorLog is ngx_error_log: "error_log file [level]"; several may be
// given per level (all are written); at http/server/location they inherit
// all-or-nothing.
func setErrorLog(c *checker, f *frame, d *Directive, first bool) {
	el := ErrorLog{Pos: d.Pos, Path: d.Args[0].Text, Level: "error"}
	if len(d.Args) == 2 {
		if !logLevels[d.Args[1].Text] {
			c.errorf(d.Args[1].Pos, "invalid log level %q", d.Args[1].Text)
			return
		}
		el.Level = d.Args[1].Text
	}
	if f.ctx == ctxMain {
		c.spec.Main.ErrorLogs = append(c.spec.Main.ErrorLogs, el)
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.ErrorLogs = nil
		}
		l.ErrorLogs = append(l.ErrorLogs, el)
	})
}

// setInclude: includes are expanded by the parser (ParseFile), so one that
// reaches Check came from an AST built by other means.
func setInclude(c *checker, f *frame, d *Directive, _ bool) {
	c.errorf(d.Pos, "\"include\" directive was not expanded: read files with ParseFile or Load")
}

// Setters for http, server and location levels.

func setKeepaliveTimeout(c *checker, f *frame, d *Directive, _ bool) {
	if f.ctx == ctxUpstream {
		if len(d.Args) != 1 {
			c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
			return
		}
		if v, ok := msecArg(c, d); ok {
			f.ups.KeepaliveTimeout = v
		}
		return
	}
	// ngx_http_core_keepalive: "timeout [header_timeout]"; wsgate sends no
	// Keep-Alive header, so the second value is noted and dropped.
	v, ok := msecArg(c, d)
	if !ok {
		return
	}
	if len(d.Args) == 2 {
		if _, ok := ParseTime(d.Args[1].Text, true); !ok {
			c.errorf(d.Args[1].Pos, "%q directive invalid value", d.Name)
			return
		}
		c.notice(d.Args[1].Pos, "the \"Keep-Alive: timeout=\" header value of \"keepalive_timeout\" is ignored: wsgate sends no Keep-Alive header")
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveTimeout = v })
}

func setKeepaliveRequests(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := numArg(c, d)
	if !ok {
		return
	}
	if f.ctx == ctxUpstream {
		f.ups.KeepaliveRequests = v
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveRequests = v })
}

// setResolver is ngx_http_core_resolver: addresses, then valid=time and
// ipv6=on|off parameters (noted: wsgate uses the addresses only).
func setResolver(c *checker, f *frame, d *Directive, _ bool) {
	var addrs []string
	for _, a := range d.Args {
		if strings.HasPrefix(a.Text, "valid=") || strings.HasPrefix(a.Text, "ipv6=") || strings.HasPrefix(a.Text, "status_zone=") {
			c.notice(a.Pos, "resolver parameter %q is ignored: wsgate uses the addresses only", a.Text)
			continue
		}
		addrs = append(addrs, a.Text)
	}
	if len(addrs) == 0 {
		c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Resolver = addrs })
}

// setReturn is ngx_http_rewrite_return: "return code [text]" or "return URL".
func setReturn(c *checker, f *frame, d *Directive, _ bool) {
	r := &Return{Pos: d.Pos}
	a := d.Args[0]
	if len(d.Args) == 1 && (strings.HasPrefix(a.Text, "http://") || strings.HasPrefix(a.Text, "https://") || strings.HasPrefix(a.Text, "$scheme")) {
		r.Code, r.Text = 302, a.Text
	} else {
		n, ok := parseNumber(a.Text)
		if !ok || n > 999 {
			c.errorf(a.Pos, "invalid return code %q", a.Text)
			return
		}
		r.Code = int(n)
		if len(d.Args) == 2 {
			r.Text = d.Args[1].Text
		}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Return = r })
}

// setProxyPass is ngx_http_proxy_pass.
func setProxyPass(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	pp := &ProxyPass{Pos: d.Pos, Raw: a.Text}
	rest := a.Text
	switch {
	case len(rest) >= 7 && strings.EqualFold(rest[:7], "http://"):
		pp.Scheme, rest = "http", rest[7:]
	case len(rest) >= 8 && strings.EqualFold(rest[:8], "https://"):
		pp.Scheme, rest = "https", rest[8:]
	case strings.HasPrefix(rest, "$"):
		// The whole URL comes from a variable: checked per request.
	default:
		c.errorf(a.Pos, "invalid URL prefix in %q", a.Text)
		return
	}
	if strings.Contains(a.Text, "$") {
		pp.HasVars = true
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxyPass = pp })
		return
	}
	if strings.HasPrefix(rest, "unix:") {
		c.errorf(a.Pos, "unix sockets are not supported by wsgate; proxy to a TCP address")
		return
	}
	hostport := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hostport, pp.URI, pp.HasURI = rest[:i], rest[i:], true
		if pp.URI[0] == '?' {
			pp.URI = "/" + pp.URI
		}
	}
	host, port, ok := splitHostPort(hostport)
	if !ok || host == "" {
		c.errorf(a.Pos, "invalid host in upstream %q", hostport)
		return
	}
	if port != "" {
		if n, ok := parseNumber(port); !ok || n < 1 || n > 65535 {
			c.errorf(a.Pos, "invalid port in upstream %q", hostport)
			return
		}
	}
	pp.Host, pp.Port = host, port
	if pp.HasURI && f.loc != nil && (f.loc.l.Match == MatchRegex || f.loc.l.Match == MatchRegexNoCase) {
		c.errorf(d.Pos, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxyPass = pp })
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' {
			return "", "", false
		}
		return host, rest[1:], true
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.IndexByte(s[:i], ':') >= 0 {
			return "", "", false // bare IPv6 needs brackets
		}
		return s[:i], s[i+1:], true
	}
	return s, "", true
}

// setProxySetHeader is ngx_conf_set_keyval_slot into headers_source: the
// first one at a level discards everything inherited (§1.4).
func setProxySetHeader(c *checker, f *frame, d *Directive, first bool) {
	h := HeaderSet{Pos: d.Pos, Name: d.Args[0].Text, Value: d.Args[1].Text}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.SetHeadersDropped = l.ProxySetHeaders
			l.ProxySetHeaders = nil
			l.SetHeadersInherited = false
		}
		l.ProxySetHeaders = append(l.ProxySetHeaders, h)
	})
}

// setHeaderNames makes the setter of proxy_hide_header and
// proxy_pass_header: a list of lower-cased header names, which a level that
// sets the directive replaces rather than extends (a level inherits its
// parent's list only when it sets none: ngx_http_upstream_hide_headers_hash).
func setHeaderNames(list func(*LocConf) *[]string) setFunc {
	return func(c *checker, f *frame, d *Directive, first bool) {
		name := strings.ToLower(d.Args[0].Text)
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
			names := list(l)
			if first {
				*names = nil
			}
			*names = append(*names, name)
		})
	}
}

// setProxyRedirect is ngx_http_proxy_redirect: "default", "off"/"false",
// or "from to" where from may be "~re" or "~*re". Inherited all-or-nothing;
// "default" is expanded per location once proxy_pass is known.
func setProxyRedirect(c *checker, f *frame, d *Directive, first bool) {
	a := d.Args[0]
	reset := func(l *LocConf) {
		if first {
			l.ProxyRedirect = nil
			l.ProxyRedirectOff = false
		}
	}
	if len(d.Args) == 1 {
		switch a.Text {
		case "off", "false":
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirectOff = true })
			return
		case "default":
			if !f.seen["proxy_pass"] {
				c.errorf(d.Pos, "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive")
				return
			}
			r := Redirect{Pos: d.Pos, Default: true}
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirect = append(l.ProxyRedirect, r) })
			return
		}
		c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
		return
	}
	r := Redirect{Pos: d.Pos, From: a.Text, To: d.Args[1].Text}
	switch {
	case strings.HasPrefix(r.From, "~*"):
		r.Regex, r.NoCase, r.From = true, true, r.From[2:]
	case strings.HasPrefix(r.From, "~"):
		r.Regex, r.From = true, r.From[1:]
	}
	if r.Regex {
		re, ok := c.convertRegex(a.Pos, r.From, r.NoCase)
		if !ok {
			return
		}
		r.From = re
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { reset(l); l.ProxyRedirect = append(l.ProxyRedirect, r) })
}

// combinedFormat is nginx's predefined log format (ngx_http_log_module).
const combinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// setLogFormat is ngx_http_log_set_format: "name [escape=default|json|none] string ...".
func setLogFormat(c *checker, f *frame, d *Directive, _ bool) {
	name := d.Args[0].Text
	if name == "combined" || c.hasLogFormat(name) {
		c.errorf(d.Args[0].Pos, "duplicate \"log_format\" name %q", name)
		return
	}
	lf := &LogFormat{Pos: d.Pos, Name: name, Escape: "default"}
	args := d.Args[1:]
	if v, ok := strings.CutPrefix(args[0].Text, "escape="); ok {
		if v != "default" && v != "json" && v != "none" {
			c.errorf(args[0].Pos, "unknown log format escaping %q", v)
			return
		}
		lf.Escape = v
		args = args[1:]
		if len(args) == 0 {
			c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
			return
		}
	}
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.Text)
	}
	lf.Format = b.String()
	c.http.h.LogFormats = append(c.http.h.LogFormats, lf)
}

// setAccessLog is ngx_http_log_set_log: "off" or "path [format
// [buffer=size] [flush=time] [if=condition]]"; inherited all-or-nothing.
func setAccessLog(c *checker, f *frame, d *Directive, first bool) {
	if d.Args[0].Text == "off" {
		if len(d.Args) != 1 {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.AccessLogs = nil; l.AccessLogOff = true })
		return
	}
	al := AccessLog{Pos: d.Pos, Path: d.Args[0].Text, Format: "combined"}
	rest := d.Args[1:]
	if len(rest) > 0 && !strings.Contains(rest[0].Text, "=") {
		al.Format = rest[0].Text
		rest = rest[1:]
		if al.Format != "combined" && !c.hasLogFormat(al.Format) {
			c.errorf(d.Args[1].Pos, "unknown log format %q", al.Format)
			return
		}
	}
	for _, a := range rest {
		switch {
		case strings.HasPrefix(a.Text, "buffer="):
			n, ok := ParseSize(a.Text[len("buffer="):])
			if !ok {
				c.errorf(a.Pos, "invalid buffer size %q", a.Text[len("buffer="):])
				return
			}
			al.Buffer = n
		case strings.HasPrefix(a.Text, "flush="):
			v, ok := ParseTime(a.Text[len("flush="):], false)
			if !ok {
				c.errorf(a.Pos, "invalid flush time %q", a.Text[len("flush="):])
				return
			}
			al.Flush = v
		case strings.HasPrefix(a.Text, "if="):
			al.If = a.Text[len("if="):]
		case a.Text == "gzip" || strings.HasPrefix(a.Text, "gzip="):
			c.errorf(a.Pos, "access_log parameter %q is not supported by wsgate; compress logs with logrotate", a.Text)
			return
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if al.Flush > 0 && al.Buffer == 0 {
		c.errorf(d.Pos, "no buffer is defined for access_log %q", al.Path)
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.AccessLogs = nil
			l.AccessLogOff = false
		}
		l.AccessLogs = append(l.AccessLogs, al)
	})
}

func (c *checker) hasLogFormat(name string) bool {
	for _, lf := range c.http.h.LogFormats {
		if lf.Name == name {
			return true
		}
	}
	return false
}

// Setters for upstream{}.

// balanceFlags is which server parameters a method allows
// (NGX_HTTP_UPSTREAM_* flags of each balancer).
func balanceAllowsBackup(b Balance) bool {
	return b == BalanceRoundRobin || b == BalanceLeastConn
}

func setBalance(b Balance) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) { c.setMethod(f, d, b) }
}

// setMethod records a balancing method; nginx warns "load balancing method
// redefined" on a second one and keeps the last.
func (c *checker) setMethod(f *frame, d *Directive, b Balance) {
	u := f.ups
	if f.seen["balance"] {
		c.notice(d.Pos, "load balancing method redefined")
	}
	f.seen["balance"] = true
	u.Balance = b
	u.HashKey, u.HashConsistent, u.RandomTwo = "", false, false
	if !balanceAllowsBackup(b) {
		for _, s := range u.Servers {
			if s.Backup {
				c.notice(s.Pos, "backup server ignored: the %s balancing method never uses backup servers", b)
			}
		}
	}
}

func setHash(c *checker, f *frame, d *Directive, _ bool) {
	if len(d.Args) == 2 && d.Args[1].Text != "consistent" {
		c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
		return
	}
	c.setMethod(f, d, BalanceHash)
	f.ups.HashKey = d.Args[0].Text
	f.ups.HashConsistent = len(d.Args) == 2
}

// setRandom is ngx_http_upstream_random: "random [two [least_conn]]".
func setRandom(c *checker, f *frame, d *Directive, _ bool) {
	two := false
	if len(d.Args) >= 1 {
		if d.Args[0].Text != "two" {
			c.errorf(d.Args[0].Pos, "invalid parameter %q", d.Args[0].Text)
			return
		}
		two = true
		if len(d.Args) == 2 && d.Args[1].Text != "least_conn" {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
	}
	c.setMethod(f, d, BalanceRandom)
	f.ups.RandomTwo = two
}

func setUpstreamKeepalive(c *checker, f *frame, d *Directive, _ bool) {
	n, ok := parseNumber(d.Args[0].Text)
	if !ok || n == 0 || n > 1<<31-1 {
		c.errorf(d.Args[0].Pos, "invalid value %q in %q directive", d.Args[0].Text, d.Name)
		return
	}
	f.ups.Keepalive = int(n)
}

func setZone(c *checker, f *frame, d *Directive, _ bool) {
	if len(d.Args) == 2 {
		if _, ok := ParseSize(d.Args[1].Text); !ok {
			c.errorf(d.Args[1].Pos, "invalid zone size %q", d.Args[1].Text)
			return
		}
	}
	f.ups.Zone = d.Args[0].Text
}

// setUpstreamServer is ngx_http_upstream_server.
func setUpstreamServer(c *checker, f *frame, d *Directive) {
	if len(d.Args) == 0 {
		c.errorf(d.Pos, "invalid number of arguments in \"server\" directive")
		return
	}
	u := f.ups
	s := UpstreamServer{Pos: d.Pos, Addr: d.Args[0].Text, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second}
	if strings.HasPrefix(s.Addr, "unix:") {
		c.errorf(d.Args[0].Pos, "unix sockets are not supported by wsgate; use a TCP address")
		return
	}
	if _, port, ok := splitHostPort(s.Addr); !ok || s.Addr == "" {
		c.errorf(d.Args[0].Pos, "invalid host in upstream %q", s.Addr)
		return
	} else if port != "" {
		if n, ok := parseNumber(port); !ok || n < 1 || n > 65535 {
			c.errorf(d.Args[0].Pos, "invalid port in upstream %q", s.Addr)
			return
		}
	}
	for _, a := range d.Args[1:] {
		k, v, hasV := strings.Cut(a.Text, "=")
		bad := func() { c.errorf(a.Pos, "invalid parameter %q", a.Text) }
		switch {
		case k == "weight" && hasV:
			n, ok := parseNumber(v)
			if !ok || n == 0 || n > 1<<31-1 {
				bad()
				return
			}
			s.Weight = int(n)
		case k == "max_fails" && hasV:
			n, ok := parseNumber(v)
			if !ok || n > 1<<31-1 {
				bad()
				return
			}
			s.MaxFails = int(n)
		case k == "fail_timeout" && hasV:
			t, ok := ParseTime(v, true)
			if !ok {
				bad()
				return
			}
			s.FailTimeout = t
		case k == "max_conns" && hasV:
			n, ok := parseNumber(v)
			if !ok || n > 1<<31-1 {
				bad()
				return
			}
			s.MaxConns = int(n)
		case a.Text == "backup":
			if !balanceAllowsBackup(u.Balance) {
				c.errorf(a.Pos, "balancing method does not support parameter \"backup\"")
				return
			}
			s.Backup = true
		case a.Text == "down":
			s.Down = true
		default:
			bad()
			return
		}
	}
	u.Servers = append(u.Servers, s)
}

// nameOK reports whether s is a plausible variable name ([A-Za-z0-9_]+).
func nameOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }

// Block directives: http, server, location, upstream, map.

func setHTTP(c *checker, f *frame, d *Directive, _ bool) {
	c.enterHTTP(d.Pos, d.Block, false)
}

// enterHTTP reads an http body (explicit, or a sites file's top level).
func (c *checker) enterHTTP(pos Pos, body []*Directive, implicit bool) {
	h := &HTTP{Pos: pos, Implicit: implicit}
	c.spec.HTTP = h
	c.http = &httpLevel{h: h}
	f := c.newFrame(ctxHTTP)
	f.lvl = &c.http.level
	c.walk(f, body)
}

// setServer is a server{} block in http, or a server line in upstream.
func setServer(c *checker, f *frame, d *Directive, _ bool) {
	if f.ctx == ctxUpstream {
		setUpstreamServer(c, f, d)
		return
	}
	if len(d.Args) != 0 {
		c.errorf(d.Pos, "invalid number of arguments in \"server\" directive")
		return
	}
	sl := &serverLevel{s: &Server{Pos: d.Pos}}
	c.http.servers = append(c.http.servers, sl)
	c.http.h.Servers = append(c.http.h.Servers, sl.s)
	sf := c.newFrame(ctxServer)
	sf.lvl, sf.server = &sl.level, sl
	c.walk(sf, d.Block)
}

// setListen is ngx_http_core_listen.
func setListen(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	if strings.HasPrefix(a.Text, "unix:") {
		c.errorf(a.Pos, "unix sockets are not supported by wsgate; listen on a TCP port")
		return
	}
	l := Listen{Pos: d.Pos, IPv6Only: true}
	host, port := "", "80"
	switch {
	case isDigits(a.Text):
		port = a.Text
	case strings.HasPrefix(a.Text, "["):
		h, p, ok := splitHostPort(a.Text)
		if !ok {
			c.errorf(a.Pos, "invalid host in %q of the \"listen\" directive", a.Text)
			return
		}
		host = h
		if p != "" {
			port = p
		}
	case strings.Contains(a.Text, ":"):
		h, p, ok := splitHostPort(a.Text)
		if !ok {
			c.errorf(a.Pos, "invalid host in %q of the \"listen\" directive", a.Text)
			return
		}
		host, port = h, p
	default:
		host = a.Text
	}
	if n, ok := parseNumber(port); !ok || n < 1 || n > 65535 {
		c.errorf(a.Pos, "invalid port in %q of the \"listen\" directive", a.Text)
		return
	}
	switch host {
	case "", "*", "0.0.0.0":
		l.Wildcard, l.Addr = true, "0.0.0.0:"+port
	case "[::]":
		l.Wildcard, l.Addr = true, "[::]:"+port
	default:
		l.Addr = host + ":" + port
	}
	for _, p := range d.Args[1:] {
		k, v, _ := strings.Cut(p.Text, "=")
		switch {
		case p.Text == "default_server" || p.Text == "default":
			l.DefaultServer = true
		case p.Text == "ssl":
			l.SSL = true
		case p.Text == "http2":
			l.HTTP2 = true
		case p.Text == "quic":
			l.HTTP3 = true
		case p.Text == "reuseport":
			l.ReusePort = true
		case k == "backlog":
			n, ok := parseNumber(v)
			if !ok || n == 0 || n > 1<<31-1 {
				c.errorf(p.Pos, "invalid backlog %q", p.Text)
				return
			}
			l.Backlog = int(n)
		case k == "ipv6only":
			on, ok := ParseFlag(v)
			if !ok {
				c.errorf(p.Pos, "invalid ipv6only flags %q", v)
				return
			}
			l.IPv6Only = on
		case p.Text == "bind" || p.Text == "deferred" || k == "rcvbuf" || k == "sndbuf" ||
			k == "so_keepalive" || k == "fastopen" || k == "setfib" || k == "accept_filter":
			c.notice(p.Pos, "listen parameter %q accepted and ignored: wsgate has no use for it", p.Text)
		case p.Text == "proxy_protocol":
			c.errorf(p.Pos, "listen parameter \"proxy_protocol\" is not supported by wsgate; terminate PROXY protocol in front of it")
			return
		default:
			c.errorf(p.Pos, "invalid parameter %q", p.Text)
			return
		}
	}
	f.server.s.Listens = append(f.server.s.Listens, l)
}

func isDigits(s string) bool {
	_, ok := parseNumber(s)
	return ok
}

// setServerName is ngx_http_core_server_name.
func setServerName(c *checker, f *frame, d *Directive, _ bool) {
	s := f.server.s
	for _, a := range d.Args {
		n := ServerName{Pos: a.Pos}
		name := a.Text
		switch {
		case strings.HasPrefix(name, "~"):
			re, ok := c.convertRegex(a.Pos, name[1:], false)
			if !ok {
				continue
			}
			n.Kind, n.Name = NameRegex, re
		case strings.HasPrefix(name, "*."):
			n.Kind, n.Name = NameWildStart, strings.ToLower(name[1:])
		case strings.HasPrefix(name, ".") && len(name) > 1:
			n.Kind, n.Name, n.Dot = NameWildStart, strings.ToLower(name), true
		case strings.HasSuffix(name, ".*"):
			n.Kind, n.Name = NameWildEnd, strings.ToLower(name[:len(name)-1])
		default:
			n.Kind, n.Name = NameExact, strings.ToLower(name)
		}
		if n.Kind != NameRegex && strings.Contains(strings.Trim(n.Name, "."), "*") || n.Kind == NameExact && strings.Contains(name, "*") {
			c.errorf(a.Pos, "invalid server name or wildcard %q", name)
			continue
		}
		if n.Kind != NameRegex && strings.ContainsAny(name, "/") {
			c.notice(a.Pos, "server name %q has suspicious symbols", name)
		}
		s.Names = append(s.Names, n)
	}
}

// setLocation is ngx_http_core_location.
func setLocation(c *checker, f *frame, d *Directive, _ bool) {
	l := &Location{Pos: d.Pos}
	arg := d.Args[0]
	var path string
	if len(d.Args) == 2 {
		path = d.Args[1].Text
		switch arg.Text {
		case "=":
			l.Match = MatchExact
		case "^~":
			l.Match = MatchPrefixNoRe
		case "~":
			l.Match = MatchRegex
		case "~*":
			l.Match = MatchRegexNoCase
		default:
			c.errorf(arg.Pos, "invalid location modifier %q", arg.Text)
			return
		}
	} else {
		path = arg.Text
		switch {
		case strings.HasPrefix(path, "="):
			l.Match, path = MatchExact, path[1:]
		case strings.HasPrefix(path, "^~"):
			l.Match, path = MatchPrefixNoRe, path[2:]
		case strings.HasPrefix(path, "~*"):
			l.Match, path = MatchRegexNoCase, path[2:]
		case strings.HasPrefix(path, "~"):
			l.Match, path = MatchRegex, path[1:]
		case strings.HasPrefix(path, "@"):
			c.errorf(arg.Pos, "named location %q is not supported by wsgate: it is reachable only through error_page, try_files or X-Accel-Redirect, which wsgate does not implement", path)
			return
		}
	}
	regex := l.Match == MatchRegex || l.Match == MatchRegexNoCase
	if regex {
		re, ok := c.convertRegex(d.Args[len(d.Args)-1].Pos, path, l.Match == MatchRegexNoCase)
		if !ok {
			return
		}
		path = re
	}
	l.Path = path

	ll := &locLevel{l: l, parent: f.loc}
	siblings := &f.server.locs
	if f.loc != nil {
		p := f.loc.l
		if p.Match == MatchExact {
			c.errorf(d.Pos, "location %q cannot be inside the exact location %q", path, p.Path)
			return
		}
		if !regex && !strings.HasPrefix(path, p.Path) {
			c.errorf(d.Pos, "location %q is outside location %q", path, p.Path)
			return
		}
		siblings = &f.loc.children
	}
	if !regex {
		for _, o := range *siblings {
			om := o.l.Match
			if om == MatchRegex || om == MatchRegexNoCase || o.l.Path != path {
				continue
			}
			if (om == MatchExact) == (l.Match == MatchExact) {
				c.errorf(d.Pos, "duplicate location %q", path)
				return
			}
		}
	}
	*siblings = append(*siblings, ll)
	if f.loc != nil {
		f.loc.l.Locations = append(f.loc.l.Locations, l)
	} else {
		f.server.s.Locations = append(f.server.s.Locations, l)
	}
	lf := c.newFrame(ctxLocation)
	lf.lvl, lf.server, lf.loc = &ll.level, f.server, ll
	c.walk(lf, d.Block)
}

// setUpstream is ngx_http_upstream: "upstream name { … }".
func setUpstream(c *checker, f *frame, d *Directive, _ bool) {
	name := d.Args[0].Text
	for _, u := range c.http.h.Upstreams {
		if strings.EqualFold(u.Name, name) {
			c.errorf(d.Args[0].Pos, "duplicate upstream %q", name)
			return
		}
	}
	u := &Upstream{Pos: d.Pos, Name: name, KeepaliveTimeout: 60 * time.Second, KeepaliveRequests: 1000}
	uf := c.newFrame(ctxUpstream)
	uf.ups = u
	nerr := len(c.errs)
	c.walk(uf, d.Block)
	if len(u.Servers) == 0 && len(c.errs) == nerr {
		c.errorf(d.Pos, "no servers are inside upstream")
	}
	c.http.h.Upstreams = append(c.http.h.Upstreams, u)
}

// setMap is ngx_http_map_block with its line handler ngx_http_map.
func setMap(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[1]
	if !strings.HasPrefix(v.Text, "$") || !nameOK(strings.TrimSuffix(strings.TrimPrefix(v.Text[1:], "{"), "}")) {
		c.errorf(v.Pos, "invalid variable name %q", strings.TrimPrefix(v.Text, "$"))
		return
	}
	m := &Map{Pos: d.Pos, Source: d.Args[0].Text, Var: strings.TrimSuffix(strings.TrimPrefix(v.Text[1:], "{"), "}")}
	hasDefault := false
	seen := map[string]bool{}
	for _, e := range d.Block {
		n := len(e.Args) + 1
		switch {
		case e.HasBlock:
			c.errorf(e.Pos, "unexpected \"{\"")
			continue
		case n == 1 && e.Name == "hostnames":
			m.Hostnames = true
			continue
		case n == 1 && e.Name == "volatile":
			m.Volatile = true
			continue
		case n != 2:
			c.errorf(e.Pos, "invalid number of the map parameters")
			continue
		case e.Name == "default":
			if hasDefault {
				c.errorf(e.Pos, "duplicate default map parameter")
				continue
			}
			hasDefault, m.Default = true, e.Args[0].Text
			continue
		}
		me := MapEntry{Pos: e.Pos, Key: e.Name, Value: e.Args[0].Text}
		switch {
		case strings.HasPrefix(me.Key, "~*"):
			me.Regex, me.NoCase, me.Key = true, true, me.Key[2:]
		case strings.HasPrefix(me.Key, "~"):
			me.Regex, me.Key = true, me.Key[1:]
		}
		if me.Regex {
			re, ok := c.convertRegex(e.Pos, me.Key, me.NoCase)
			if !ok {
				continue
			}
			me.Key = re
			m.Entries = append(m.Entries, me)
			continue
		}
		if strings.HasPrefix(me.Key, "\\") {
			me.Key = me.Key[1:]
		}
		me.Key = strings.ToLower(me.Key)
		if m.Hostnames && strings.Contains(me.Key, "*") {
			k := me.Key
			if !(strings.HasPrefix(k, "*.") && !strings.Contains(k[2:], "*") ||
				strings.HasSuffix(k, ".*") && !strings.Contains(k[:len(k)-2], "*")) {
				c.errorf(e.Pos, "invalid hostname or wildcard %q", e.Name)
				continue
			}
		}
		if m.Hostnames && strings.HasSuffix(me.Key, ".") && !strings.HasSuffix(me.Key, "*.") {
			me.Key = strings.TrimSuffix(me.Key, ".")
		}
		if seen[me.Key] {
			c.errorf(e.Pos, "conflicting parameter %q", me.Key)
			continue
		}
		seen[me.Key] = true
		m.Entries = append(m.Entries, me)
	}
	c.http.h.Maps = append(c.http.h.Maps, m)
}
