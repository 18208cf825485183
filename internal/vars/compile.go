package vars

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"wsgate/internal/config"
)

// kind is what a variable reads.
type kind uint8

const (
	kLiteral kind = iota
	kHost
	kHTTP     // $http_NAME: first matching header
	kHTTPJoin // $http_x_forwarded_for, $http_cookie: all, joined
	kRemoteAddr
	kRemotePort
	kProxyAddXFF
	kScheme
	kHTTPS
	kRequestURI
	kURI
	kArgs
	kArg
	kIsArgs
	kMethod
	kServerName
	kServerPort
	kServerAddr
	kProtocol
	kProxyHost
	kProxyPort
	kRequest
	kStatus
	kRequestTime
	kUpstreamAddr
	kUpstreamStatus
	kUpstreamCacheStatus
	kUpstreamResponseTime
	kUpstreamConnectTime
	kBodyBytesSent
	kBytesSent
	kRequestLength
	kTimeLocal
	kTimeISO8601
	kMsec
	kConnection
	kConnectionRequests
	kRemoteUser
	kHostname
	kCookie
	kCapture
	kNamedCapture
	kMap
	kWSDuration
	kWSBytesIn
	kWSBytesOut
	kWSClosedBy
	kWSCloseCode
	kWSSession // ws.go: $ws_end_reason, $ws_messages_in...
	kRequestID
	kBinaryRemoteAddr
	kPid
	kPipe
	kRequestBody
	kUpstreamHTTP // $upstream_http_NAME: a header of the upstream's response
	kUpstreamResponseLength
	kSet // a variable only set assigns
	kSSLProtocol
	kSSLCipher
	kSSLServerName
	kSSLSessionReused
	kSSLALPN
	kSSLEarlyData
	kSSLCurve
	kSSLClientVerify
	kSSLClientSDN
	kSSLClientIDN
	kSSLClientSerial
	kSSLClientFingerprint
	kSSLClientRawCert
	kSSLClientEscapedCert
	kSSLClientCert
	kSSLClientVStart
	kSSLClientVEnd
	kSSLClientVRemain
	kConnectionsActive
	kConnectionsReading
	kConnectionsWriting
	kConnectionsWaiting
	kRealIPRemoteAddr
	kRealIPRemotePort
	kProxyProtocolAddr
	kProxyProtocolPort
	kProxyProtocolServerAddr
	kProxyProtocolServerPort
	kLimitReqStatus
	kLimitConnStatus
	kLimitRate
	// The rest of nginx 1.22's variables (extra.go, sent.go).
	kNotFound    // a variable of a feature wsgate has not: never found
	kSentHTTP    // $sent_http_NAME
	kSentTrailer // $sent_trailer_NAME
	kRequestCompletion
	kConnectionTime
	kNginxVersion
	kTCPInfoRTT
	kTCPInfoRTTVar
	kTCPInfoSndCwnd
	kTCPInfoRcvSpace
	kHTTP2
	kHTTP3
	kDocumentRoot
	kRealpathRoot
	kRequestFilename
	kUpstreamHeaderTime
	kUpstreamBytesReceived
	kUpstreamBytesSent
	kUpstreamCookie  // $upstream_cookie_NAME
	kUpstreamTrailer // $upstream_trailer_NAME
	kProxyInternalBodyLength
	kProxyInternalChunked
	kSSLCiphers
	kSSLCurves
	kSSLSessionID
	kSSLClientSDNLegacy
	kSSLClientIDNLegacy
)

