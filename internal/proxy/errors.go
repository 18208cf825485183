package proxy

import (
	"context"
	"errors"
	"net"
	"strconv"

	"wsgate/internal/config"
	"wsgate/internal/http1"
)

// This file is the one place that decides which status a client gets when
// proxying fails (nginx 1.22: ngx_http_upstream_next,
// ngx_http_upstream_connect, ngx_http_upstream_process_header). The page
// itself is http1.ResponseWriter.WriteError's, nginx's built-in one
// (ngx_http_special_response.c).

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
	// KindClientBody: reading the client's request body failed while the
	// request was being sent (bad chunked framing, larger than
	// client_max_body_size, client_body_timeout, cut short): not the
	// upstream's fault, so never a reason to try the next one.
	KindClientBody
	// KindSSLCertificate: the files of a proxy_ssl_certificate with
	// variables could not be loaded: 500, as nginx answers.
	KindSSLCertificate
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
	KindClientBody:     "reading client request body failed",
	KindSSLCertificate: "loading upstream SSL certificate failed",
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
		return http1.StatusClientClosedRequest
	case KindClientBody:
		// ngx_http_read_client_request_body's NGX_HTTP_BAD_REQUEST; a
		// body error that carries its own status (413, see bodyStatus)
		// is answered with that, a client_body_timeout closes with 408
		// logged.
		return 400
	case KindBadURL, KindSSLCertificate:
		// ngx_http_proxy_eval/create_request return NGX_ERROR before any
		// upstream is involved: a configuration problem, 500; so does
		// ngx_http_upstream_ssl_init_connection for a certificate it
		// cannot load.
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
