package snapshot

import (
	"errors"
	"fmt"
	"strconv"

	"wsgate/internal/config"
)

// This file decides the request-target wsgate sends upstream and the
// $proxy_host/$proxy_port values, as nginx 1.22's ngx_http_proxy_module does
// in ngx_http_proxy_pass, ngx_http_proxy_eval, ngx_http_proxy_set_vars and
// ngx_http_proxy_create_request.

// ErrZeroLengthURI is returned when the upstream request-target would be
// empty (nginx: "zero length URI to proxy", answered with 500).
var ErrZeroLengthURI = errors.New("zero length URI to proxy")

// ClientTarget is the client's request-target, split the way nginx keeps it.
// All slices are borrowed for the duration of one call.
type ClientTarget struct {
	// RequestURI is the request-target as received, path and query
	// ($request_uri; for an absolute-form target only the path and query).
	RequestURI []byte
	// URI is the decoded, dot-resolved, slash-merged path ($uri).
	URI []byte
	// Args is the raw query without the '?' ($args), never decoded.
	Args []byte
	// Quoted is true when the path of RequestURI held a '%' escape
	// (nginx: r->quoted_uri), or after an internal redirect
	// (r->internal); only then is URI re-escaped upstream.
	Quoted bool
	// EmptyPath is true when the request-target had an empty path, as in
	// "GET http://host?x", or when an internal redirect changed the URI:
	// nginx then clears r->valid_unparsed_uri and sends $uri?$args
	// instead of the raw target.
	EmptyPath bool
	// NoLocationCut is true after "rewrite ... break" (nginx's
	// r->valid_location = 0): the URI part of proxy_pass is not sent and
	// nothing is cut from URI.
	NoLocationCut bool
}

// PathQuoted reports whether the path of a raw request-target (origin form,
// query included) contains a '%', which is what makes nginx's parser set
// r->quoted_uri (ngx_http_parse_request_line, state sw_quoted).
func PathQuoted(requestURI []byte) bool {
	for _, c := range requestURI {
		switch c {
		case '%':
			return true
		case '?', '#':
			return false
		}
	}
	return false
}

// TargetRule turns one location's client request-targets into upstream
// request-targets. Build it once per location with NewTargetRule; it is
// immutable and safe for concurrent use.
type TargetRule struct {
	// uriPart is the static URI part of proxy_pass ("" when absent).
	uriPart string
	hasURI  bool
	hasVars bool
	// cut is how many bytes of $uri the location name covers: nginx cuts
	// plcf->location.len bytes from the start of $uri (a plain length cut,
	// not a prefix comparison), 0 for regex locations and the server level.
	cut int
}

// NewTargetRule prepares the request-target rule for a proxy_pass in the
// location whose name is locPath. locIsRegex is true for ~ and ~* locations
// (nginx sets plcf->location.len to 0 there); locPath is "" for proxy_pass
// at server level.
func NewTargetRule(pp *config.ProxyPass, locPath string, locIsRegex bool) TargetRule {
	r := TargetRule{hasVars: pp.HasVars}
	if !pp.HasVars {
		r.uriPart = pp.URI
		r.hasURI = pp.HasURI && pp.URI != ""
	}
	if !locIsRegex {
		r.cut = len(locPath)
	}
	return r
}

// Append appends the upstream request-target for ct to dst.
//
// evaluatedURI is the URI part of the evaluated proxy_pass when it has
// variables (PassURL.URI), nil otherwise. The three cases of
// ngx_http_proxy_create_request, in its order:
//
//  1. proxy_pass with variables whose URI part is not empty: that URI,
//     exactly, and the client's args are not appended;
//  2. no URI part and a usable raw target: RequestURI byte for byte;
//  3. otherwise: the URI part, then $uri with the location name's length
//     cut off (only when there is a URI part), re-escaped with
//     NGX_ESCAPE_URI only if the client's path was quoted, then "?args".
func (r *TargetRule) Append(dst []byte, ct *ClientTarget, evaluatedURI []byte) ([]byte, error) {
	start := len(dst)
	switch {
	case r.hasVars && len(evaluatedURI) > 0:
		dst = append(dst, evaluatedURI...)
	case !r.hasURI && !ct.EmptyPath:
		dst = append(dst, ct.RequestURI...)
	default:
		uri := ct.URI
		if r.hasURI && !ct.NoLocationCut {
			dst = append(dst, r.uriPart...)
			// In 1.22 the cut is not clamped; a URI shorter than the
			// location name cannot reach this location without an
			// internal redirect, which wsgate does not do.
			uri = uri[min(r.cut, len(uri)):]
		}
		if ct.Quoted {
			dst = AppendEscapedURI(dst, uri)
		} else {
			dst = append(dst, uri...)
		}
		if len(ct.Args) > 0 {
			dst = append(dst, '?')
			dst = append(dst, ct.Args...)
		}
	}
	if len(dst) == start {
		return dst, ErrZeroLengthURI
	}
	return dst, nil
}

// uriEscape is nginx's NGX_ESCAPE_URI table (core/ngx_string.c:
// ngx_escape_uri): a set bit means the byte is written as %XX. It escapes
// 0x00-0x20, '"', '#', '%', '<', '>', '?', '\\', '^', '`', '{', '|', '}'
// and 0x7F-0xFF.
var uriEscape = [8]uint32{
	0xffffffff,
	0xd000002d,
	0x50000000,
	0xb8000001,
	0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
}

