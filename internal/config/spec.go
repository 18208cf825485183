package config

import "time"

// Spec is the typed, validated result of a configuration: what Check
// produces from an AST, and the only thing the rest of wsgate reads. It is
// plain data (no sockets, no compiled regexps, no net/http) so that -t,
// golden dumps and fuzzing stay cheap. Inheritance is already resolved:
// every Location carries its effective settings.
//
// Every field of a server, location, LocConf and upstream takes part in the
// route key that decides which tunnels a reload keeps, unless it is tagged
// `reload:"keep"`: the tag says that the setting cannot change what an open
// WebSocket does or where it goes (it acts only before the 101, on request
// bodies, on logs, or on the lint). Tag a new field only for that reason.
type Spec struct {
	Main MainConf
	HTTP *HTTP // nil when the file has no http context and no top-level server

	// Files read, main file first (for -T).
	Files []File
	// Notices: directives accepted but meaningless here, the implicit http{}
	// around a sites file, and the like. Never errors.
	Notices []Notice
}

// Notice is an informational message tied to a place.
type Notice struct {
	Pos Pos
	Msg string
}

// MainConf is the main and events contexts.
type MainConf struct {
	PID       string // pid file; "" when not set (default "logs/nginx.pid" relative to prefix is the caller's choice)
	ErrorLogs []ErrorLog
	// WorkerRlimitNofile raises RLIMIT_NOFILE when > 0.
	WorkerRlimitNofile int
	// WorkerConnections, when set (> 0), bounds concurrent client connections.
	WorkerConnections int
}

// ErrorLog is one error_log target. Path "stderr" means standard error.
type ErrorLog struct {
	Pos   Pos
	Path  string
	Level string // debug info notice warn error crit alert emerg; default "error"
}

// HTTP is the http context.
type HTTP struct {
	Pos        Pos
	Servers    []*Server   // in file order
	Upstreams  []*Upstream // in file order; names are unique
	Maps       []*Map      // in file order
	LogFormats []*LogFormat
	// CharsetMaps are the charset_map blocks, in file order.
	CharsetMaps []*CharsetMap
	// LimitZones are the limit_req_zone and limit_conn_zone lines.
	LimitZones []*LimitZone
	// CachePaths are the proxy_cache_path lines.
	CachePaths []*CachePath
	// SetVariables are the names (lower-case, without "$") that a set
	// directive assigns anywhere in the configuration, in the order first
	// met. As in nginx, each is a variable of the whole http context,
	// usable wherever variables are, not only after its set.
	SetVariables []VarDecl
	// Implicit is true when the file had top-level server blocks (a sites
	// file) and wsgate supplied the http context.
	Implicit bool
	// Resolver and ResolverTimeout are the http level's resolver lines:
	// the "server ... resolve" names of an upstream block without its own
	// use them (0: resolver_timeout's default, 30s).
	Resolver        *Resolver
	ResolverTimeout time.Duration
}

// Server is one server{} block.
type Server struct {
	Pos     Pos
	Listens []Listen // default: one entry for *:80 (nginx: *:8000 when not root; wsgate uses 80)
	Names   []ServerName
	// Locations are the top-level locations in file order; nested ones hang
	// off their parents.
	Locations []*Location
	// Named are the server's named locations ("location @fallback"), in
	// file order, with Match MatchNamed: reached only through error_page
	// (and try_files), never by a request's URI (nginx keeps them apart,
	// in cscf->named_locations, and compares names byte for byte).
	Named []*Location
	// Conf is the server-level location configuration: what a request that
	// matches no location gets, and what locations inherit.
	Conf LocConf
	// Rewrite is the server block's own rewrite module directives, in
	// file order: nginx runs them in the server rewrite phase, before a
	// location is searched. They are not inherited by locations.
	Rewrite []RewriteOp

	// Server-level (ngx_http_core_srv_conf_t) settings.
	ClientHeaderTimeout      time.Duration `reload:"keep"` // default 60s
	ClientHeaderBufferSize   int64         `reload:"keep"` // default 1k
	LargeClientHeaderBuffers Buffers       `reload:"keep"` // default 4 8k
	MergeSlashes             bool          `reload:"keep"` // default on
	UnderscoresInHeaders     bool          `reload:"keep"` // default off
	IgnoreInvalidHeaders     bool          `reload:"keep"` // default on
	TLS                      *TLSConf      `reload:"keep"` // nil unless ssl_certificate is set
	HTTP2                    HTTP2Conf     `reload:"keep"`
	HTTP3                    HTTP3Conf     `reload:"keep"`
}

