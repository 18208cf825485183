package proxy

import (
	"context"
	"errors"
	"net"
	"strconv"

	"wsgate/internal/config"
)

// This file is the one place that decides which status a client gets when
// proxying fails (nginx 1.22: ngx_http_upstream_next,
// ngx_http_upstream_connect, ngx_http_upstream_process_header). The page
// itself is http1.ResponseWriter.WriteError's, nginx's built-in one
// (ngx_http_special_response.c).

// StatusClientClosed is nginx's 499: the client closed the connection before
// the response header was sent. It is only logged; nothing is written.
const StatusClientClosed = 499

// ErrorKind classifies a proxying failure.
type ErrorKind int

const (
	// KindConnect: connect() failed (refused, reset, unreachable) or the
	// connection failed while the request was being written.
	KindConnect ErrorKind = iota + 1
	// KindConnectTimeout: no connection within proxy_connect_timeout.
	KindConnectTimeout
	// KindSendTimeout: writing the request blocked for proxy_send_timeout.
	KindSendTimeout
	// KindReadTimeout: no (complete) response header within proxy_read_timeout.
	KindReadTimeout
	// KindPrematureClose: the upstream closed before sending a whole header
	// ("upstream prematurely closed connection").
	KindPrematureClose
	// KindInvalidHeader: the upstream's header could not be parsed
	// ("upstream sent invalid header").
	KindInvalidHeader
	// KindTooBigHeader: the upstream's header did not fit proxy_buffer_size
	// ("upstream sent too big header").
	KindTooBigHeader
	// KindNoLive: every peer is down or failed ("no live upstreams").
	KindNoLive
	// KindResolve: the host of a proxy_pass with variables could not be
	// resolved ("no resolver defined to resolve x", "x could not be resolved").
	KindResolve
	// KindBadURL: a proxy_pass with variables evaluated to an unusable URL
	// ("invalid URL prefix in x") or an empty URI ("zero length URI to proxy").
	KindBadURL
	// KindClientGone: the client closed its connection before the response
	// header went out.
	KindClientGone
)

var kindNames = [...]string{
	KindConnect:        "connect failed",
	KindConnectTimeout: "connect timed out",
	KindSendTimeout:    "send timed out",
	KindReadTimeout:    "read timed out",
	KindPrematureClose: "upstream prematurely closed connection",
	KindInvalidHeader:  "upstream sent invalid header",
	KindTooBigHeader:   "upstream sent too big header",
	KindNoLive:         "no live upstreams",
	KindResolve:        "resolving upstream failed",
	KindBadURL:         "invalid upstream URL",
	KindClientGone:     "client closed connection",
}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "upstream error " + strconv.Itoa(int(k))
}

// Status is the status nginx 1.22 answers for a failure of this kind before
// the response header went to the client.
func (k ErrorKind) Status() int {
	switch k {
	case KindConnectTimeout, KindSendTimeout, KindReadTimeout:
		// NGX_HTTP_UPSTREAM_FT_TIMEOUT → 504 Gateway Time-out: the peer
		// exists but did not answer in time (ngx_http_upstream_next).
		return 504
	case KindClientGone:
		// ngx_http_upstream_check_broken_connection finalizes with
		// NGX_HTTP_CLIENT_CLOSED_REQUEST: logged as 499, nothing is sent
		// because nobody is there to read it.
		return StatusClientClosed
	case KindBadURL:
		// ngx_http_proxy_eval/create_request return NGX_ERROR before any
		// upstream is involved: a configuration problem, 500.
		return 500
	default:
		// FT_ERROR (refused, reset, premature close), FT_INVALID_HEADER,
		// FT_NOLIVE and resolver failures are all 502 Bad Gateway: the
		// gateway got no usable answer from upstream.
		return 502
	}
}

// NextUpstream is the proxy_next_upstream condition this failure counts as
// (ngx_http_upstream_next's ft_type); 0 when a retry is never possible.
func (k ErrorKind) NextUpstream() config.NextUpstream {
	switch k {
	case KindConnect, KindPrematureClose:
		return config.NextError
	case KindConnectTimeout, KindSendTimeout, KindReadTimeout:
		return config.NextTimeout
	case KindInvalidHeader, KindTooBigHeader:
		return config.NextInvalidHeader
	}
	return 0
}

// UpstreamError is a proxying failure: what went wrong, with which peer
// ("127.0.0.1:8080"; "" when no peer was involved), and the cause.
type UpstreamError struct {
	Kind ErrorKind
	Peer string
	Err  error
}

func (e *UpstreamError) Error() string {
	msg := e.Kind.String()
	if e.Peer != "" {
		msg += " (upstream " + e.Peer + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// ErrClientGone is the cause used when the client went away; Classify maps
// it (and context.Canceled) to KindClientGone.
var ErrClientGone = errors.New("client closed connection")

// Classify finds the kind of err: the Kind of an *UpstreamError in its
// chain; KindClientGone for ErrClientGone and context.Canceled; a timeout
// (net.Error.Timeout, context.DeadlineExceeded) as KindReadTimeout; anything
// else as KindConnect. Callers that know better wrap in an UpstreamError.
func Classify(err error) ErrorKind {
	var ue *UpstreamError
	switch {
	case errors.As(err, &ue) && ue.Kind != 0:
		return ue.Kind
	case errors.Is(err, ErrClientGone), errors.Is(err, context.Canceled):
		return KindClientGone
	case errors.Is(err, context.DeadlineExceeded):
		return KindReadTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindReadTimeout
	}
	return KindConnect
}

// StatusFor is the status for err before the response header went out:
// Classify(err).Status(). After the header went out nginx sends nothing
// more: the response is only truncated (ngx_http_upstream_finalize_request).
func StatusFor(err error) int {
	return Classify(err).Status()
}

// ServerInfo is how wsgate names itself in Server headers and error pages.
type ServerInfo struct {
	// Version is wsgate's version ("0.3.1"), shown when Tokens is set.
	Version string
	// Tokens is server_tokens: "wsgate/<version>" when on, "wsgate" when off.
	Tokens bool
}

func (s ServerInfo) appendName(dst []byte) []byte {
	dst = append(dst, "wsgate"...)
	if s.Tokens && s.Version != "" {
		dst = append(dst, '/')
		dst = append(dst, s.Version...)
	}
	return dst
}

// statusTexts are nginx's status lines (ngx_http_status_lines); codes not
// listed are written as "NNN " with an empty reason, as nginx does.
var statusTexts = map[int]string{
	200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
	301: "Moved Permanently", 302: "Moved Temporarily", 303: "See Other",
	304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Not Allowed", 406: "Not Acceptable", 408: "Request Time-out",
	409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
	413: "Request Entity Too Large", 414: "Request-URI Too Large",
	415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable",
	421: "Misdirected Request", 429: "Too Many Requests",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
	505: "HTTP Version Not Supported", 507: "Insufficient Storage",
}

// AppendStatusLine appends "NNN Reason" as nginx's header filter names a
// status it produces itself ("426 " for codes it has no text for).
func AppendStatusLine(dst []byte, status int) []byte {
	if status < 100 {
		dst = append(dst, '0')
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	return append(dst, statusTexts[status]...)
}
