package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// attempt is one try at one peer: the lease, the connection and its
// reader.
type attempt struct {
	lease *upstream.Lease
	peer  upstream.Peer
	// idle is the cached connection this try took (TakeIdle), offered
	// back to the cache after the response (PutIdle); zero for a dialled
	// one.
	idle upstream.IdleConn
	conn net.Conn
	raw  syscall.RawConn // conn's socket once known (send); nil before
	br   *bufio.Reader
	// reused is set for a connection taken from the keepalive cache
	// (nginx's u->peer.cached): a failure on it is a free try (forward).
	reused bool
	reqs   int
	dialed time.Time
	// start is when this try began (nginx: u->start_time per
	// ngx_http_upstream_connect); $upstream_*_time count from it.
	start time.Time
	// connected is when the connection was ready.
	connected time.Time
	// sent and recv count the bytes written to and read from the peer
	// in this try ($upstream_bytes_sent, $upstream_bytes_received).
	sent, recv int64
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// target is where a request goes: the location's pool, or the peers the
// host of an evaluated proxy_pass resolved to (resolvePass).
type target struct {
	pool      *upstream.Pool
	host      string // for TLS and logs
	tls       bool
	tlsConf   *snapshot.UpstreamTLS // proxy_ssl_*, when tls
	proxyHost []byte
}

// forward proxies req to the location's upstream and relays the answer; a
// WebSocket (or allowed) upgrade that the upstream accepts becomes a tunnel.
// It returns the status to log.
func (c *clientConn) forward(w exchange.ResponseWriter, req *exchange.Request, snap *snapshot.Snapshot, plan *snapshot.Loc, lc *config.LocConf) int {
	loc := plan
	c.newRun = len(c.vc.Upstream) > 0
	upgrade := req.Upgrade != nil
	isWS := upgrade && exchange.TokenIn(req.Upgrade, "websocket") && req.HasToken("Connection", "upgrade")
	allowTunnel := isWS || (upgrade && allowedUpgrade(lc.WS.AllowUpgrades, req.Upgrade))
	variant := isWS && lc.WS.Upgrade
	// A WebSocket handshake here was checked in the access phase
	// (snapshot.Loc.CheckHandshake).

	// Where to: the static pool, or the evaluated proxy_pass.
	tg := target{tlsConf: plan.UpstreamTLS}
	var evaluatedURI []byte
	c.vc.Proxied = true
	pp := lc.ProxyPass
	if loc.PassURL != nil {
		v := loc.PassURL.Append(nil, c.vc)
		pu, err := snapshot.ParsePassURL(v)
		if err != nil {
			c.h.Log.Error("bad proxy_pass value", "value", string(v), "err", err)
			return c.writeError(w, req, plan, KindBadURL.Status())
		}
		evaluatedURI = pu.URI
		tg.proxyHost = pu.ProxyHost()
		tg.tls = pu.TLS
		tg.host = string(pu.Host)
		c.vc.ProxyHost = string(tg.proxyHost)
		c.vc.ProxyPort = string(pu.AppendProxyPort(nil))
		if pu.Unix != nil {
			tg.pool = upstream.ResolvedUnix(string(pu.Unix), c.h.Log)
		} else if p := snap.Upstreams.Pool(upstream.UpstreamKey(tg.host)); p != nil && len(pu.PortText) == 0 {
			tg.pool = p
		} else if p := snap.Upstreams.Pool(upstream.ImplicitKey(&config.ProxyPass{Host: tg.host, Port: strconv.Itoa(pu.Port)})); p != nil {
			// The upstream that a proxy_pass without variables to the
			// same host and port defined: ngx_http_upstream_init_request
			// looks the host up among all upstreams, implicit ones
			// matching by port.
			tg.pool = p
		} else {
			p, err := resolvePass(tg.host, pu.Port, loc, lc.ResolverTimeout, c.h)
			if err != nil {
				c.h.Log.Error(err.Error(), "client", c.remoteAddr)
				return c.writeError(w, req, plan, KindResolve.Status())
			}
			tg.pool = p
		}
	} else {
		tg.pool = loc.Pool
		tg.tls = pp.Scheme == "https"
		tg.host = pp.Host
		c.vc.ProxyHost = plan.ProxyHost
		c.vc.ProxyPort = plan.ProxyPort
	}

	// After an internal redirect nginx sends the new $uri, escaped, and
	// $args, never the client's target: ngx_http_internal_redirect clears
	// r->valid_unparsed_uri, and ngx_http_proxy_create_request escapes
	// r->uri when r->internal.
	ct := snapshot.ClientTarget{
		RequestURI: req.URI,
		URI:        req.NormalizedPath,
		Args:       req.Query,
		Quoted:     req.Internal || snapshot.PathQuoted(req.URI),
		EmptyPath:  req.Internal || req.ArgsChanged || len(req.Path) == 0,
		// After rewrite ... break (no r->valid_location).
		NoLocationCut: req.NoLocationCut,
	}
	var err error
	c.tgt, err = plan.Target.Append(c.tgt[:0], &ct, evaluatedURI)
	if err != nil {
		c.h.Log.Error("building upstream uri", "err", err)
		return c.writeError(w, req, plan, KindBadURL.Status())
	}

	// proxy_cache: a WebSocket handshake (any upgrade) is never cached.
	if plan.Cache != nil && !upgrade {
		if st, done := c.cacheStart(w, req, plan); done {
			if c.cs.background {
				// The client's request is logged with the status it
				// was answered with (STALE), not the refresh's.
				cst := c.vc.CacheStatus
				c.forward(backgroundWriter{w}, req, snap, plan, lc)
				c.vc.CacheStatus = cst
				c.unanswered = 0
				c.cacheEnd()
			}
			return st
		}
		defer c.cacheEnd()
	}

	if isWS && (plan.WSPolicy != nil || lc.WS.HandshakeRate.PerSecond > 0) {
		if status := c.admitWS(w, req, plan, tg.host); status != 0 {
			return c.writeError(w, req, plan, status)
		}
	}

	if req.Internal && req.Body.BytesRead() > 0 {
		// An error page sent the request here after an upstream read its
		// body, which wsgate streams and does not keep: it cannot be
		// sent again (nginx buffers bodies and sends them again). 502, as
		// for an upstream that gave no usable answer.
		c.h.Log.Error("the request body was sent upstream before an internal redirect and cannot be sent again", "client", c.remoteAddr)
		return c.writeError(w, req, plan, 502)
	}
	// nginx takes the request body before it connects upstream
	// (ngx_http_read_client_request_body) and answers "Expect:
	// 100-continue" there, also when the body is empty.
	if err := req.Body.Begin(); err != nil {
		return c.writeError(w, req, plan, bodyStatus(err))
	}

	// The body: streamed as it comes (Content-Length, or chunked to an
	// HTTP/1.1 upstream); a chunked body to an HTTP/1.0 upstream is spooled
	// first so that it can carry a Content-Length, as nginx does.
	bodyLen := req.ContentLength
	var spool *spooled
	if req.Chunked {
		bodyLen = -1
		if !plan.Headers.HTTP11(variant) {
			spool, err = spoolBody(req.Body)
			if err != nil {
				defer spool.close()
				return c.writeError(w, req, plan, bodyStatus(err))
			}
			defer spool.close()
			bodyLen = spool.size
			if spool.file == nil {
				// All of the body is in memory: $request_body has it, as
				// nginx's has a body read into client_body_buffer_size.
				c.vc.RequestBody, c.vc.HasRequestBody = bstr(spool.mem.Bytes()), true
			}
		}
	}
	passBody := lc.ProxyPassRequestBody
	po := plan.Proxy
	if po.Body != nil {
		// proxy_set_body: its value is the body, with its length; the
		// client's is not sent (ngx_http_proxy_create_request).
		c.setBody = po.Body.Append(c.setBody[:0], c.vc)
		bodyLen, passBody = int64(len(c.setBody)), false
	} else if !passBody {
		bodyLen = -1
	}
	method := req.Method
	if po.Method != nil {
		// proxy_method: the method sent instead of the client's.
		c.method = po.Method.Append(c.method[:0], c.vc)
		method = c.method
	}
	c.reqHL = reqHeaders(req.Headers)
	if c.cs.plan != nil {
		c.reqHL = reqHeaders(c.cacheRequestHeaders(req.Headers))
		if c.cs.getForHead {
			// A HEAD made GET to be cached wins over proxy_method, as
			// u->method does in ngx_http_proxy_create_request.
			method = methodGET
		}
	}
	ur := snapshot.UpstreamRequest{
		Method:     method,
		Target:     c.tgt,
		Headers:    &c.reqHL,
		BodyLength: bodyLen,
		Chunked:    req.Chunked && spool == nil && passBody,
		ProxyHost:  tg.proxyHost,
		Upgrade:    variant,
		Vars:       c.vc,
	}
	// $proxy_internal_body_length and $proxy_internal_chunked: the body's
	// framing upstream (ngx_http_proxy_create_request's ctx).
	c.vc.ProxyBodyLength, c.vc.ProxyBodyKnown = bodyLen, bodyLen >= 0 && lc.ProxyPassRequestBody
	c.vc.ProxyChunked = ur.Chunked
	c.buf = plan.Headers.AppendRequest(c.buf[:0], &ur)
	if c.cs.revalidating {
		c.buf = c.appendValidators(c.buf)
	}
	if po.Body != nil {
		// Sent with the head, in one write.
		c.buf = append(c.buf, c.setBody...)
		spool = nil
	}
	head := c.buf
	hasBody := passBody && (bodyLen > 0 || ur.Chunked)
	c.dialOptions(po)
	c.keepBody = snap.Vars.UsesRequestBody()
	// One head written once, to an HTTP/1.0 upstream (never kept alive,
	// never a tunnel): such a connection can skip net's dialer.
	c.oneShot = !hasBody && !upgrade && !tg.tls && !plan.Headers.HTTP11(variant) && !c.dopt.any()
	// A WebSocket's upstream socket, once a tunnel, is relayed by the
	// tunnel's event loop: it need never enter Go's poller. (Another
	// upgrade keeps net's socket, which the tunnel may splice.) A plain
	// HTTP request's upstream socket, kept alive or not, waits in the
	// event loops too, beside the client's raw socket: with the client's
	// readiness taken from a loop and the upstream's from Go's poller,
	// new requests were let in ahead of answers already there, more
	// requests were at the upstream at once, and with "keepalive 32" and
	// 64 clients 24 % of requests dialled (14 % with both in Go's
	// poller, as before raw client sockets; 17 % with both in the loops).
	c.rawDial = (isWS || !upgrade) && !tg.tls && !c.dopt.transparent

	// Attempts, with proxy_next_upstream.
	// A tunnel moves its lease out of the Tried (upgrade): the
	// connection's own serves every request.
	tried := &c.tried
	tried.Reset()
	// The request's start is the first try's: nginx's times come from one
	// clock reading per event.
	start := c.vc.Start
	key := upstream.PickKey{ClientIP: c.clientIP()}
	if loc.HashKey != nil {
		key.Hash = loc.HashKey.Append(nil, c.vc)
	}
	resp := &c.resp
	var at *attempt
	// n is this try's number among those proxy_next_upstream_tries
	// limits: a free one (below) is not among them.
	for n, first := 1, true; ; first = false {
		tryStart := start
		if !first {
			tryStart = time.Now()
		}
		a, kind, err := c.try(tg, key, tried, lc, head, req, spool, hasBody, tryStart)
		if err == nil {
			var watching bool
			watching, err = c.readHead(a, resp, lc, req)
			if watching && c.unwatchClient() {
				// The client went away while the upstream worked: nginx
				// closes both and logs 499, sending nothing.
				c.h.Log.Info("client prematurely closed connection, so upstream connection is closed too", "upstream", a.peer.Name, "client", c.remoteAddr)
				c.record(a, 0, start)
				a.conn.Close()
				a.done(upstream.Success)
				w.WriteError(http1.StatusClientClosedRequest)
				return http1.StatusClientClosedRequest
			}
			if err == nil {
				// This try's lease is still open: Left counts it as remaining.
				if nu := statusNext(resp.Status); nu != 0 && lc.ProxyNextUpstream&nu != 0 && tried.Left() > 1 && c.canRetry(tried, lc, n, start, req, hasBody, spool) {
					c.record(a, resp.Status, start)
					a.conn.Close()
					a.done(statusOutcome(nu))
					n++
					continue
				}
				at = a
				break
			}
			kind = Classify(err)
			c.h.Log.Error(kind.String(), "upstream", a.peer.Name, "err", err, "client", c.remoteAddr)
			c.recordFailed(a, kind, true)
			a.conn.Close()
			a.done(outcomeOf(kind))
		}
		if kind == KindClientBody {
			if isTimeout(err) {
				// client_body_timeout: nginx logs 408 and closes.
				w.CloseAfter()
				return 408
			}
			return c.writeError(w, req, plan, bodyStatus(err))
		}
		if kind == KindNoLive {
			c.h.Log.Error("no live upstreams", "upstream", tg.poolName(), "client", c.remoteAddr)
		}
		counted := n
		if c.att.reused && kind.NextUpstream() == config.NextError {
			// A cached connection that failed with an error, written to
			// or read from (the upstream closed it while it was idle):
			// its try is given back, so the request goes on under the
			// same rules with one try more (ngx_http_upstream_next:
			// u->peer.tries++ for u->peer.cached and
			// NGX_HTTP_UPSTREAM_FT_ERROR). It still needs "error" in
			// proxy_next_upstream, a request that may be sent again, and
			// it counts for the peer's max_fails.
			tried.Refund()
			counted--
		}
		if kind != KindNoLive && kind.NextUpstream()&lc.ProxyNextUpstream != 0 && c.canRetry(tried, lc, counted, start, req, hasBody, spool) {
			n = counted + 1
			continue
		}
		if c.staleFor(kind, 0) {
			return c.serveStale(w, req, plan)
		}
		return c.writeError(w, req, plan, kind.Status())
	}

	if c.cs.stale != nil && (c.cs.revalidating && resp.Status == 304 || c.staleFor(0, resp.Status)) {
		c.record(at, resp.Status, start)
		at.conn.Close()
		at.done(upstream.Success)
		if resp.Status == 304 {
			return c.revalidated(w, req, plan, resp)
		}
		return c.serveStale(w, req, plan)
	}
	if snap.Vars.UsesUpstreamHeaders() {
		c.upHdrs = fillHeaders(c.upHdrs, resp.Headers)
		c.vc.UpstreamHeaders = c.upHdrs
	}
	if resp.Status >= 300 && resp.Status != 101 && plan.ErrorPages.Intercepts(resp.Status) {
		// proxy_intercept_errors (ngx_http_upstream_intercept_errors):
		// the upstream's answer is dropped unread, and its status is the
		// request's error, which the location's error page answers.
		c.accelLimitRate(resp, &lc.Proxy)
		c.record(at, resp.Status, start)
		at.conn.Close()
		at.done(upstream.Success)
		if c.cs.fill != nil {
			c.cacheIntercepted(resp)
		}
		if resp.Status == 401 {
			// The challenge goes with the error page's answer.
			for _, h := range resp.Headers {
				if bytes.EqualFold(h.Name, wwwAuthenticate) {
					w.AddErrorHeader(h.Name, h.Value)
				}
			}
		}
		c.unanswered = resp.Status
		return resp.Status
	}
	if xar := accelRedirect(resp, lc); xar != nil {
		// X-Accel-Redirect: the answer is dropped unread and the
		// request goes on where the header says.
		c.accelLimitRate(resp, &lc.Proxy)
		c.record(at, resp.Status, start)
		at.conn.Close()
		at.done(upstream.Success)
		c.accel, c.hasAccel = c.accelResult(w, req, resp, xar), true
		return resp.Status
	}
	if resp.Status == 101 {
		return c.upgrade(w, req, plan, lc, at, resp, upgrade, allowTunnel, isWS, start)
	}
	return c.relay(w, req, plan, at, resp, start)
}

var wwwAuthenticate = []byte("WWW-Authenticate")

// methodGET is a HEAD's method upstream under proxy_cache_convert_head.
var methodGET = []byte("GET")

func (tg *target) poolName() string { return tg.pool.Name() }

// try picks a peer, connects (or reuses an idle connection) and sends the
// request head and body; start is when the try began. kind classifies err.
func (c *clientConn) try(tg target, key upstream.PickKey, tried *upstream.Tried, lc *config.LocConf, head []byte, req *exchange.Request, spool *spooled, hasBody bool, start time.Time) (*attempt, ErrorKind, error) {
	// One attempt at a time per connection: the previous one is finished
	// (closed or back in the pool) before the next try starts.
	a := &c.att
	*a = attempt{start: start}
	lease, err := tg.pool.Pick(key, tried)
	if err != nil {
		// nginx logs the upstream's name for a try that found no
		// peer (ngx_http_upstream_next, NGX_HTTP_UPSTREAM_FT_NOLIVE).
		c.appendTry(vars.UpstreamTry{Addr: tg.pool.Name(), Status: KindNoLive.Status(), ConnectTime: -1, HeaderTime: -1})
		c.observeTry(TryNoLive, false)
		return nil, KindNoLive, err
	}
	a.lease, a.peer = lease, *lease.Peer()
	if ic, ok := lease.TakeIdle(); ok {
		a.idle = ic
		a.conn, a.raw, a.reused, a.reqs, a.dialed = ic.Conn, ic.Raw, true, ic.Requests, ic.Dialed
	}
	if a.conn == nil {
		conn, err := c.dial(a.peer.Network, a.peer.Addr, lc.ProxyConnectTimeout, a.start)
		if err != nil {
			kind := KindConnect
			if isTimeout(err) {
				kind = KindConnectTimeout
			}
			c.h.Log.Error("connecting to upstream", "upstream", a.peer.Name, "err", err, "client", c.remoteAddr)
			c.recordFailed(a, kind, false)
			a.done(outcomeOf(kind))
			return nil, kind, &UpstreamError{Kind: kind, Peer: a.peer.Name, Err: err}
		}
		if tg.tls {
			cfg := tg.tlsConf.Config(tg.host, c.vc)
			cert, err := tg.tlsConf.Certificate(c.vc)
			if err != nil {
				conn.Close()
				c.h.Log.Error(err.Error(), "upstream", a.peer.Name, "client", c.remoteAddr)
				c.recordFailed(a, KindSSLCertificate, false)
				a.done(upstream.Success)
				return nil, KindSSLCertificate, &UpstreamError{Kind: KindSSLCertificate, Peer: a.peer.Name, Err: err}
			}
			if cert != nil {
				cfg.Certificates = []tls.Certificate{*cert}
			}
			tc := tls.Client(conn, cfg)
			if lc.ProxyConnectTimeout > 0 {
				tc.SetDeadline(time.Now().Add(lc.ProxyConnectTimeout))
			}
			if err := tc.Handshake(); err != nil {
				conn.Close()
				// A handshake that outlasts proxy_connect_timeout
				// is a timeout (504), as nginx's
				// ngx_http_upstream_ssl_handshake makes it.
				kind := KindConnect
				if isTimeout(err) {
					kind = KindConnectTimeout
				}
				c.recordFailed(a, kind, false)
				a.done(outcomeOf(kind))
				return nil, kind, &UpstreamError{Kind: kind, Peer: a.peer.Name, Err: err}
			}
			tc.SetDeadline(time.Time{})
			conn = tc
		}
		a.conn, a.dialed = conn, time.Now()
		a.connected = a.dialed
	} else {
		a.connected = time.Now()
	}
	err = c.send(a, lc, head, req, spool, hasBody)
	if err == nil {
		return a, 0, nil
	}
	a.conn.Close()
	a.conn, a.raw, a.idle = nil, nil, upstream.IdleConn{}
	var cbe *clientBodyError
	if errors.As(err, &cbe) {
		// The client's body was bad, too slow (client_body_timeout) or
		// cut short: not the upstream's fault, and no reason to retry.
		a.done(upstream.Success)
		return nil, KindClientBody, cbe.err
	}
	kind := KindConnect
	if isTimeout(err) {
		kind = KindSendTimeout
	}
	if exchange.StatusOf(err) != 0 {
		// The client's body was bad or too slow: not the upstream's fault.
		a.done(upstream.Success)
		return nil, KindClientBody, err
	}
	// A cached connection that the upstream closed meanwhile fails
	// here too: the caller tries again (forward, a.reused).
	c.h.Log.Error("sending request to upstream", "upstream", a.peer.Name, "err", err, "client", c.remoteAddr)
	c.recordFailed(a, kind, true)
	a.done(outcomeOf(kind))
	return nil, kind, &UpstreamError{Kind: kind, Peer: a.peer.Name, Err: err}
}

// dial connects to an upstream peer within timeout (proxy_connect_timeout;
// 0 means none) counted from start. The deadline travels in the
// connection's own deadlineCtx, which net's connect enforces on the
// socket, rather than in a context.WithDeadline with its timer and
// cancellation per connection.
// proxy_socket_keepalive is off by default in nginx: no TCP keepalive,
// which spares four setsockopt calls per dial; proxy_bind and
// proxy_socket_keepalive are applied by c.dialer.
func (c *clientConn) dial(network, addr string, timeout time.Duration, start time.Time) (net.Conn, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = start.Add(timeout)
	}
	if c.oneShot && network == "tcp" && !c.dopt.any() {
		// The one-shot connection is closed before the request ends, so
		// the connection's netpoll.Conn can be the same every time; it
		// waits through its worker's Waiter.
		if ok, err := netpoll.DialTCP(&c.shot, &c.work.waiter, addr, deadline); ok {
			if err != nil {
				return nil, err
			}
			return &c.shot, nil
		}
	}
	if c.rawDial && network == "tcp" {
		if conn, ok, err := netpoll.Dial(addr, c.dopt.local, deadline); ok {
			if err != nil {
				return nil, err
			}
			// As net's dialer: a head and a body written apart are not
			// held back for the first one's acknowledgement.
			conn.SetNoDelay(true)
			if c.dopt.keepalive {
				conn.SetKeepAlive(true)
			}
			return conn, nil
		}
	}
	d := c.dialer(network)
	if timeout <= 0 {
		return d.Dial(network, addr)
	}
	c.dialCtx.deadline = deadline
	return d.DialContext(&c.dialCtx, network, addr)
}