// HTTP2Conf is a server's ngx_http_v2_module settings.
type HTTP2Conf struct {
	MaxConcurrentStreams int   // http2_max_concurrent_streams, default 128
	BodyPrereadSize      int64 // http2_body_preread_size, default 64k
	RecvBufferSize       int64 // http2_recv_buffer_size (http level), default 256k
}

// HTTP3Conf is a server's ngx_http_v3_module settings, for its "listen
// ... quic" addresses.
type HTTP3Conf struct {
	On                   bool  // http3, default on
	MaxConcurrentStreams int   // http3_max_concurrent_streams, default 128
	StreamBufferSize     int64 // http3_stream_buffer_size, default 64k
	Retry                bool  // quic_retry, default off
}

// Buffers is a "number size" pair (large_client_header_buffers, proxy_buffers).
type Buffers struct {
	Num  int
	Size int64
}

// Listen is one listen directive.
type Listen struct {
	Pos  Pos
	Addr string // host:port as net.Listen wants it: "0.0.0.0:80", "[::]:80", "127.0.0.1:8080"; or "unix:/path"
	// Unix is true for "listen unix:/path": a UNIX-domain socket, Addr
	// its "unix:" name.
	Unix bool
	// Wildcard is true when no address was given or it was * / 0.0.0.0 / [::].
	Wildcard      bool `reload:"keep"`
	DefaultServer bool `reload:"keep"`
	// IsDefault is set by Check on the listen of the server that is the
	// default for Addr: the one with default_server there, else the first
	// server in file order listening on Addr (ngx_http_add_addresses).
	IsDefault bool `reload:"keep"`
	SSL       bool
	HTTP2     bool
	// HTTP3 is "listen ... quic": a UDP socket serving HTTP/3, whose
	// Addr is QUICPrefix and the address.
	HTTP3 bool
	// ProxyProtocol: connections to Addr start with a PROXY protocol
	// header (listen ... proxy_protocol). As ssl, an address has it when
	// any of its listens says so (ngx_http_add_addresses).
	ProxyProtocol bool
	ReusePort     bool `reload:"keep"`
	Backlog       int  `reload:"keep"` // 0: system default (nginx: 511)
	IPv6Only      bool `reload:"keep"` // ipv6only=on (nginx default on)
}

// NameKind says how a server_name entry matches.
type NameKind int

const (
	NameExact     NameKind = iota // example.com, "" (empty Host)
	NameWildStart                 // *.example.com (and .example.com, which also matches example.com)
	NameWildEnd                   // www.example.*
	NameRegex                     // ~^(?<sub>.+)\.example\.com$
)

// ServerName is one server_name entry. Name is lower-cased for non-regex
// kinds; for NameWildStart it is the suffix without "*" (".example.com"),
// for NameWildEnd the prefix without "*" ("www.example."), for NameRegex the
// pattern without "~" (converted to Go RE2 syntax: (?<n>…) → (?P<n>…)).
type ServerName struct {
	Pos  Pos
	Kind NameKind
	Name string
	// Dot is true for the ".example.com" form, which matches example.com too.
	Dot bool
}

// MatchKind is a location's modifier.
type MatchKind int

const (
	MatchPrefix      MatchKind = iota // location /path
	MatchExact                        // location = /path
	MatchPrefixNoRe                   // location ^~ /path
	MatchRegex                        // location ~ re
	MatchRegexNoCase                  // location ~* re
	MatchNamed                        // location @name (Path holds "@name")
)

