// Package vars implements nginx $variables: strings such as
// "$host:$server_port" are compiled once into Templates and evaluated per
// request or tunnel against a Ctx, map{} blocks are evaluated lazily and
// cached per Ctx, and log_format escaping follows ngx_http_log_module.
package vars

import (
	"crypto/tls"
	"time"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/proxyproto"
	"wsgate/internal/route"
)

// Header is one client request header line as received: original case,
// value without surrounding whitespace.
type Header struct {
	Name, Value string
}

// UpstreamTry is one attempt at an upstream peer, for the $upstream_*
// variables, which list one entry per try (ngx_http_upstream_state_t).
type UpstreamTry struct {
	// Addr is the peer's "ip:port" (or the upstream name when no peer
	// was available, as nginx logs it).
	Addr string
	// Status is the upstream response status; 0 when no response
	// was read, which prints "-" in $upstream_status.
	Status int
	// ResponseTime is from the start of the try to the end of the
	// response (or of the tunnel), negative while the response is being
	// relayed; ConnectTime is the time to connect, negative when the
	// connect did not finish. A negative time prints "-".
	ResponseTime time.Duration
	ConnectTime  time.Duration
	// ResponseLength is the response body bytes read from the peer, after
	// removing chunked framing ($upstream_response_length); 0 when no
	// body was read.
	ResponseLength int64
	// HeaderTime is from the start of the try to the end of the
	// response head ($upstream_header_time); negative when no head was
	// read.
	HeaderTime time.Duration
	// BytesSent and BytesReceived count the bytes written to and read
	// from the peer's connection in this try, heads and framing included
	// ($upstream_bytes_sent, $upstream_bytes_received).
	BytesSent, BytesReceived int64
	// Group marks the first try of a later upstream module run of the
	// same request (after an internal redirect or error_page to another
	// proxied location): the lists print " : " before it instead of
	// ", ", as nginx's empty state between the runs does.
	Group bool
}

// TCPInfo is the kernel's view of a client connection that the
// $tcpinfo_* variables read (Linux TCP_INFO: tcpi_rtt, tcpi_rttvar in
// microseconds, tcpi_snd_cwnd, tcpi_rcv_space).
type TCPInfo struct {
	RTT, RTTVar, SndCwnd, RcvSpace uint32
}

// PathVars gives the file system variables of a location that serves
// files: $document_root, $realpath_root and $request_filename
// (ngx_http_variable_document_root, _realpath_root, _request_filename).
// internal/files implements it.
type PathVars interface {
	// AppendDocumentRoot appends the root or alias, evaluated and made
	// absolute.
	AppendDocumentRoot(dst []byte, c *Ctx) []byte
	// AppendFilename appends the file path of c.URI
	// (ngx_http_map_uri_to_path); ok is false when it has none.
	AppendFilename(dst []byte, c *Ctx) ([]byte, bool)
}

