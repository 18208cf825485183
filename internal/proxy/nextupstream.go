package proxy

import (
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/upstream"
)

// This file holds proxy_next_upstream's rules: which failures and statuses
// may go to the next try, within which limits, and how a try ends for its
// peer (ngx_http_upstream_next). forward's loop applies them; a failed
// cached connection's free try is there too.

// canRetry applies proxy_next_upstream's limits: tries left,
// proxy_next_upstream_tries and _timeout, and never resending a body that
// was streamed, nor a non-idempotent request once sent unless
// "non_idempotent" is listed (ngx_http_upstream_next). n is the number of
// tries made that proxy_next_upstream_tries counts.
func (c *clientConn) canRetry(tried *upstream.Tried, lc *config.LocConf, n int, start time.Time, req *exchange.Request, hasBody bool, spool *spooled) bool {
	if tried.Left() <= 0 {
		return false
	}
	if lc.ProxyNextUpstreamTries > 0 && n >= lc.ProxyNextUpstreamTries {
		return false
	}
	if lc.ProxyNextUpstreamTimeout > 0 && time.Since(start) >= lc.ProxyNextUpstreamTimeout {
		return false
	}
	if hasBody && spool == nil && req.Body.BytesRead() > 0 {
		return false
	}
	if lc.ProxyNextUpstream&config.NextNonIdempotent == 0 {
		switch string(req.Method) {
		case "POST", "LOCK", "PATCH":
			return false
		}
	}
	return true
}

// statusNext maps a response status to its proxy_next_upstream condition.
func statusNext(status int) config.NextUpstream {
	switch status {
	case 500:
		return config.NextHTTP500
	case 502:
		return config.NextHTTP502
	case 503:
		return config.NextHTTP503
	case 504:
		return config.NextHTTP504
	case 403:
		return config.NextHTTP403
	case 404:
		return config.NextHTTP404
	case 429:
		return config.NextHTTP429
	}
	return 0
}

// statusOutcome is how a try that answered a status named in
// proxy_next_upstream ends for its peer: http_403 and http_404 are no
// failure (ngx_http_upstream_next frees the peer with NGX_PEER_NEXT), the
// others count against max_fails (NGX_PEER_FAILED).
func statusOutcome(nu config.NextUpstream) upstream.Outcome {
	if nu == config.NextHTTP403 || nu == config.NextHTTP404 {
		return upstream.Next
	}
	return upstream.FailHTTP
}

func outcomeOf(k ErrorKind) upstream.Outcome {
	switch k {
	case KindConnectTimeout, KindReadTimeout, KindSendTimeout:
		return upstream.FailTimeout
	case KindInvalidHeader, KindTooBigHeader:
		return upstream.FailInvalidHeader
	}
	return upstream.FailError
}
