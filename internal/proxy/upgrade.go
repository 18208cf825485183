package proxy

import (
	"bytes"
	"context"
	"strings"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
	"wsgate/internal/ws"
)

// upgrade handles a 101 from the upstream. It becomes a tunnel only when
// the client asked for an upgrade that this location may carry, and, for
// WebSockets, the upstream agreed to "websocket"; anything else is a bad
// gateway and the client connection is not turned into a blind tunnel
// (nginx tunnels any 101 to a client that sent Upgrade, which lets an
// upstream smuggle an h2c or other protocol through).
func (c *clientConn) upgrade(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, lc *config.LocConf, a *attempt, resp *http1.Response, asked, allowed, isWS bool, start time.Time) int {
	c.record(a, resp.Status, start)
	reason := ""
	switch {
	case !asked:
		reason = "upstream sent 101 to a request without Upgrade"
	case !allowed:
		reason = "upstream switched to a protocol this location does not allow: " + string(req.Upgrade)
	case isWS && !http1.TokenIn(resp.Header("Upgrade"), "websocket"):
		reason = "upstream sent 101 without \"Upgrade: websocket\""
	case isWS && plan.WSPolicy.Deflate() == ws.DeflateOff && ws.OffersDeflate(resp.Header("Sec-WebSocket-Extensions")):
		reason = "upstream turned permessage-deflate on, which ws_deflate off refuses"
	}
	if reason != "" {
		c.h.Log.Error(reason, "upstream", a.peer.Name, "client", c.remoteAddr)
		a.conn.Close()
		a.done(upstream.FailInvalidHeader)
		return c.writeError(w, req, plan, KindInvalidHeader.Status())
	}
	c.respHL = respHeaders(resp.Headers)
	c.up = snapshot.UpstreamResponse{Status: 101, StatusLine: resp.StatusLine, Headers: &c.respHL}
	now := time.Now()
	// The client's stream: on HTTP/1.x the connection itself, after the
	// 101 head.
	c.plan, c.headAt = plan, now
	cc, clientBuf, err := w.Upgrade(c.composeUpFn)
	c.plan = nil
	if err != nil {
		a.conn.Close()
		a.done(upstream.Success)
		return 101
	}
	// Bytes either side sent past the handshake go first (tunnel.Start).
	// They are copied out so that the pooled readers go back now, not
	// when the tunnel ends: an idle tunnel holds no buffer.
	var upstreamBuf []byte
	if n := a.br.Buffered(); n > 0 {
		p, _ := a.br.Peek(n)
		upstreamBuf = bytes.Clone(p)
	}
	a.br.Reset(nil)
	readerPool.Put(a.br)
	a.br = nil
	a.conn.SetDeadline(time.Time{})
	if nc, ok := a.conn.(*netpoll.Conn); ok {
		// nginx sets TCP_NODELAY on both sockets of an upgraded
		// connection (tcp_nodelay, ngx_http_upstream_upgrade); net's
		// sockets have it from their dial. The tunnel's event loop waits
		// for the socket from now on: it leaves the Default poller's set,
		// where each of its events would wake a loop for nothing.
		nc.SetNoDelay(true)
		nc.Unregister()
	}
	if nc, ok := cc.(*netpoll.Conn); ok {
		// The client's socket likewise (TCP_NODELAY is set at accept).
		nc.Unregister()
	}
	client := c.remoteAddr + ":" + c.remotePort
	handle := c.h.Tunnels.Add(tunnel.Info{
		Route:       plan.Key,
		Upstream:    a.peer.Name,
		Client:      client,
		Start:       now,
		DrainWindow: plan.Conf.WS.DrainWindow,
	})
	// The tunnel keeps its lease in its own state (tunnelEnd), not in
	// the connection's Tried, which the connection's next request resets.
	end := &tunnelEnd{h: c.h, plan: plan, connected: a.connected}
	if a.lease != nil {
		a.lease.MoveTo(&end.leaseStore)
		a.lease, end.lease = &end.leaseStore, &end.leaseStore
		// ws_drain_removed and ws_rebalance close it through its lease.
		end.lease.Tunnel(func(code uint16, reason string) { handle.Close(tunnel.CauseReload, code, reason) })
	}
	c.vc.WS = true
	c.vc.BytesSent = w.BytesSent() // the 101's head; the tunnel's bytes are added at its end
	c.tunneled = true
	// The tunnel runs on its own: this goroutine, the HTTP connection's
	// state and the request buffer are released now, and the session's
	// access log line is written when the tunnel ends, from the request's
	// variables packed into one allocation; a location with no access log
	// (and no observer) keeps none. An idle tunnel then costs its two
	// sockets and what tunnel keeps, nothing more.
	if req.Held != nil {
		// limit_conn counts the request until the tunnel ends.
		end.release = req.Held.Detach()
	}
	obs := c.h.observer()
	if len(plan.Logs) > 0 || obs != nil {
		if plan.Snapshot.Vars.UsesSentHeaders() {
			head, _ := w.SentHead()
			c.vc.SentHead = bstr(head)
		}
		end.vars = new(vars.Frozen)
		end.vars.Freeze(c.vc)
	}
	var frames tunnel.FrameObserver
	if obs != nil {
		end.tun = &Tunnel{
			Server: c.vc.ServerName, Location: plan.Name, Upstream: a.peer.Name, Pool: a.lease.PoolName(), Client: client,
			URI: strings.Clone(c.vc.RequestURI), FrameAware: isWS, Start: now, Handle: handle,
		}
		frames = obs.TunnelStart(*end.tun)
	}
	opts := tunnel.Options{
		ReadTimeout:  plan.ReadTimeout,
		SendTimeout:  plan.SendTimeout,
		FrameAware:   isWS,
		Splice:       !isWS,
		CloseTimeout: tunnel.DefaultCloseTimeout,
		Handle:       handle,
		Pool:         c.h.Buffers,
		// Served from the event loop: an idle direction keeps no
		// goroutine from its first would-block read on, not only after
		// ParkAfter.
		Loop:   true,
		Frames: frames,
	}
	if isWS {
		applyWS(&plan.Conf.WS, &opts)
		if every := plan.Conf.WS.LogInterval; every > 0 && len(plan.Logs) > 0 {
			opts.Progress, opts.ProgressEvery = end.progress, every
		}
	}
	tunnel.Start(context.Background(), cc, a.conn, clientBuf, upstreamBuf, opts, end.done)
	return 101
}