// builtin maps the fixed variable names to their kinds (ngx_http_core_variables
// and the proxy, log and wsgate variables). Read-only.
var builtin = map[string]kind{
	"host":                      kHost,
	"remote_addr":               kRemoteAddr,
	"remote_port":               kRemotePort,
	"proxy_add_x_forwarded_for": kProxyAddXFF,
	"scheme":                    kScheme,
	"https":                     kHTTPS,
	"request_uri":               kRequestURI,
	"uri":                       kURI,
	"document_uri":              kURI,
	"args":                      kArgs,
	"query_string":              kArgs,
	"is_args":                   kIsArgs,
	"request_method":            kMethod,
	"server_name":               kServerName,
	"server_port":               kServerPort,
	"server_addr":               kServerAddr,
	"server_protocol":           kProtocol,
	"proxy_host":                kProxyHost,
	"proxy_port":                kProxyPort,
	"request":                   kRequest,
	"status":                    kStatus,
	"request_time":              kRequestTime,
	"upstream_addr":             kUpstreamAddr,
	"upstream_status":           kUpstreamStatus,
	"upstream_cache_status":     kUpstreamCacheStatus,
	"upstream_response_time":    kUpstreamResponseTime,
	"upstream_connect_time":     kUpstreamConnectTime,
	"body_bytes_sent":           kBodyBytesSent,
	"bytes_sent":                kBytesSent,
	"request_length":            kRequestLength,
	"time_local":                kTimeLocal,
	"time_iso8601":              kTimeISO8601,
	"msec":                      kMsec,
	"connection":                kConnection,
	"connection_requests":       kConnectionRequests,
	"remote_user":               kRemoteUser,
	"hostname":                  kHostname,
	"ws_duration":               kWSDuration,
	"ws_bytes_in":               kWSBytesIn,
	"ws_bytes_out":              kWSBytesOut,
	"ws_closed_by":              kWSClosedBy,
	"ws_close_code":             kWSCloseCode,
	"request_id":                kRequestID,
	"binary_remote_addr":        kBinaryRemoteAddr,
	"pid":                       kPid,
	"pipe":                      kPipe,
	"request_body":              kRequestBody,
	"upstream_response_length":  kUpstreamResponseLength,
	"ssl_protocol":              kSSLProtocol,
	"ssl_cipher":                kSSLCipher,
	"ssl_server_name":           kSSLServerName,
	"ssl_session_reused":        kSSLSessionReused,
	"ssl_alpn_protocol":         kSSLALPN,
	"ssl_early_data":            kSSLEarlyData,
	"ssl_curve":                 kSSLCurve,
	"ssl_client_verify":         kSSLClientVerify,
	"ssl_client_s_dn":           kSSLClientSDN,
	"ssl_client_i_dn":           kSSLClientIDN,
	"ssl_client_serial":         kSSLClientSerial,
	"ssl_client_fingerprint":    kSSLClientFingerprint,
	"ssl_client_raw_cert":       kSSLClientRawCert,
	"ssl_client_escaped_cert":   kSSLClientEscapedCert,
	"ssl_client_cert":           kSSLClientCert,
	"ssl_client_v_start":        kSSLClientVStart,
	"ssl_client_v_end":          kSSLClientVEnd,
	"ssl_client_v_remain":       kSSLClientVRemain,
	"connections_active":        kConnectionsActive,
	"connections_reading":       kConnectionsReading,
	"connections_writing":       kConnectionsWriting,
	"connections_waiting":       kConnectionsWaiting,
	// ngx_http_realip_module's and the PROXY protocol's (ngx_http_variables.c).
	"realip_remote_addr":         kRealIPRemoteAddr,
	"realip_remote_port":         kRealIPRemotePort,
	"proxy_protocol_addr":        kProxyProtocolAddr,
	"proxy_protocol_port":        kProxyProtocolPort,
	"proxy_protocol_server_addr": kProxyProtocolServerAddr,
	"proxy_protocol_server_port": kProxyProtocolServerPort,
	"limit_req_status":           kLimitReqStatus,
	"limit_conn_status":          kLimitConnStatus,
	"limit_rate":                 kLimitRate,

	"request_completion":           kRequestCompletion,
	"request_body_file":            kNotFound, // bodies are never written to a file
	"connection_time":              kConnectionTime,
	"nginx_version":                kNginxVersion,
	"tcpinfo_rtt":                  kTCPInfoRTT,
	"tcpinfo_rttvar":               kTCPInfoRTTVar,
	"tcpinfo_snd_cwnd":             kTCPInfoSndCwnd,
	"tcpinfo_rcv_space":            kTCPInfoRcvSpace,
	"http2":                        kHTTP2,
	"http3":                        kHTTP3,
	"document_root":                kDocumentRoot,
	"realpath_root":                kRealpathRoot,
	"request_filename":             kRequestFilename,
	"upstream_header_time":         kUpstreamHeaderTime,
	"upstream_bytes_received":      kUpstreamBytesReceived,
	"upstream_bytes_sent":          kUpstreamBytesSent,
	"upstream_cache_last_modified": kNotFound,
	"upstream_cache_etag":          kNotFound,
	"proxy_internal_body_length":   kProxyInternalBodyLength,
	"proxy_internal_chunked":       kProxyInternalChunked,
	"ssl_ciphers":                  kSSLCiphers,
	"ssl_curves":                   kSSLCurves,
	"ssl_session_id":               kSSLSessionID,
	"ssl_client_s_dn_legacy":       kSSLClientSDNLegacy,
	"ssl_client_i_dn_legacy":       kSSLClientIDNLegacy,
}

