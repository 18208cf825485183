package proxy

import (
	"strings"
	"time"

	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/vars"
)

// Observer is told what the proxy does: each upstream try, each tunnel's
// start and end, and each request once it has ended (when nginx writes
// its access log line). The access log, metrics, the status page and the
// demo are observers; Handler.Observer is nil when there is none, and then
// nothing is built for it.
//
// For one request the calls come in this order, from the goroutine
// serving it and then, for a tunnel, from the tunnel's: Try for each try
// (proxy_next_upstream), then for a 101 TunnelStart, the frames of the
// tunnel.FrameObserver TunnelStart returned, TunnelEnd, and last Request.
// Requests of different connections are observed concurrently. The
// methods must be fast and must not block: the request or the tunnel
// waits for them. The strings of the events stay valid after the call.
type Observer interface {
	// Try is called when an upstream try ends: with the response head,
	// or with what failed.
	Try(Try)
	// TunnelStart is called once a tunnel has been set up, before any
	// byte is relayed. It returns the tunnel's frame observer, or nil for
	// none: frames cost nothing then. Only WebSocket tunnels report
	// frames (Tunnel.FrameAware).
	TunnelStart(Tunnel) tunnel.FrameObserver
	// TunnelEnd is called once the tunnel has ended and both its
	// connections are closed, with how it ended.
	TunnelEnd(Tunnel, tunnel.Result)
	// Request is called once per request, when it has ended: for a
	// tunnel, after TunnelEnd.
	Request(Request)
}

// Request is a request as it ended: what its access log line says.
type Request struct {
	Server   string // $server_name: the server block's first name, "" for none
	Location string // the location's name, as "location /ws/"
	// Upstream is the address of the last try ($upstream_addr's last
	// entry), "" when the request was not proxied; UpstreamStatus is its
	// $upstream_status (502 or 504 for a try that got no response, as
	// nginx logs; 0 when the client went away first). Tries counts the
	// tries.
	Upstream       string
	UpstreamStatus int
	Tries          int
	Status         int  // $status: 101 for a tunnel, 499 when the client gave up
	Tunnel         bool // the request became a tunnel, observed at its end
	Start          time.Time
	// Duration is $request_time: from the first byte of the request to
	// the end of the response, or of the tunnel.
	Duration time.Duration
	// RequestLength is $request_length (head and body; for a tunnel, with
	// what the client sent through it). BytesSent is $bytes_sent.
	RequestLength int64
	BytesSent     int64

	// Handshake is set for a WebSocket opening handshake: the client
	// sent "Upgrade: websocket" (RFC 6455 4.1), whatever came of it.
	Handshake bool
}

// TryOutcome says how an upstream try ended.
type TryOutcome uint8

// Try outcomes; Try.Status is set for TryConnected only.
const (
	// TryConnected: the upstream answered with a response head.
	TryConnected TryOutcome = iota + 1
	// TryRefused: the connection could not be made (refused, unreachable,
	// or its TLS handshake failed).
	TryRefused
	// TryTimeout: proxy_connect_timeout, proxy_send_timeout or
	// proxy_read_timeout expired.
	TryTimeout
	// TryFailed: the upstream was connected but failed: it reset or
	// closed the connection, or sent an invalid or too big head.
	TryFailed
	// TryNoLive: the upstream group had no live peer to try.
	TryNoLive
	// TryClientGone: the client went away while the upstream worked (499).
	TryClientGone
)

func (o TryOutcome) String() string {
	switch o {
	case TryConnected:
		return "connected"
	case TryRefused:
		return "refused"
	case TryTimeout:
		return "timeout"
	case TryFailed:
		return "failed"
	case TryNoLive:
		return "no live upstreams"
	case TryClientGone:
		return "client gone"
	}
	return "none"
}

// Try is one upstream try, as $upstream_addr, $upstream_status and the
// upstream times log it. The Request observed after it names the server
// and location.
type Try struct {
	// Upstream is the peer's address; for TryNoLive the upstream group's
	// name, as nginx logs it.
	Upstream string
	N        int // 1 for a request's first try
	Outcome  TryOutcome
	Status   int  // the response status for TryConnected; 0 otherwise
	Reused   bool // the try used a keepalive connection
	// ConnectTime is $upstream_connect_time, negative when the connect
	// did not finish or a keepalive connection was reused; HeaderTime is
	// from the start of the try to its response head or its failure.
	ConnectTime time.Duration
	HeaderTime  time.Duration

	// Pool is the name of the peer's upstream group (the upstream{}
	// block's, or the proxy_pass host of an implicit one); for
	// TryNoLive, Upstream's.
	Pool string
}