// composeUp is the 101's head (WriteComposedHeader) of the plan in
// c.plan, dated c.headAt; bound once per connection (composeUpFn). A
// fresh connection's head has no room yet: it gets enough for a usual
// 101 at once rather than growing to it.
func (c *clientConn) composeUp(dst []byte, f exchange.Framing) []byte {
	if cap(dst) == 0 {
		dst = make([]byte, 0, 256)
	}
	cr := snapshot.ClientResponse{Date: http1.Date(c.headAt), ContentLength: -1, Vars: c.vc}
	return c.plan.Response.AppendResponse(dst, &c.up, &cr)
}

// tunnelEnd is what a running tunnel keeps for its end: the access log
// line, the observer, and the upstream lease (least_conn counts it).
type tunnelEnd struct {
	h         *Handler
	plan      *snapshot.Loc
	lease     *upstream.Lease // &leaseStore, or nil
	connected time.Time
	vars      *vars.Frozen // the request's variables with WS set; nil: no log line, no observer
	tun       *Tunnel      // what the Observer was told at TunnelStart; nil: no observer
	// release gives back what the request held (limit_conn's counts),
	// after its log line, as nginx frees the request's pool; nil: nothing.
	release func()
	// leaseStore is the tunnel's upstream lease, moved out of the
	// connection's Tried (Lease.MoveTo).
	leaseStore upstream.Lease
}

func (e *tunnelEnd) done(res tunnel.Result) {
	if e.release != nil {
		defer e.release()
	}
	// The upgraded request was "writing" all along, on a connection
	// still active (ngx_http_upstream_upgrade keeps both until close).
	e.h.Conns.TunnelDone()
	if e.lease != nil {
		e.lease.Done(upstream.Success)
	}
	if e.tun != nil {
		e.h.Observer.TunnelEnd(*e.tun, res)
	}
	if e.vars == nil {
		return
	}
	vc := new(vars.Ctx)
	e.vars.Thaw(vc)
	vc.WSDuration = res.Duration
	vc.WSBytesIn = res.FromClient
	vc.WSBytesOut = res.FromUpstream
	vc.WSCloseCode = int(res.CloseCode)
	vc.WSClosedBy = closedBy(res.ClosedBy)
	vc.WSSession = wsSession(res)
	vc.RequestLength += res.FromClient
	if n := len(vc.Upstream); n > 0 {
		vc.Upstream[n-1].ResponseTime = time.Since(e.connected)
	}
	vc.Status = 101
	// nginx counts what the tunnel sent to the client as body bytes; its
	// $bytes_sent is everything sent, the 101's head first (nginx-tests
	// ssl_proxy_upgrade.t: "540913 540793").
	vc.BodyBytesSent = vc.WSBytesOut
	vc.BytesSent += vc.WSBytesOut
	vc.End = time.Now()
	if e.h.Finish != nil {
		e.h.Finish.Finish(e.plan, vc)
	} else {
		e.h.ObserveRequest(e.plan, vc)
	}
}

func closedBy(cause tunnel.Cause) string {
	switch cause {
	case tunnel.CauseClient:
		return "client"
	case tunnel.CauseUpstream:
		return "upstream"
	case tunnel.CauseNone:
		return ""
	}
	return "proxy"
}