func (k MatchKind) String() string {
	switch k {
	case MatchExact:
		return "="
	case MatchPrefixNoRe:
		return "^~"
	case MatchRegex:
		return "~"
	case MatchRegexNoCase:
		return "~*"
	}
	return ""
}

// Location is one location{} block with its effective configuration.
type Location struct {
	Pos       Pos
	Match     MatchKind
	Path      string // the prefix, exact path, or regex pattern (RE2 syntax)
	Locations []*Location
	Conf      LocConf
	// Rewrite is the location's own rewrite module directives, in file
	// order, run in the rewrite phase once the location is chosen (not
	// inherited by nested locations).
	Rewrite []RewriteOp
	// LimitExcept is the location's limit_except block; nil without one.
	LimitExcept *LimitExcept
}

// LimitExcept is a limit_except block (ngx_http_core_module): requests
// whose method is not in Methods are checked in the access phase with
// Conf instead of the location's configuration, and answered by Conf's
// proxy_pass when the block has one (else by the location's content
// handler). Nested locations do not inherit it.
type LimitExcept struct {
	Pos Pos
	// Methods are the methods that keep the location's configuration,
	// upper-case; HEAD is there when GET is.
	Methods []string
	// Conf is the location's effective configuration with the block's
	// allow, deny, auth_basic, auth_basic_user_file and proxy_pass on
	// top (Conf.ProxyPass is the block's own, nil without one).
	Conf *LocConf
}