// deadlineCtx is a context.Context with a deadline and nothing else. It is
// never cancelled: Done's channel never closes and AfterFunc never calls
// its function, so net's connect costs neither a timer nor a goroutine for
// it, and enforces the deadline as the socket's write deadline.
type deadlineCtx struct{ deadline time.Time }

// neverDone is deadlineCtx's Done channel; nothing ever closes it.
var neverDone = make(chan struct{})

func (x *deadlineCtx) Deadline() (time.Time, bool)  { return x.deadline, true }
func (x *deadlineCtx) Done() <-chan struct{}        { return neverDone }
func (x *deadlineCtx) Err() error                   { return nil }
func (x *deadlineCtx) Value(any) any                { return nil }
func (x *deadlineCtx) AfterFunc(func()) func() bool { return stopNothing }

// stopNothing is the stop function of deadlineCtx.AfterFunc: the function
// was never going to run.
func stopNothing() bool { return true }

// record appends this try to $upstream_addr and friends; both times
// count from the try's start, as nginx's u->state does.
func (c *clientConn) record(a *attempt, status int, start time.Time) {
	c.recordAt(a, status, time.Now())
}

// recordAt is record with the response time taken at now.
func (c *clientConn) recordAt(a *attempt, status int, now time.Time) {
	t := vars.UpstreamTry{Addr: a.peer.Name, Status: status, ResponseTime: now.Sub(a.start),
		HeaderTime: now.Sub(a.start), BytesSent: a.sent, BytesReceived: a.recv}
	if status == 0 {
		t.HeaderTime = -1 // no head was read
	}
	if !a.reused {
		t.ConnectTime = a.connected.Sub(a.start)
	}
	c.appendTry(t)
	c.observeTry(answeredOutcome(status), a.reused)
}

