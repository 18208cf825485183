package config

import (
	"strings"
	"time"
)

// This file is the directive table: what a directive entry says, how the
// table is assembled from the module families' files (directives_*.go,
// one per nginx module family, each with its entries and setters, as
// nginx keeps a module's ngx_command_t array with its handlers), the
// directives accepted and ignored, the real nginx directives wsgate does
// not implement, and the argument parsers the families share.

// directive is one entry of the directive table, nginx's ngx_command_t:
// where it may appear, how many arguments it takes, and what it sets.
// Adding a directive is one entry in its family's table (directives_*.go)
// plus, if it carries a value, one field in spec.go.
type directive struct {
	ctx      ctxMask
	min, max int  // argument count; max < 0: no upper bound
	block    bool // takes a { } block (NGX_CONF_BLOCK)
	// blockIn lists contexts where the directive takes a block even though
	// block is false ("server" is a block in http, a line in upstream).
	blockIn ctxMask
	once    bool // a second occurrence in one block is `"x" directive is duplicate`
	// ignored: accepted with a Notice ("accepted and ignored"), which
	// gives note as the reason when set.
	ignored bool
	note    string
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

// directiveFamilies returns the directive tables of the module families,
// in nginx's order of modules.
func directiveFamilies() []func() map[string]*directive {
	return []func() map[string]*directive{
		coreDirectives, httpCoreDirectives, errorPageDirectives, rewriteDirectives, accessDirectives, proxyDirectives, headersDirectives,
		filesDirectives, logDirectives, sslDirectives, http2Directives, http3Directives, upstreamDirectives, mapDirectives, wsDirectives,
		proxySSLDirectives, statusDirectives, realipDirectives, wsStatusDirectives, limitsDirectives,
		charsetDirectives, subDirectives, gzipDirectives, geoDirectives, ssiDirectives, upstreamWSDirectives, cacheDirectives,
	}
}

// directiveTable returns a fresh table (built per Check; nothing global is
// mutable): every family's entries, then the ignored and unsupported
// names. No name is in two families (TestDirectiveFamilies).
func directiveTable() map[string]*directive {
	t := make(map[string]*directive, 320)
	for _, family := range directiveFamilies() {
		for name, d := range family() {
			t[name] = d
		}
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
	ignore(ctxHTTPAll, false, "sendfile", "sendfile_max_chunk", "tcp_nopush", "tcp_nodelay",
		"gzip_buffers", "types_hash_max_size", "types_hash_bucket_size",
		"client_body_buffer_size", "client_body_temp_path", "client_body_in_file_only", "proxy_buffers",
		"proxy_busy_buffers_size", "proxy_temp_path", "proxy_max_temp_file_size", "proxy_temp_file_write_size",
		"open_file_cache", "open_file_cache_valid", "open_file_cache_min_uses", "open_file_cache_errors",
		"output_buffers", "postpone_output", "reset_timedout_connection", "lingering_close", "lingering_time",
		"lingering_timeout", "msie_padding", "proxy_headers_hash_max_size", "proxy_headers_hash_bucket_size",
		"msie_refresh", "chunked_transfer_encoding")
	ignore(ctxHTTP, false, "server_names_hash_bucket_size", "server_names_hash_max_size",
		"variables_hash_max_size", "variables_hash_bucket_size", "map_hash_max_size", "map_hash_bucket_size")

	// Real nginx directives wsgate does not implement, with what to use instead.
	unsupported := func(ctx ctxMask, instead string, names ...string) {
		for _, n := range names {
			t[n] = &directive{ctx: ctx, min: 0, max: unbounded, instead: instead}
		}
	}
	const anyCtx = ctxMain | ctxEvents | ctxHTTPAll | ctxUpstream
	unsupported(anyCtx, "wsgate does not implement it", "directio", "aio")
	// The content handlers of the other upstream protocols; their settings
	// are accepted with a notice (directives_nginx.go, passNote).
	unsupported(anyCtx, `wsgate speaks no FastCGI: serve the application over HTTP (for PHP, php-fpm behind a web server, or the framework's own HTTP server) and use "proxy_pass"`, "fastcgi_pass")
	unsupported(anyCtx, `wsgate speaks no uwsgi protocol: start uWSGI with "--http-socket" (or "--http") and use "proxy_pass"`, "uwsgi_pass")
	unsupported(anyCtx, `wsgate speaks no SCGI: serve the application over HTTP and use "proxy_pass"`, "scgi_pass")
	unsupported(anyCtx, `wsgate speaks no gRPC (HTTP/2 to the backend): use "proxy_pass" to an HTTP/1.1 endpoint of the service, such as a gRPC-Web or grpc-gateway one`, "grpc_pass")
	unsupported(anyCtx, `wsgate reads no memcached: let the backend read the cache, and use "proxy_pass" to it`, "memcached_pass")
	unsupported(anyCtx, "proxy_store writes proxied responses as files under root (a mirror); wsgate writes no files: serve them from a mirror the backend keeps, or from a cache in front", "proxy_store", "proxy_store_access")
	unsupported(anyCtx, "wsgate proxies HTTP and WebSocket only", "stream", "mail")
	nginxRest(t)
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