// LocConf is everything that can be set at http, server or location level,
// with nginx's defaults and inheritance already applied.
type LocConf struct {
	// ErrorPages is the effective error_page list, one entry per code in
	// config order (the first entry for a code answers). nginx inherits
	// it all or nothing: a level with an error_page of its own drops
	// every inherited one (ngx_http_core_merge_loc_conf). They act only
	// on an answer that is not a 101, so they leave tunnels alone.
	ErrorPages []ErrorPage `reload:"keep"`
	// RecursiveErrorPages lets the target of an error page use
	// error_page again (recursive_error_pages, default off).
	RecursiveErrorPages bool `reload:"keep"`
	// ProxyInterceptErrors answers an upstream response whose status has
	// an error page with that page instead (proxy_intercept_errors,
	// default off; never a 101).
	ProxyInterceptErrors bool `reload:"keep"`

	// ProxyPass is this location's own proxy_pass (never inherited: a
	// nested location without one is not proxied). nil: not proxied (nginx
	// would serve files; wsgate answers 404).
	ProxyPass *ProxyPass
	// StubStatus makes this level answer with the connection counters
	// (stub_status; never inherited, as proxy_pass).
	StubStatus bool
	// WSMetrics and WSStatus make this level answer with the Prometheus
	// metrics (ws_metrics) or the live status page (ws_status); never
	// inherited, as stub_status.
	WSMetrics, WSStatus bool

	ProxyHTTPVersion string // "1.0" (default, nginx 1.22) or "1.1"
	// ProxySetHeaders is the effective proxy_set_header list in config order
	// (inherited all-or-nothing). Value may contain variables; a literal ""
	// value removes the header.
	ProxySetHeaders []HeaderSet
	// SetHeadersInherited is true when ProxySetHeaders came from an outer
	// level (this level had none of its own).
	SetHeadersInherited bool `reload:"keep"`
	// SetHeadersDropped lists headers set at an outer level that this level
	// discarded by having its own proxy_set_header (for the lint).
	SetHeadersDropped []HeaderSet `reload:"keep"`

	ProxyHideHeaders []string   `reload:"keep"` // lower-case names, in addition to nginx's defaults
	ProxyPassHeaders []string   `reload:"keep"` // lower-case names removed from the default hidden set
	ProxyRedirect    []Redirect `reload:"keep"`
	// ProxyRedirectOff is true for "proxy_redirect off"; ProxyRedirect is
	// then empty. "default" is expanded into a Redirect at Check time.
	ProxyRedirectOff bool `reload:"keep"`
	// ProxyCookies rewrites Set-Cookie lines (proxy_cookie_domain,
	// proxy_cookie_path, proxy_cookie_flags).
	ProxyCookies ProxyCookies `reload:"keep"`
	// Proxy holds proxy_method, proxy_set_body, proxy_bind,
	// proxy_socket_keepalive, proxy_ignore_headers and proxy_limit_rate.
	Proxy ProxyOptions `reload:"keep"`

	// ProxySSL is how an https:// (or wss) upstream is spoken to: the
	// proxy_ssl_* directives.
	ProxySSL ProxySSL `reload:"keep"`

	ProxyConnectTimeout time.Duration // default 60s
	ProxyReadTimeout    time.Duration // default 60s
	ProxySendTimeout    time.Duration // default 60s

	ProxyNextUpstream        NextUpstream  `reload:"keep"` // default error|timeout
	ProxyNextUpstreamTries   int           `reload:"keep"` // 0: unlimited
	ProxyNextUpstreamTimeout time.Duration `reload:"keep"` // 0: unlimited

	ProxyBuffering          bool  `reload:"keep"` // default on
	ProxyBufferSize         int64 `reload:"keep"` // default 4k (one page)
	ProxyRequestBuffering   bool  `reload:"keep"` // default on
	ProxyPassRequestHeaders bool  // default on
	ProxyPassRequestBody    bool  `reload:"keep"` // default on
	ProxyIgnoreClientAbort  bool  `reload:"keep"` // default off
	// Cache is the proxy_cache settings.
	Cache CacheConf `reload:"keep"`

	ClientMaxBodySize int64         `reload:"keep"` // default 1m; 0 disables the check
	ClientBodyTimeout time.Duration `reload:"keep"` // default 60s
	SendTimeout       time.Duration // default 60s
	KeepaliveTimeout  time.Duration `reload:"keep"` // default 75s; 0 disables keep-alive
	KeepaliveRequests int           `reload:"keep"` // default 1000
	// KeepaliveTime is keepalive_time (default 1h): no request starts on
	// a keep-alive connection older than this.
	KeepaliveTime time.Duration `reload:"keep"`
	// KeepaliveHeader is keepalive_timeout's second value: a response
	// that keeps the connection says "Keep-Alive: timeout=N" (seconds);
	// 0 sends none. Inherited on its own, as nginx merges it apart from
	// the timeout.
	KeepaliveHeader time.Duration `reload:"keep"`
	// KeepaliveDisable is keepalive_disable (default msie6): no
	// keep-alive after a POST from the browsers nginx marks msie6, or
	// after any request from those it marks safari.
	KeepaliveDisable KeepaliveDisable `reload:"keep"`
	ServerTokens     bool             `reload:"keep"` // default on
	// HTTP2ChunkSize is http2_chunk_size: the largest DATA frame of a
	// response on HTTP/2 (a tunnel's stream keeps the size it started with).
	HTTP2ChunkSize int64 `reload:"keep"` // default 8k

	Resolver        *Resolver     `reload:"keep"` // nil: none (a proxy_pass host with variables must be an upstream or an IP)
	ResolverTimeout time.Duration `reload:"keep"` // default 30s

	// AccessLogs is effective; empty with AccessLogOff means off. With no
	// access_log anywhere it holds nginx's default, "logs/access.log
	// combined" (relative to the prefix), with a zero Pos.
	AccessLogs   []AccessLog `reload:"keep"`
	AccessLogOff bool        `reload:"keep"`
	// OpenLogFileCache is open_log_file_cache; nil: off (the default).
	OpenLogFileCache *OpenLogFileCache `reload:"keep"`
	ErrorLogs        []ErrorLog        `reload:"keep"`

	// AbsoluteRedirect, PortInRedirect and ServerNameInRedirect shape the
	// Location of redirects wsgate makes itself (a directory's slash,
	// return, a proxied location's slash): scheme, host and port added
	// (absolute_redirect, default on), the port unless it is the
	// scheme's default (port_in_redirect, default on), the server's first
	// name instead of the request's host (server_name_in_redirect,
	// default off). ngx_http_header_filter.
	// Internal (the internal directive, inherited by nested locations,
	// default off): the location answers only internal redirects (index,
	// try_files, error_page); a client's own request gets 404.
	Internal bool `reload:"keep"`
	// Access is the effective allow/deny list in config order; the first
	// rule that matches the client decides (ngx_http_access_module).
	// nginx inherits it all or nothing: a level with an allow or deny of
	// its own drops every inherited rule. It takes part in route keys, so
	// that a reload which changes who may connect ends the tunnels opened
	// under the old rules.
	Access []AccessRule
	// AuthBasic is auth_basic's realm, which may hold variables; a realm
	// that is "off" once evaluated turns the check off. nil: not set here
	// or above (no check). Inherited on its own, as is
	// AuthBasicUserFile, the htpasswd file (relative to the main
	// configuration file's directory); the check runs where both are set.
	AuthBasic *Value
	// SatisfyAny is "satisfy any": a request passes the access phase
	// when allow/deny or auth_basic lets it through; "satisfy all" (the
	// default) needs every check to.
	SatisfyAny        bool
	AuthBasicUserFile *Value
	// AuthRequest is auth_request's URI (ngx_http_auth_request_module):
	// the access phase asks it with a subrequest whether the request may
	// go on. "" when "off" or not set; inherited.
	AuthRequest string
	// AuthRequestSet are the auth_request_set lines, which set variables
	// from the subrequest's once it is done; inherited all or nothing.
	AuthRequestSet []AuthRequestSet

	// RealIP is the realip module's settings: where a trusted proxy names
	// the client. It takes part in route keys, as Access does: a reload
	// that changes who counts as the client ends the tunnels opened
	// under the old settings.
	RealIP RealIP

	AbsoluteRedirect     bool `reload:"keep"`
	PortInRedirect       bool `reload:"keep"`
	ServerNameInRedirect bool `reload:"keep"`

	// Files is the static file settings (root, alias, index, try_files,
	// types, expires ...: files.go). They act before any upgrade, so they
	// stay out of the route key.
	Files FilesConf `reload:"keep"`

	// RewriteLog is rewrite_log: the rewrite module's matches and
	// results are written to the error log at notice level (default off).
	RewriteLog bool `reload:"keep"`
	// UninitializedVariableWarn is uninitialized_variable_warn: reading
	// a set variable no set has assigned yet logs a warning (default on).
	UninitializedVariableWarn bool `reload:"keep"`

	// Headers is what the headers filters add to or change in every
	// response: add_header, add_trailer and headers-more's output
	// directives. It acts on a response head, never on an open tunnel.
	Headers HeadersConf `reload:"keep"`
	// Sub is the sub filter's configuration (sub_filter and its
	// companions). It rewrites response bodies, never a tunnel's bytes.
	Sub SubConf `reload:"keep"`
	// Gzip is the gzip filter's configuration (gzip and its companions).
	// It compresses response bodies, never a tunnel's bytes.
	Gzip GzipConf `reload:"keep"`

	// LimitReq and LimitConn are limit_req and limit_conn with their
	// settings (spec_limits.go). They act in the preaccess phase, before
	// a tunnel opens; a tunnel keeps the connection it counted.
	LimitReq  LimitReqConf  `reload:"keep"`
	LimitConn LimitConnConf `reload:"keep"`
	// LimitRate and LimitRateAfter are limit_rate and limit_rate_after
	// (sizes, possibly with variables; nil: not set, no limit): a
	// response goes at most LimitRate bytes a second once LimitRateAfter
	// bytes went out. An open tunnel is not paced (nor is it in nginx).
	LimitRate      *Value `reload:"keep"`
	LimitRateAfter *Value `reload:"keep"`

	// wsgate's own directives (ws_*): see directives.go for each.
	WS WSConf
}

