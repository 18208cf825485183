package proxy

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/vars"
	"wsgate/internal/ws"
)

// This file turns a location's ws_ directives (config.WSConf) into what
// the proxy and its tunnels enforce.

// applyWS sets the Pings and the limits of a WebSocket tunnel from its
// location's ws_ping_interval, ws_pong_timeout, ws_max_message_size,
// ws_max_frame_size and ws_message_rate.
func applyWS(w *config.WSConf, o *tunnel.Options) {
	if w.PingInterval > 0 {
		o.Ping = tunnel.PingOptions{
			Interval: w.PingInterval,
			Timeout:  w.PongTimeout,
			Client:   w.PingSides&config.WSClient != 0,
			Upstream: w.PingSides&config.WSUpstream != 0,
		}
	}
	o.ClientLimits = sideLimits(w, config.WSClient)
	o.UpstreamLimits = sideLimits(w, config.WSUpstream)
}

// sideLimits returns the Limits on what side sends.
func sideLimits(w *config.WSConf, side config.WSSides) tunnel.Limits {
	var l tunnel.Limits
	if w.MaxFrame.Size > 0 && w.MaxFrame.Sides&side != 0 {
		l.MaxFrame = uint64(w.MaxFrame.Size)
	}
	if w.MaxMessage.Size > 0 && w.MaxMessage.Sides&side != 0 {
		l.MaxMessage = uint64(w.MaxMessage.Size)
	}
	if r := w.MessageRate; r.PerSecond > 0 && r.Sides&side != 0 {
		l.Rate, l.Burst, l.Drop = r.PerSecond, r.Burst, r.Drop
	}
	return l
}

// admitWS applies the location's handshake policy to a WebSocket
// handshake before anything reaches the upstream: ws_allow_origins (403),
// ws_subprotocols (403 when the offer names none allowed; the offer sent
// upstream keeps only the allowed ones), ws_deflate strip|off (the
// permessage-deflate offer removed) and ws_handshake_rate (503 with
// Retry-After). upstreamName names the upstream for a per-upstream rate.
// It returns the status that refuses the handshake, 0 to let it through;
// req's headers may have been rewritten.
func (c *clientConn) admitWS(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, upstreamName string) int {
	p := plan.WSPolicy
	if !p.AllowOrigin(req.Header("Origin")) {
		c.h.Log.Info("websocket handshake from a forbidden origin", "client", c.remoteAddr, "uri", c.vc.RequestURI, "origin", string(req.Header("Origin")))
		return 403
	}
	if p.ChecksSubprotocols() {
		kept := false
		req.Headers = rewriteHeader(req.Headers, "Sec-WebSocket-Protocol", func(v []byte) ([]byte, bool) {
			out, ok := p.FilterSubprotocols(v)
			kept = kept || ok
			return out, ok
		})
		if !kept {
			c.h.Log.Info("websocket handshake offers no allowed subprotocol", "client", c.remoteAddr, "uri", c.vc.RequestURI)
			return 403
		}
	}
	if p.Deflate() != ws.DeflatePass {
		req.Headers = rewriteHeader(req.Headers, "Sec-WebSocket-Extensions", ws.StripDeflate)
	}
	if hr := plan.Conf.WS.HandshakeRate; hr.PerSecond > 0 {
		key := "listener " + c.localAddr + ":" + c.localPort
		if hr.Upstream {
			key = "upstream " + upstreamName
		}
		if wait := c.h.handshakes.take(key, hr.PerSecond, hr.Burst); wait > 0 {
			secs := int64((wait + time.Second - 1) / time.Second)
			w.AddErrorHeader(retryAfter, strconv.AppendInt(nil, secs, 10))
			c.h.Log.Warn("websocket handshake over ws_handshake_rate", "client", c.remoteAddr, "uri", c.vc.RequestURI, "bucket", key)
			return 503
		}
	}
	return 0
}

var retryAfter = []byte("Retry-After")

// rewriteHeader replaces the value of each line named name by what fn
// makes of it, and removes the lines fn leaves empty (keep false). The
// other lines are kept in order; hs may be reused.
func rewriteHeader(hs []exchange.Header, name string, fn func([]byte) ([]byte, bool)) []exchange.Header {
	out := hs[:0]
	for _, h := range hs {
		if exchange.EqualFold(h.Name, name) {
			v, keep := fn(h.Value)
			if !keep {
				continue
			}
			h.Value = v
		}
		out = append(out, h)
	}
	return out
}

// handshakeRates are the ws_handshake_rate token buckets, one per
// listener or upstream (and rate): they live as long as the Handler, so
// that a reload does not refill them. The zero value is ready.
type handshakeRates struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// take takes a token from key's bucket of perSecond and burst; it
// returns 0 when one was there, otherwise how long until one will be.
func (r *handshakeRates) take(key string, perSecond float64, burst int) time.Duration {
	key += " " + strconv.FormatFloat(perSecond, 'g', -1, 64) + " " + strconv.Itoa(burst)
	r.mu.Lock()
	l := r.buckets[key]
	if l == nil {
		if r.buckets == nil {
			r.buckets = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Limit(perSecond), burst)
		r.buckets[key] = l
	}
	r.mu.Unlock()
	now := time.Now()
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// wsSession is what the session variables say of a tunnel that ended.
func wsSession(res tunnel.Result) vars.WSSession {
	rtt := res.ClientRTT
	if rtt == 0 {
		rtt = res.UpstreamRTT
	}
	return vars.WSSession{
		EndReason: res.EndReason(), CloseReason: res.CloseReason,
		MessagesIn: res.MessagesFromClient, MessagesOut: res.MessagesFromUpstream, HasMessages: true,
		PingRTT: rtt,
	}
}

// progress writes the "still open" access log lines of a running tunnel
// (ws_log_interval): the session's variables so far, $status 101,
// $ws_end_reason "open".
func (e *tunnelEnd) progress(p tunnel.Progress) {
	vc := new(vars.Ctx)
	e.vars.Thaw(vc)
	vc.Status = 101
	vc.WSDuration = p.Duration
	vc.WSBytesIn, vc.WSBytesOut = p.FromClient, p.FromUpstream
	rtt := p.ClientRTT
	if rtt == 0 {
		rtt = p.UpstreamRTT
	}
	vc.WSSession = vars.WSSession{Open: true, PingRTT: rtt,
		MessagesIn: p.MessagesFromClient, MessagesOut: p.MessagesFromUpstream, HasMessages: true}
	vc.RequestLength += p.FromClient
	vc.BodyBytesSent = p.FromUpstream
	vc.BytesSent += p.FromUpstream
	vc.End = time.Now()
	for _, lg := range e.plan.Logs {
		lg.Log(vc)
	}
}