// recordFailed appends a try that got no usable response: nginx logs the
// status it would answer with (502, or 504 for a timeout) and, when the
// connect did not finish, "-" for $upstream_connect_time
// (ngx_http_upstream_next).
func (c *clientConn) recordFailed(a *attempt, kind ErrorKind, connected bool) {
	t := vars.UpstreamTry{Addr: a.peer.Name, Status: kind.Status(), ResponseTime: time.Since(a.start), ConnectTime: -1,
		HeaderTime: -1, BytesSent: a.sent, BytesReceived: a.recv}
	if connected && !a.connected.IsZero() && !a.reused {
		t.ConnectTime = a.connected.Sub(a.start)
	}
	c.appendTry(t)
	c.observeTry(failedOutcome(kind, connected), a.reused)
}

// appendTry adds t to the request's tries; the first of a run after an
// earlier run of the request (an internal redirect to another proxied
// location) starts a group, printed after " : ".
func (c *clientConn) appendTry(t vars.UpstreamTry) {
	t.Group = c.newRun
	c.newRun = false
	c.vc.Upstream = append(c.vc.Upstream, t)
}

func (a *attempt) done(o upstream.Outcome) {
	if a.br != nil {
		a.br.Reset(nil)
		readerPool.Put(a.br)
		a.br = nil
	}
	if a.lease != nil {
		a.lease.Done(o)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// allowedUpgrade reports whether the client's Upgrade value v names one of
// the protocols ws_allow_upgrade lists (tokens compared case-insensitively,
// exchange.TokenIn); such an upgrade is tunnelled like a WebSocket one.
func allowedUpgrade(allowed []string, v []byte) bool {
	for _, a := range allowed {
		if exchange.TokenIn(v, a) {
			return true
		}
	}
	return false
}