// Resolver is a resolver directive: the name servers that resolve the host
// of a proxy_pass with variables, and how their answers are cached.
type Resolver struct {
	// Addrs are the name servers as written: an IP address or a host
	// name, with an optional port (SplitResolverAddr).
	Addrs []string
	// Valid replaces the answers' TTL when non-zero (valid=).
	Valid time.Duration
	// IPv4 and IPv6 say which address types are looked up (ipv4=, ipv6=;
	// both on by default, never both off).
	IPv4, IPv6 bool
	Pos        Pos
}

// HeadersConf is the configuration of ngx_http_headers_filter_module
// (add_header, add_trailer) and of headers-more's output filter
// (more_set_headers, more_clear_headers) at one level.
type HeadersConf struct {
	// Add is the effective add_header list in config order, inherited
	// all-or-nothing as proxy_set_header (ngx_http_headers_merge_conf).
	Add []AddHeader
	// AddDropped lists add_header lines of an outer level that this level
	// discarded by having its own (for the lint).
	AddDropped []AddHeader
	// Trailers is the effective add_trailer list, inherited the same way.
	Trailers []AddHeader
	// More are the headers-more output commands: the outer levels' first,
	// then this level's, in config order (ngx_http_headers_more_merge_loc_conf).
	More []MoreHeaders
	// MoreInput are the headers-more input commands
	// (more_set_input_headers, more_clear_input_headers), accumulated
	// the same way; they change the request's headers at the end of the
	// rewrite phase.
	MoreInput []MoreHeaders
}