// Compiler turns strings with variables into Templates for one
// configuration: it knows the map blocks and the named captures of the
// configuration's regular expressions. It is read-only once built and safe
// for concurrent use by Compile's results.
type Compiler struct {
	maps     []*compiledMap
	mapIndex map[string]int // variable name → maps index
	captures map[string]bool
	hostname string
	pid      string
	// upstreamHeaders is set once a template reads $upstream_http_NAME;
	// sentHeaders once one reads $sent_http_NAME.
	upstreamHeaders bool
	sentHeaders     bool
	requestBody     bool // a template reads $request_body
	// sets indexes setNames: the variables set assigns (set.go).
	sets     map[string]int
	setNames []string
}

// NewCompiler compiles the map blocks (in file order; a later map of the
// same variable replaces an earlier one, as nginx's changeable map
// variables do), after declaring the variables that set assigns
// (config.HTTP.SetVariables; see set.go), which a map's values may read.
// Every problem is reported, at the map's, entry's or set's position, in
// one config.ErrorList.
func NewCompiler(maps []*config.Map, sets ...config.VarDecl) (*Compiler, error) {
	c := &Compiler{mapIndex: make(map[string]int), captures: make(map[string]bool)}
	c.hostname, _ = os.Hostname()
	c.pid = strconv.Itoa(os.Getpid())
	var errs config.ErrorList
	// Names first: a map's source or values may use maps defined later.
	for _, m := range maps {
		name := strings.ToLower(m.Var)
		if _, ok := builtin[name]; ok || isPrefixVar(name) {
			errs.Add(m.Pos, "the duplicate %q variable", name)
			continue
		}
		cm := &compiledMap{cfg: m, index: len(c.maps), exact: make(map[string]*mapValue)}
		if i, ok := c.mapIndex[name]; ok {
			c.maps[i] = cm
			cm.index = i
			continue
		}
		c.mapIndex[name] = len(c.maps)
		c.maps = append(c.maps, cm)
	}
	c.declareSet(sets, &errs)
	// Named groups of map regexes are variables too.
	for _, cm := range c.maps {
		for _, e := range cm.cfg.Entries {
			if e.Regex {
				if re, err := regexp.Compile(e.Key); err == nil {
					c.declare(re.SubexpNames())
				}
			}
		}
	}
	for _, cm := range c.maps {
		cm.compile(c, &errs)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// UsesUpstreamHeaders reports whether a template compiled so far reads a
// header of the upstream's response ($upstream_http_NAME): only then does
// the proxy keep those headers for the request's variables.
func (c *Compiler) UsesUpstreamHeaders() bool { return c.upstreamHeaders }

// UsesSentHeaders reports whether a template compiled so far reads the
// head sent to the client ($sent_http_NAME): only then does a tunnel keep
// it for its log line.
func (c *Compiler) UsesSentHeaders() bool { return c.sentHeaders }

// UsesRequestBody reports whether a template compiled so far reads
// $request_body: only then does the proxy keep a body it streams.
func (c *Compiler) UsesRequestBody() bool { return c.requestBody }

// DeclareCaptures makes the named groups of the configuration's other
// regexes (server names, locations: route.Table.CaptureNames) usable as
// variables. Call it before Compile.
func (c *Compiler) DeclareCaptures(names []string) { c.declare(names) }

func (c *Compiler) declare(names []string) {
	for _, n := range names {
		if n != "" {
			c.captures[strings.ToLower(n)] = true
		}
	}
}

func isPrefixVar(name string) bool {
	for _, p := range [...]string{"http_", "arg_", "cookie_", "upstream_http_", "sent_http_", "sent_trailer_", "upstream_cookie_", "upstream_trailer_"} {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// part is one piece of a template: a literal or a variable.
type part struct {
	kind kind
	lit  string // kLiteral text; for kHTTP the lower-cased name with "_"; kArg, kCookie, kNamedCapture the name
	n    int    // kCapture group, kMap index, kSet index
	// set is, for kMap, the index plus one of the map's variable among
	// those set assigns (0: no set assigns it).
	set int
	sep string // kHTTPJoin separator
}

// Template is a compiled string with variables (ngx_http_complex_value_t).
// It is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
	c     *Compiler
}

// String returns the source text.
func (t *Template) String() string { return t.src }

// IsConst reports whether the template has no variables; its value is
// then String().
func (t *Template) IsConst() bool {
	for _, p := range t.parts {
		if p.kind != kLiteral {
			return false
		}
	}
	return true
}

// ReadsSent reports whether the template reads the response as sent
// ($sent_http_NAME, $sent_trailer_NAME): a header filter then shows it
// the lines added before its own.
func (t *Template) ReadsSent() bool {
	for _, p := range t.parts {
		if p.kind == kSentHTTP || p.kind == kSentTrailer {
			return true
		}
	}
	return false
}

// Compile compiles s as ngx_http_script_compile reads it: "$name" (letters,
// digits, "_"), "${name}", "$1".."$9" (one digit). Names are
// case-insensitive. Errors: `unknown "name" variable`, `invalid variable
// name in "s"`, `the closing bracket in "name" variable is missing`.
func (c *Compiler) Compile(s string) (*Template, error) {
	t := &Template{src: s, c: c}
	for i := 0; i < len(s); {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				j = len(s) - i
			}
			t.parts = append(t.parts, part{kind: kLiteral, lit: s[i : i+j]})
			i += j
			continue
		}
		i++
		if i == len(s) {
			return nil, fmt.Errorf("invalid variable name in %q", s)
		}
		if s[i] >= '1' && s[i] <= '9' {
			t.parts = append(t.parts, part{kind: kCapture, n: int(s[i] - '0')})
			i++
			continue
		}
		bracket := false
		if s[i] == '{' {
			bracket = true
			i++
			if i == len(s) {
				return nil, fmt.Errorf("invalid variable name in %q", s)
			}
		}
		start := i
		for i < len(s) && isNameByte(s[i]) {
			i++
		}
		name := s[start:i]
		if bracket {
			if i == len(s) || s[i] != '}' {
				return nil, fmt.Errorf("the closing bracket in %q variable is missing", s[start:i])
			}
			i++
		}
		if name == "" {
			return nil, fmt.Errorf("invalid variable name in %q", s)
		}
		p, err := c.resolve(strings.ToLower(name))
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// resolve finds the variable called name (lower-case).
func (c *Compiler) resolve(name string) (part, error) {
	if i, ok := c.mapIndex[name]; ok {
		p := part{kind: kMap, n: i}
		if j, ok := c.sets[name]; ok {
			p.set = j + 1
		}
		return p, nil
	}
	if i, ok := c.sets[name]; ok && name != "args" {
		if _, ok := builtin[name]; !ok {
			return part{kind: kSet, n: i}, nil
		}
	}
	if k, ok := builtin[name]; ok {
		if k == kWSSession {
			return c.wsSessionPart(name), nil
		}
		if k == kRequestBody {
			c.requestBody = true
		}
		return part{kind: k}, nil
	}
	switch {
	case name == "http_x_forwarded_for":
		return part{kind: kHTTPJoin, lit: name[5:], sep: ", "}, nil
	case name == "http_cookie":
		return part{kind: kHTTPJoin, lit: name[5:], sep: "; "}, nil
	case name == "content_type", name == "content_length":
		return part{kind: kHTTP, lit: name}, nil
	case strings.HasPrefix(name, "upstream_http_") && len(name) > 14:
		c.upstreamHeaders = true
		return part{kind: kUpstreamHTTP, lit: name[14:]}, nil
	case strings.HasPrefix(name, "upstream_cookie_") && len(name) > 16:
		c.upstreamHeaders = true
		return part{kind: kUpstreamCookie, lit: name[16:]}, nil
	case strings.HasPrefix(name, "upstream_trailer_") && len(name) > 17:
		return part{kind: kUpstreamTrailer, lit: name[17:]}, nil
	case strings.HasPrefix(name, "sent_http_") && len(name) > 10:
		c.sentHeaders = true
		return part{kind: kSentHTTP, lit: name[10:]}, nil
	case strings.HasPrefix(name, "sent_trailer_") && len(name) > 13:
		return part{kind: kSentTrailer, lit: name[13:]}, nil
	case strings.HasPrefix(name, "http_") && len(name) > 5:
		return part{kind: kHTTP, lit: name[5:]}, nil
	case strings.HasPrefix(name, "arg_") && len(name) > 4:
		return part{kind: kArg, lit: name[4:]}, nil
	case name == "arg_":
		// ngx_http_variable_argument: an empty argument name is never
		// found, whatever the query holds.
		return part{kind: kLiteral}, nil
	case strings.HasPrefix(name, "cookie_") && len(name) > 7:
		return part{kind: kCookie, lit: name[7:]}, nil
	}
	if c.captures[name] {
		return part{kind: kNamedCapture, lit: name}, nil
	}
	if strings.HasPrefix(name, "proxy_protocol_tlv_") {
		return part{}, fmt.Errorf("unknown %q variable: the $proxy_protocol_tlv_* variables are nginx 1.23.2's, and wsgate reads the PROXY protocol as nginx 1.22 does (TLVs passed over)", name)
	}
	return part{}, fmt.Errorf("unknown %q variable", name)
}
