package proxy

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
	"wsgate/internal/ws"
)

// checkHandshake validates a client's WebSocket handshake (RFC 6455
// 4.2.1). nginx passes any handshake on and lets the backend judge; wsgate
// answers the malformed ones itself, so that nothing half-valid reaches a
// backend: 400 for a bad method, version of HTTP or key, 426 with
// "Sec-WebSocket-Version: 13" for another WebSocket version.
func checkHandshake(req *http1.Request) (status int, reason string) {
	// Read straight from the request's header lines: no http.Header is
	// built. Upgrade and Connection are token lists that may span lines.
	if string(req.Method) != http.MethodGet {
		return 400, fmt.Sprintf("websocket handshake with method %s; want GET", req.Method)
	}
	if req.ProtoMajor < 1 || req.ProtoMajor == 1 && req.ProtoMinor < 1 {
		return 400, fmt.Sprintf("websocket handshake over HTTP/%d.%d; want HTTP/1.1", req.ProtoMajor, req.ProtoMinor)
	}
	var upgrade, connection bool
	var key, version []byte
	keys, versions := 0, 0
	for i := range req.Headers {
		hd := &req.Headers[i]
		switch {
		case http1.EqualFold(hd.Name, "Upgrade"):
			upgrade = upgrade || http1.TokenIn(hd.Value, "websocket")
		case http1.EqualFold(hd.Name, "Connection"):
			connection = connection || http1.TokenIn(hd.Value, "upgrade")
		case http1.EqualFold(hd.Name, "Sec-WebSocket-Key"):
			keys++
			key = hd.Value
		case http1.EqualFold(hd.Name, "Sec-WebSocket-Version"):
			versions++
			version = hd.Value
		}
	}
	switch {
	case !upgrade:
		return 400, "websocket handshake without Upgrade: websocket"
	case !connection:
		return 400, "websocket handshake without Connection: upgrade"
	case keys == 0:
		return 400, "websocket handshake without Sec-WebSocket-Key"
	case keys > 1:
		return 400, fmt.Sprintf("websocket handshake with %d Sec-WebSocket-Key headers; want 1", keys)
	case !ws.ValidKey(key):
		return 400, fmt.Sprintf("invalid Sec-WebSocket-Key %q: want base64 of 16 bytes", key)
	case versions != 1 || string(http1.TrimOWS(version)) != ws.Version:
		return 426, fmt.Sprintf("unsupported Sec-WebSocket-Version %q; want %s", joinValues(req, "Sec-WebSocket-Version"), ws.Version)
	}
	return 0, ""
}

// joinValues returns the values of the header lines named name, joined
// with ", " (error messages only).
func joinValues(req *http1.Request, name string) string {
	var b []byte
	for _, hd := range req.Headers {
		if http1.EqualFold(hd.Name, name) {
			if b != nil {
				b = append(b, ", "...)
			}
			b = append(b, hd.Value...)
		}
	}
	return string(b)
}

// refuseHandshake answers a malformed handshake with nginx's error page
// for status; a 426 carries "Sec-WebSocket-Version: 13", the version this
// proxy speaks (RFC 6455 4.4). WriteError starts the header list afresh,
// so the page is written here.
func (c *clientConn) refuseHandshake(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, status int) int {
	if status != 426 {
		return c.writeError(w, req, plan, status)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/html")
	w.MarkFraming()
	w.AddHeader("Sec-WebSocket-Version", "13")
	body := http1.AppendErrorPage(nil, status, plan.ServerInfo.Name())
	if err := w.WriteHeader(status, "", int64(len(body))); err == nil && !req.IsHEAD() {
		w.Write(body)
	}
	return status
}

// upgrade handles a 101 from the upstream. It becomes a tunnel only when
// the client asked for an upgrade that this location may carry, and, for
// WebSockets, the upstream agreed to "websocket"; anything else is a bad
// gateway and the client connection is not turned into a blind tunnel
// (nginx tunnels any 101 to a client that sent Upgrade, which lets an
// upstream smuggle an h2c or other protocol through).
func (c *clientConn) upgrade(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, lc *config.LocConf, a *attempt, resp *http1.Response, asked, allowed, isWS bool, start time.Time) int {
	c.record(a, resp.Status, start)
	reason := ""
	switch {
	case !asked:
		reason = "upstream sent 101 to a request without Upgrade"
	case !allowed:
		reason = "upstream switched to a protocol this location does not allow: " + string(req.Upgrade)
	case isWS && !http1.TokenIn(resp.Header("Upgrade"), "websocket"):
		reason = "upstream sent 101 without \"Upgrade: websocket\""
	}
	if reason != "" {
		c.h.Log.Error(reason, "upstream", a.peer.Name, "client", c.remoteAddr)
		a.conn.Close()
		a.done(upstream.FailInvalidHeader)
		return c.writeError(w, req, plan, KindInvalidHeader.Status())
	}
	rh := respHeaders(resp.Headers)
	up := snapshot.UpstreamResponse{Status: 101, StatusLine: resp.StatusLine, Headers: &rh}
	now := time.Now()
	// The client's stream: on HTTP/1.x the connection itself, after the
	// 101 head.
	cc, clientBuf, err := w.Upgrade(func(dst []byte, f http1.Framing) []byte {
		cr := snapshot.ClientResponse{Date: http1.Date(now), ContentLength: -1, Vars: &c.vc}
		return plan.Response.AppendResponse(dst, &up, &cr)
	})
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
	client := c.remoteAddr + ":" + c.remotePort
	handle := c.h.Tunnels.Add(tunnel.Info{
		Route:       plan.Key,
		Upstream:    a.peer.Name,
		Client:      client,
		Start:       now,
		DrainWindow: plan.Conf.WS.DrainWindow,
	})
	c.vc.WS = true
	c.vc.BytesSent = w.BytesSent() // the 101's head; the tunnel's bytes are added at its end
	c.tunneled = true
	// The tunnel runs on its own: this goroutine, the HTTP connection's
	// state and the request buffer are released now, and the session's
	// access log line is written when the tunnel ends, from the request's
	// variables packed into one allocation; a location with no access log
	// (and no observer) keeps none. An idle tunnel then costs its two
	// sockets and what tunnel keeps, nothing more.
	end := &tunnelEnd{h: c.h, plan: plan, lease: a.lease, connected: a.connected}
	if len(plan.Logs) > 0 || c.h.Observer != nil {
		end.vars = new(vars.Frozen)
		end.vars.Freeze(&c.vc)
	}
	var frames tunnel.FrameObserver
	if obs := c.h.Observer; obs != nil {
		end.tun = &Tunnel{
			Server: c.vc.ServerName, Location: plan.Name, Upstream: a.peer.Name, Client: client,
			URI: strings.Clone(c.vc.RequestURI), FrameAware: isWS, Start: now,
		}
		frames = obs.TunnelStart(*end.tun)
	}
	tunnel.Start(context.Background(), cc, a.conn, clientBuf, upstreamBuf, tunnel.Options{
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
	}, end.done)
	return 101
}

// tunnelEnd is what a running tunnel keeps for its end: the access log
// line, the observer, and the upstream lease (least_conn counts it).
type tunnelEnd struct {
	h         *Handler
	plan      *snapshot.Loc
	lease     *upstream.Lease
	connected time.Time
	vars      *vars.Frozen // the request's variables with WS set; nil: no log line, no observer
	tun       *Tunnel      // what the Observer was told at TunnelStart; nil: no observer
}

func (e *tunnelEnd) done(res tunnel.Result) {
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
	e.h.report(e.plan, vc)
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