// AddHeader is one add_header or add_trailer line.
type AddHeader struct {
	Pos   Pos
	Name  string // as written
	Value string // raw, variables uncompiled; "" adds nothing
	// Always: also for statuses other than 200, 201, 204, 206, 301, 302,
	// 303, 304, 307 and 308.
	Always bool
}

// MoreHeaders is one more_set_headers or more_clear_headers directive.
type MoreHeaders struct {
	Pos Pos
	// Statuses (-s) and Types (-t) restrict the command to responses with
	// one of these statuses and one of these content types (compared
	// without the charset parameter, case-sensitively); empty: any.
	Statuses []int
	Types    []string
	// Append (-a): add the lines without replacing lines of that name.
	Append bool
	// Replace (-r, input commands only): set a header only where the
	// request has it.
	Replace bool
	Headers []MoreHeader
}

// MoreHeader is one header argument of a headers-more command.
type MoreHeader struct {
	Name string // as written; with Wildcard, without the trailing "*"
	// Value is raw, variables uncompiled; "" clears (more_clear_headers,
	// "Name:" and "Name").
	Value string
	// Wildcard: Name ended in "*"; the command then matches every header
	// whose name starts with Name.
	Wildcard bool
}

// HeaderSet is one proxy_set_header line.
type HeaderSet struct {
	Pos   Pos
	Name  string // as written
	Value string // raw, variables uncompiled
}

// Redirect is one proxy_redirect replacement: a Location/Refresh prefix
// From (or regex when Regex is set) replaced by To (may hold variables).
type Redirect struct {
	Pos      Pos
	From, To string
	Regex    bool
	NoCase   bool
	Default  bool // came from "proxy_redirect default"
}

// NextUpstream is the proxy_next_upstream set.
type NextUpstream uint16

const (
	NextError NextUpstream = 1 << iota
	NextTimeout
	NextInvalidHeader
	NextHTTP500
	NextHTTP502
	NextHTTP503
	NextHTTP504
	NextHTTP403
	NextHTTP404
	NextHTTP429
	NextNonIdempotent
	NextOff NextUpstream = 0
)

// ProxyPass is a parsed proxy_pass URL.
type ProxyPass struct {
	Pos Pos
	Raw string // as written
	// Scheme is "http" or "https".
	Scheme string
	// HasVars is true when the URL contains variables; Host, Port, URI and
	// Upstream are then unset and the URL is evaluated per request.
	HasVars bool
	// Host as written (not lower-cased); Port as written or "" (then 80/443).
	// For a UNIX-domain socket ("http://unix:/path:/uri") Host is
	// "localhost", as nginx sets it, and Port is "".
	Host string
	// Unix is the socket path of "http://unix:/path[:uri]", "" otherwise.
	Unix string
	Port string
	// URI is the part after host[:port], "" when absent (then the client's
	// request target is sent unchanged). "/" counts as present.
	URI    string
	HasURI bool
	// Upstream names the upstream{} block when Host matches one; otherwise
	// "" and Host:Port is an implicit upstream resolved at start.
	Upstream string
}