// Tunnel is a tunnel that a request became after a 101.
type Tunnel struct {
	Server   string
	Location string
	Upstream string // the upstream peer's address
	Client   string // the client's "ip:port"
	URI      string // $request_uri of the handshake
	// FrameAware is set for a WebSocket tunnel: its frames, message counts
	// and Close codes are followed (tunnel.Options.FrameAware).
	FrameAware bool
	Start      time.Time // when the 101 went to the client

	Pool string // the upstream peer's group (as Try.Pool)
	// Handle is the tunnel's registry entry, for live readings while it
	// runs (Handle.PingRTT); nil where no registry follows it.
	Handle *tunnel.Handle
}

// Idler is an Observer that may have nothing to observe for a while (the
// metrics while no location serves them): while Idle reports true the
// proxy tells it nothing and builds nothing for it, as if there were
// none. A tunnel it was told of at its start is still told of at its end.
type Idler interface {
	Idle() bool
}

// observer returns h.Observer, or nil when there is none or it is idle.
func (h *Handler) observer() Observer {
	o := h.Observer
	if i, ok := o.(Idler); ok && i.Idle() {
		return nil
	}
	return o
}

// observeTry tells the observer, if any, of the try just recorded as the
// last of c.vc.Upstream.
func (c *clientConn) observeTry(outcome TryOutcome, reused bool) {
	obs := c.h.observer()
	if obs == nil {
		return
	}
	n := len(c.vc.Upstream)
	u := &c.vc.Upstream[n-1]
	t := Try{
		Upstream: u.Addr, N: n, Outcome: outcome, Reused: reused,
		ConnectTime: u.ConnectTime, HeaderTime: u.ResponseTime, Pool: u.Addr,
	}
	if l := c.att.lease; l != nil && outcome != TryNoLive {
		t.Pool = l.PoolName()
	}
	if reused {
		t.ConnectTime = -1
	}
	if outcome == TryConnected {
		t.Status = u.Status
	}
	obs.Try(t)
}

// answeredOutcome is the TryOutcome of a try recorded with the response
// status it got; 0 when the client went away first.
func answeredOutcome(status int) TryOutcome {
	if status == 0 {
		return TryClientGone
	}
	return TryConnected
}

// failedOutcome is the TryOutcome of a try that failed with kind;
// connected tells whether the connection was made.
func failedOutcome(kind ErrorKind, connected bool) TryOutcome {
	switch kind {
	case KindConnectTimeout, KindSendTimeout, KindReadTimeout:
		return TryTimeout
	case KindConnect:
		if !connected {
			return TryRefused
		}
	case KindNoLive:
		return TryNoLive
	}
	return TryFailed
}

// ObserveRequest tells the observer, if any, of the request that vc
// describes, which has ended.
func (h *Handler) ObserveRequest(plan *snapshot.Loc, vc *vars.Ctx) {
	obs := h.observer()
	if obs == nil {
		return
	}
	// A request whose location logs nothing ends without an end time
	// read (pipeline's log phase): it ends now.
	end := vc.End
	if end.IsZero() {
		end = time.Now()
	}
	r := Request{
		Server: vc.ServerName, Location: plan.Name, Tries: len(vc.Upstream), Status: vc.Status, Tunnel: vc.WS,
		Start: vc.Start, Duration: end.Sub(vc.Start), RequestLength: vc.RequestLength, BytesSent: vc.BytesSent,
		Handshake: wsHandshake(vc.Headers),
	}
	if n := len(vc.Upstream); n > 0 {
		r.Upstream, r.UpstreamStatus = vc.Upstream[n-1].Addr, vc.Upstream[n-1].Status
	}
	obs.Request(r)
}

// wsHandshake reports whether headers ask for a WebSocket upgrade
// ("Upgrade: websocket", RFC 6455 4.1; tokens are case-insensitive).
func wsHandshake(headers []vars.Header) bool {
	for i := range headers {
		h := &headers[i]
		if !strings.EqualFold(h.Name, "Upgrade") {
			continue
		}
		for tok := range strings.SplitSeq(h.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}