// Ctx is everything variables read for one request or tunnel. The proxy
// fills it; fields that a template does not use cost nothing. A Ctx is not
// safe for concurrent use, and must be evaluated against templates of one
// Compiler (it caches that compiler's map results).
type Ctx struct {
	// Method is $request_method ("GET").
	Method string
	// RequestURI is $request_uri: the request-target as received, with
	// its query; for an absolute-form target only path and query.
	RequestURI string
	// URI is $uri and $document_uri: the decoded, normalized path
	// (dot segments resolved, slashes merged), without the query.
	URI string
	// Args is $args and $query_string: the raw query after "?" (not
	// decoded). HasArgs tells an empty query ("/x?") from none ("/x"):
	// $args is "not found" (logged "-") only without a "?".
	Args    string
	HasArgs bool
	// RequestLine is $request, the first line as received without CRLF;
	// when empty, $request is Method + " " + RequestURI + " " + Proto.
	RequestLine string
	// Host is the validated host (http1.ValidateHost) from the absolute
	// request-target, else the Host header; "" when the request had
	// neither ($host then falls back to ServerName).
	Host string
	// TLS is true on a TLS connection: $scheme "https", $https "on".
	TLS bool
	// TLSState is the TLS connection's state, for the $ssl_* variables
	// (ngx_http_ssl_module's); nil on a plain connection, where they are
	// not found. Shared and read-only.
	TLSState *tls.ConnectionState
	// TLSHello is what the client offered in its ClientHello
	// ($ssl_ciphers, $ssl_curves); nil when not known. Shared and
	// read-only.
	TLSHello *exchange.ClientHello
	// ClientVerify is $ssl_client_verify (exchange.Conn.ClientVerify).
	ClientVerify string
	// Proto is $server_protocol ("HTTP/1.1", "HTTP/2.0", "HTTP/3.0").
	Proto string
	// Headers are the client request headers in arrival order.
	Headers []Header
	// RemoteUser is $remote_user: the user name of the request's Basic
	// credentials (RFC 7617), "" (not found) without them. nginx reads
	// it from the Authorization header whether or not auth_basic is on.
	RemoteUser string
	// RemoteAddr and RemotePort are the client's address ($remote_addr,
	// an IP without brackets) and port ($remote_port), as text.
	RemoteAddr, RemotePort string
	// RealIPAddr and RealIPPort are the connection's own address and
	// port ($realip_remote_addr, $realip_remote_port): RemoteAddr and
	// RemotePort as they were before the realip module replaced them
	// with the address a trusted proxy gave.
	RealIPAddr, RealIPPort string
	// ProxyProtocol is the connection's PROXY protocol header
	// ($proxy_protocol_addr and friends), nil without one. Shared,
	// read-only.
	ProxyProtocol *proxyproto.Header
	// ServerAddr and ServerPort are the local socket address and port
	// the request came in on ($server_addr, $server_port).
	ServerAddr, ServerPort string
	// ServerName is $server_name: the first server_name of the chosen
	// server (route.Server.Name).
	ServerName string
	// Captures are the groups of the last regex that matched (server
	// name, location, or a map regex evaluated through this Ctx, which
	// replaces them as nginx does): $1..$9 and named captures.
	Captures route.Captures
	// Proxied is true when the request is handled by proxy_pass; only
	// then are $proxy_host and $proxy_port found
	// (ngx_http_proxy_host_variable). ProxyHost is the host of the
	// proxy_pass URL plus ":port" when written and not the scheme's
	// default; ProxyPort is the port, "80"/"443" when not written.
	Proxied              bool
	ProxyHost, ProxyPort string
	// Pipelined is true when the request's head had already arrived
	// behind the previous request on the connection ($pipe "p", else ".").
	Pipelined bool
	// RequestID is $request_id: 16 random bytes, printed as 32 hex
	// digits, made at the first evaluation and kept for the request (the
	// zero value means not made yet).
	RequestID [16]byte
	// RequestBody is $request_body, found only when HasRequestBody: the
	// body when wsgate held all of it in memory before sending it
	// upstream (see the proxy's spool), or a body of up to 16 KiB
	// (client_body_buffer_size's default) it streamed while a template
	// reads the variable; wsgate never has larger streamed bodies whole.
	RequestBody    string
	HasRequestBody bool
	// UpstreamHeaders are the header lines of the upstream response that
	// is relayed (or that upgraded), for $upstream_http_NAME. The proxy
	// fills them only when a template reads such a variable
	// (Compiler.UsesUpstreamHeaders).
	UpstreamHeaders []Header
	// OverrideCharset is r->headers_out.override_charset: the proxied
	// response's X-Accel-Charset (unless proxy_ignore_headers names it),
	// the charset the charset filter recodes it into; "" for none.
	OverrideCharset string

	// LimitReqStatus and LimitConnStatus are $limit_req_status and
	// $limit_conn_status ("PASSED", "DELAYED", "REJECTED", ... as
	// limit.ReqState and limit.ConnState name them); "" (not found) until
	// a limit_req or limit_conn looked at the request.
	LimitReqStatus, LimitConnStatus string
	// LimitRate is $limit_rate: the response's limit_rate in bytes a
	// second (0: none), which set may assign (LimitRateSet then says so,
	// and the location's limit_rate no longer applies).
	LimitRate    int64
	LimitRateSet bool

	// Fields read by access logs.

	// Status is the response status sent ($status); 0 prints "000".
	Status int
	// BodyBytesSent is the response body bytes sent to the client
	// ($body_bytes_sent); BytesSent counts the response head too
	// ($bytes_sent).
	BodyBytesSent, BytesSent int64
	// RequestLength is the request head plus body bytes read
	// ($request_length).
	RequestLength int64
	// Start is when the first request byte was read; $request_time is
	// End - Start in seconds with millisecond resolution.
	Start time.Time
	// End is "now" for $request_time, $time_local, $time_iso8601 and
	// $msec; the zero value means time.Now() at evaluation.
	End time.Time
	// Upstream lists the upstream tries in order; empty when the request
	// did not reach the upstream stage, which makes the $upstream_*
	// variables not found (logged "-").
	Upstream []UpstreamTry
	// CacheStatus is $upstream_cache_status ("MISS", "HIT"...); empty
	// when the request used no cache.
	CacheStatus string
	// Connection is the connection serial number ($connection) and
	// ConnectionRequests the number of requests made on it so far,
	// this one included ($connection_requests).
	Connection         uint64
	ConnectionRequests int

	// WebSocket session, for the wsgate variables. WS is true once the
	// upstream answered 101 and the tunnel started; without it the $ws_*
	// variables are not found (logged "-").
	WS bool
	// WSDuration is how long the tunnel lasted ($ws_duration, seconds
	// with millisecond resolution).
	WSDuration time.Duration
	// WSBytesIn counts bytes relayed client → upstream ($ws_bytes_in),
	// WSBytesOut upstream → client ($ws_bytes_out), frame headers
	// included, handshake excluded.
	WSBytesIn, WSBytesOut int64
	// WSClosedBy says who ended the tunnel ($ws_closed_by): "client",
	// "upstream", "proxy" (timeout, reload, shutdown), or "" while open.
	WSClosedBy string
	// WSCloseCode is the status code of the first Close frame seen
	// ($ws_close_code); 0 when none was seen (prints "").
	WSCloseCode int
	// WSSession is the rest of the session's end (ws.go).
	WSSession WSSession

	// Uninitialized, when set, is told the name of a variable that only
	// set assigns when it is read before any set assigned it: nginx's
	// "using uninitialized "x" variable" warning, on while
	// uninitialized_variable_warn is (the default).
	Uninitialized func(name string)
	// SentHead is the response head as it went to the client (status
	// line to empty line, HTTP/1.1 form) or, while a header filter runs,
	// as it stands before the filter: what $sent_http_NAME reads. ""
	// before a head. SentTrailers are the trailer lines sent
	// ($sent_trailer_NAME), "Name: value\r\n" each.
	SentHead, SentTrailers string
	// UpstreamTrailers are the trailer lines of the relayed upstream
	// response ($upstream_trailer_NAME); none when it had none.
	UpstreamTrailers []Header
	// Completed is set in the log phase when the response went out whole
	// ($request_completion "OK").
	Completed bool
	// ConnStart is when the client connection was accepted
	// ($connection_time); the zero value reads as no time.
	ConnStart time.Time
	// TCPInfo reads the client connection's TCP_INFO for $tcpinfo_*;
	// nil (or ok false) makes them not found, as nginx when getsockopt
	// fails.
	TCPInfo func() (TCPInfo, bool)
	// Paths answers $document_root, $realpath_root and
	// $request_filename for the location; nil: not found.
	Paths PathVars
	// ProxyBodyLength is the length of the body sent upstream
	// ($proxy_internal_body_length), found when ProxyBodyKnown;
	// ProxyChunked says it is sent chunked ($proxy_internal_chunked).
	ProxyBodyLength int64
	ProxyBodyKnown  bool
	ProxyChunked    bool

	// Conns are the process's connection counters, which
	// $connections_active, _reading, _writing and _waiting read
	// (ngx_http_stub_status_variable); nil reads zeros.
	Conns *connstats.Counters

	// sets holds what set assigned, indexed as the Compiler declared
	// the variables (set.go); nil until a set runs.
	sets []setSlot

	mapInline [4]mapSlot
	mapExtra  []mapSlot
	scratch   []byte // map sources, used as a stack
}

// mapSlot caches one map's value for this Ctx.
type mapSlot struct {
	state uint8 // 0 not evaluated, 1 being evaluated (cycle guard), 2 done
	val   string
}

func (c *Ctx) slot(i int, n int) *mapSlot {
	if n <= len(c.mapInline) {
		return &c.mapInline[i]
	}
	if c.mapExtra == nil {
		c.mapExtra = make([]mapSlot, n)
	}
	return &c.mapExtra[i]
}

func captures(s string, idx []int, names []string) route.Captures {
	return route.Captures{Subject: s, Index: idx, Names: names}
}