// Return is the return directive: "return code [text|URL]" or "return URL".
type Return struct {
	Pos  Pos
	Code int    // 301/302 for a bare URL
	Text string // body text, or redirect URL for 301 302 303 307 308; may hold variables
}

// ErrorPage is one code of an error_page directive
// (ngx_http_err_page_t).
type ErrorPage struct {
	Pos Pos
	// Status is the error it answers: 300 to 599, never 499.
	Status int
	// Response says which status the answer carries; Code is the status
	// of ResponseCode ("=200").
	Response ErrorPageResponse
	Code     int
	// Target is a URI ("/50x.html"), a named location ("@fallback") or,
	// starting with neither "/" nor "@", a URL to redirect to; it may
	// hold variables. When it has none and starts with "/", Args holds
	// what followed its "?" (Target keeps only the path).
	Target string
	Args   string
}

// ErrorPageResponse is an error page's choice of status.
type ErrorPageResponse int

const (
	// ResponseError keeps the error's own status (no "=").
	ResponseError ErrorPageResponse = iota
	// ResponseTarget takes the status the target answers with ("=").
	ResponseTarget
	// ResponseCode answers with ErrorPage.Code ("=code"); nginx gives
	// 494, 495, 496 and 497 without "=" a Code of 400.
	ResponseCode
)

// Upstream is one upstream{} block.
type Upstream struct {
	Pos     Pos
	Name    string
	Servers []UpstreamServer
	Balance Balance
	// HashKey is the key of "hash KEY [consistent]" (may hold variables).
	HashKey        string
	HashConsistent bool
	// RandomTwo is "random two [least_conn]"; the method is then least_conn.
	RandomTwo bool

	Keepalive         int           `reload:"keep"` // 0: no cache
	KeepaliveTimeout  time.Duration `reload:"keep"` // default 60s
	KeepaliveRequests int           `reload:"keep"` // default 1000
	KeepaliveTime     time.Duration `reload:"keep"` // default 1h
	Zone              string        `reload:"keep"`

	// Resolver and ResolverTimeout are the upstream block's own resolver
	// lines (nginx 1.27.3) for its "server ... resolve" names; nil and 0
	// take the http level's (HTTP.Resolver, HTTP.ResolverTimeout).
	Resolver        *Resolver     `reload:"keep"`
	ResolverTimeout time.Duration `reload:"keep"`
	// DrainRemoved is ws_drain_removed: how long the tunnels of a peer that
	// DNS removed may stay before they are closed with 1012; 0: until they
	// end. DrainWindow paces those closes (ws_drain_window in the
	// upstream block; -1: unset, the default 10s).
	DrainRemoved time.Duration `reload:"keep"`
	DrainWindow  time.Duration `reload:"keep"`
	// HealthCheck is ws_health_check; nil: passive checks only.
	HealthCheck *HealthCheck `reload:"keep"`
	// Rebalance is ws_rebalance; nil: off.
	Rebalance *Rebalance `reload:"keep"`
}

// Balance is the balancing method of an upstream.
type Balance int

const (
	BalanceRoundRobin Balance = iota
	BalanceLeastConn
	BalanceIPHash
	BalanceHash
	BalanceRandom
)

func (b Balance) String() string {
	return [...]string{"round_robin", "least_conn", "ip_hash", "hash", "random"}[b]
}

// UpstreamServer is one server line in an upstream.
type UpstreamServer struct {
	Pos         Pos
	Addr        string        // as written: "127.0.0.1:8080", "localhost:8080", "backend" (port 80 implied)
	Weight      int           // default 1
	MaxFails    int           // default 1; 0 disables
	FailTimeout time.Duration // default 10s
	Backup      bool
	Down        bool
	MaxConns    int // 0: unlimited
	// Resolve is the "resolve" parameter (nginx 1.27.3): the name is
	// looked up again as its TTL runs out and the peers follow the
	// answers. Service is "service=NAME" (SRV records, as NGINX Plus).
	Resolve bool
	Service string
	// SlowStart is "slow_start=TIME" (NGINX Plus): a peer that is added or
	// comes back ramps its weight up from nothing over this long.
	SlowStart time.Duration
}