// AppendEscapedURI appends s escaped with NGX_ESCAPE_URI (upper-case hex).
func AppendEscapedURI(dst, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		if uriEscape[c>>5]&(1<<(c&0x1f)) != 0 {
			dst = append(dst, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// ProxyHost is $proxy_host for a proxy_pass without variables: the host as
// written (the upstream{} name for named upstreams), with ":port" only when
// a port was written and differs from the scheme's default
// (ngx_http_proxy_set_vars). It is also the default Host header.
func ProxyHost(pp *config.ProxyPass) string {
	if pp.Unix != "" {
		return "localhost"
	}
	if pp.Port == "" || portNumber(pp.Port) == defaultPort(pp.Scheme == "https") {
		return pp.Host
	}
	return pp.Host + ":" + pp.Port
}

// ProxyPort is $proxy_port for a proxy_pass without variables: the port as
// written when it differs from the default, else "80" or "443"; empty
// for a UNIX-domain socket.
func ProxyPort(pp *config.ProxyPass) string {
	if pp.Unix != "" {
		// ngx_http_proxy_set_vars leaves the port of a UNIX-domain
		// socket empty.
		return ""
	}
	tls := pp.Scheme == "https"
	if pp.Port == "" || portNumber(pp.Port) == defaultPort(tls) {
		return defaultPortText(tls)
	}
	return pp.Port
}

func defaultPort(tls bool) int {
	if tls {
		return 443
	}
	return 80
}

func defaultPortText(tls bool) string {
	if tls {
		return "443"
	}
	return "80"
}

// portNumber parses a decimal port as ngx_atoi does; -1 when invalid.
func portNumber(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' || s[0] == '-' {
		return -1
	}
	return n
}

// PassURL is an evaluated proxy_pass URL (a proxy_pass with variables),
// split as ngx_http_proxy_eval and ngx_parse_url do. Its slices point into
// the evaluated bytes.
type PassURL struct {
	TLS bool // https://
	// Host is the host without brackets for IPv6 literals.
	Host []byte
	// PortText is the port as written, nil when absent.
	PortText []byte
	// Port is the port number to dial (80/443 when not written).
	Port int
	// URI is the part from the first '/' or '?' on; a URI starting with
	// '?' has already been given a leading '/' (ngx_http_proxy_eval), which
	// is then the one case where URI does not point into the input.
	URI []byte
	// hostPort is host[:port] as written, for $proxy_host.
	hostPort []byte
	// Unix is the socket path of "http://unix:/path[:uri]", nil for a
	// host; Host is then "localhost" and there is no port, as
	// ngx_parse_unix_domain_url makes them.
	Unix []byte
}

// ProxyHost is $proxy_host: host[:port] as written, the port only when it
// differs from the scheme's default.
func (u *PassURL) ProxyHost() []byte {
	if u.Unix != nil {
		return u.Host
	}
	if u.PortText == nil || u.Port == defaultPort(u.TLS) {
		if len(u.hostPort) > 0 && u.hostPort[0] == '[' {
			return u.hostPort[:len(u.Host)+2]
		}
		return u.Host
	}
	return u.hostPort
}

// AppendProxyPort appends $proxy_port.
func (u *PassURL) AppendProxyPort(dst []byte) []byte {
	if u.Unix != nil {
		return dst
	}
	if u.PortText == nil || u.Port == defaultPort(u.TLS) {
		return append(dst, defaultPortText(u.TLS)...)
	}
	return append(dst, u.PortText...)
}

// ParsePassURL splits an evaluated proxy_pass URL. Errors read like nginx's
// log lines: `invalid URL prefix in "x"` and `invalid port in upstream "x"`
// (both answered with 500 by nginx).
func ParsePassURL(v []byte) (PassURL, error) {
	var u PassURL
	var rest []byte
	switch {
	case len(v) > 7 && asciiPrefixFold(v, "http://"):
		rest = v[7:]
	case len(v) > 8 && asciiPrefixFold(v, "https://"):
		rest = v[8:]
		u.TLS = true
	default:
		return u, fmt.Errorf("invalid URL prefix in %q", v)
	}
	u.Port = defaultPort(u.TLS)

	if len(rest) >= 5 && asciiPrefixFold(rest, "unix:") {
		path := rest[5:]
		if i := indexByte(path, ':'); i >= 0 {
			path, u.URI = path[:i], path[i+1:]
			if len(u.URI) == 0 {
				u.URI = nil
			}
		}
		if len(path) == 0 {
			return u, fmt.Errorf("no path in the unix domain socket in upstream %q", rest)
		}
		u.Unix, u.Host, u.hostPort = path, []byte("localhost"), nil
		return u, nil
	}

	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' {
			end = i
			break
		}
	}
	hostPort := rest[:end]
	if end < len(rest) {
		u.URI = rest[end:]
		if u.URI[0] == '?' {
			u.URI = append([]byte{'/'}, u.URI...)
		}
	}
	u.hostPort = hostPort

	host := hostPort
	if len(host) > 0 && host[0] == '[' {
		i := indexByte(host, ']')
		if i < 0 {
			return u, fmt.Errorf("invalid IPv6 address in upstream %q", rest)
		}
		u.Host = host[1:i]
		host = host[i+1:]
		if len(host) > 0 {
			if host[0] != ':' {
				return u, fmt.Errorf("invalid host in upstream %q", rest)
			}
			u.PortText = host[1:]
		}
	} else if i := indexByte(host, ':'); i >= 0 {
		u.Host = host[:i]
		u.PortText = host[i+1:]
	} else {
		u.Host = host
	}
	if u.PortText != nil {
		if u.Port = portNumber(string(u.PortText)); u.Port < 0 {
			return u, fmt.Errorf("invalid port in upstream %q", rest)
		}
	}
	if len(u.Host) == 0 {
		return u, fmt.Errorf("no host in upstream %q", rest)
	}
	return u, nil
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// asciiPrefixFold reports whether b starts with the lower-case ASCII
// prefix, ignoring case.
func asciiPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(b[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