// Map is one map{} block.
type Map struct {
	Pos       Pos
	Source    string // complex value, e.g. "$http_upgrade"
	Var       string // target variable name without "$"
	Hostnames bool
	Volatile  bool
	Default   string
	Entries   []MapEntry // in file order
	// Geo, when set, makes the block a geo{} block
	// (ngx_http_geo_module): Source is then the address variable ("" for
	// the client's address), and Default, Entries, Hostnames and
	// Volatile are unused.
	Geo *Geo
	// Split, when set, makes the block a split_clients{} block
	// (ngx_http_split_clients_module): Source is the string hashed, and
	// Default, Entries, Hostnames and Volatile are unused.
	Split []SplitPart
}

// LogFormat is one log_format (the predefined "combined" is always present).
type LogFormat struct {
	Pos    Pos
	Name   string
	Escape string // "default", "json" or "none"
	Format string // the concatenated format strings, variables uncompiled
}

// AccessLog is one access_log target.
type AccessLog struct {
	Pos    Pos
	Path   string // file path or "stderr"/"/dev/stdout"
	Format string // log_format name; default "combined"
	Buffer int64  // buffer=size; 0: unbuffered
	Flush  time.Duration
	If     string // if=condition (a complex value; "" or "0" skips the line)
	// Gzip is gzip[=level]'s level, 0 for none: each buffer is written as
	// a gzip member of its own (a file zcat reads whole).
	Gzip int
	// Vars is true when Path holds a '$' (ngx_http_script_variables_count):
	// the file is named per request, opened when the line is written.
	Vars bool
}

// OpenLogFileCache is open_log_file_cache (ngx_http_log_module): a cache
// of the descriptors of access logs whose paths hold variables. Locations
// that inherit one directive share its cache.
type OpenLogFileCache struct {
	Pos      Pos
	Max      int           // max=: entries kept; the least recently used goes first
	Inactive time.Duration // inactive=: an entry unused this long is closed (default 10s)
	MinUses  int           // min_uses=: uses within inactive to keep a descriptor open (default 1)
	Valid    time.Duration // valid=: how long a name is trusted before it is checked again (default 60s)
}

// AuthRequestSet is one "auth_request_set $variable value" line: Value
// (which may hold variables) is evaluated against the auth subrequest and
// assigned to Var (lower-case, without "$"), declared as set declares it.
type AuthRequestSet struct {
	Pos   Pos
	Var   string
	Value string
}

// AccessRule is one allow or deny line.
type AccessRule struct {
	Pos  Pos
	Deny bool // deny; else allow
	All  bool // "all": every client
	Unix bool // "unix:": clients on UNIX-domain sockets
	// CIDR is the address or network, masked, in netip.Prefix's form
	// ("10.0.0.0/8", "::1/128"); empty for All and Unix.
	CIDR string
}

// Value is a directive's argument that may hold variables, compiled
// where the configuration is built.
type Value struct {
	Pos  Pos
	Text string
}

// RealIP is ngx_http_realip_module's configuration of a level.
type RealIP struct {
	// From is the effective set_real_ip_from list: the addresses whose
	// word on the client is taken. nginx inherits it all or nothing; an
	// empty list turns the module off.
	From []RealIPFrom
	// Header is real_ip_header as written: "X-Real-IP" (also the
	// default, ""), "X-Forwarded-For", "proxy_protocol" or any header
	// name.
	Header string
	// Recursive is real_ip_recursive: the last address of the header
	// that is not trusted is the client, rather than the last one.
	Recursive bool
}

// RealIPFrom is one set_real_ip_from: a CIDR (netip.Prefix text, the
// host bits cleared), a host name (lower-cased), whose addresses the
// snapshot trusts as they resolve when the configuration is loaded, as
// nginx resolves them when it reads the file, or "unix:", which trusts
// connections on a UNIX socket (wsgate listens on none).
type RealIPFrom struct {
	Pos  Pos
	CIDR string
	Host string
	Unix bool
}
