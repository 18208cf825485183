package proxy

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// clientConn is one client connection and the per-request state it reuses.
type clientConn struct {
	h   *Handler
	nc  net.Conn
	tls bool

	remoteAddr, remotePort string
	localAddr, localPort   string

	// vc is the request's variables, the pipeline's, while a request is
	// served.
	vc *vars.Ctx
	// upHdrs are the upstream response's header lines, for $upstream_http_NAME.
	upHdrs []vars.Header
	buf    []byte // upstream request head, error pages
	tgt    []byte // upstream request-target
	page   []byte // redirect Location and page

	// rawConn is the client's socket for watching it while the upstream
	// works (nil for TLS); see watchClient.
	rawConn   syscall.RawConn
	watchUp   net.Conn
	watchHeld exchange.Holder // the request's, released when its client goes
	watchDone chan bool
	watchFn   func()
	peekFn    func(fd uintptr) bool
	gone      bool

	// Per-request state kept to avoid allocating on every request.
	att     attempt
	dialCtx deadlineCtx
	oneShot bool     // the request's upstream connection may use netpoll.DialTCP
	rawDial bool     // the request's upstream connection may use netpoll.Dial (WebSocket handshakes, plain HTTP)
	newRun  bool     // the next try is the first of a later upstream run (appendTry)
	dopt    dialOpts // the request's proxy_bind and proxy_socket_keepalive
	// ignoreAbort is proxy_ignore_client_abort: the client is not watched
	// while the upstream works.
	ignoreAbort bool
	method      []byte // proxy_method's value
	setBody     []byte // proxy_set_body's value
	bindAddr    []byte // proxy_bind's value
	// keepBody: a template reads $request_body, so a streamed body of up
	// to keptBodyMax bytes is kept (bodyKept) as it goes upstream.
	keepBody  bool
	bodyKept  []byte
	shot      netpoll.Conn
	work      *Local     // the serving goroutine's
	ip        netip.Addr // ipText parsed, by clientIP
	ipText    string     // the $remote_addr ip was parsed from
	ipParsed  bool
	tried     upstream.Tried
	resp      http1.Response
	upBody    http1.Body
	upRd      upstreamReader
	now       netpoll.Now // upstream heads written without waiting
	reqHL     reqHeaders
	respHL    respHeaders
	up        snapshot.UpstreamResponse
	plan      *snapshot.Loc // during WriteComposedHeader
	composeFn func(dst []byte, f exchange.Framing) []byte
	// composeUpFn is composeUp, the 101's head of an upgrade.
	composeUpFn func(dst []byte, f exchange.Framing) []byte
	port        int // local port for absolute redirects; 0 for 80/443
	host        []byte
	headAt      time.Time // when the response head was composed (Date)
	// tunneled is set when a tunnel took the connection over: the tunnel
	// writes the request's access log line when it ends, finish does not.
	tunneled bool
	// respScratch is AppendResponse's room (snapshot.ClientResponse.Scratch).
	respScratch []byte
	// cs is the request's use of its location's proxy_cache; cacheKey
	// and cacheHL are the room of its key and of a cached response's
	// header lines, kept between requests.
	cs       cacheState
	cacheKey []byte
	cacheHL  respHeaders
	// unanswered is an error status left to the pipeline (writeError,
	// proxy_intercept_errors); 0 when the proxy answered.
	unanswered int
	// accel is the internal redirect an X-Accel-Redirect asked for, when
	// hasAccel (see xar.go).
	accel    exchange.Result
	hasAccel bool
}

var _ ContentHandler = (*clientConn)(nil)

// clientIP is the request's client address for ip_hash ($remote_addr,
// which the realip module may have replaced); the zero Addr when it is
// not an IP. It is parsed once per connection, and again for a request
// whose address differs.
func (c *clientConn) clientIP() netip.Addr {
	if !c.ipParsed || c.ipText != c.vc.RemoteAddr {
		c.ipParsed, c.ipText = true, c.vc.RemoteAddr
		c.ip, _ = netip.ParseAddr(c.ipText)
	}
	return c.ip
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// ServeContent proxies one request (see ContentHandler). An error
// before any byte of the answer went out (502, 504, a 413 body...) and an
// upstream answer proxy_intercept_errors takes are left to the pipeline,
// which answers them with the location's error page or nginx's own.
func (c *clientConn) ServeContent(w exchange.ResponseWriter, req *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	c.vc = vc
	c.tunneled = false
	c.unanswered = 0
	c.hasAccel = false
	status := c.forward(w, req, loc.Snapshot, loc, loc.Conf)
	c.vc = nil
	if c.unanswered != 0 {
		return exchange.Result{Error: c.unanswered}
	}
	if c.hasAccel {
		return c.accel
	}
	return exchange.Result{Status: status, Detached: c.tunneled}
}

// writeError leaves status for the pipeline to answer (ServeContent's
// Result.Error), or, once a head went out, cuts the connection after the
// response; it returns the status to log.
func (c *clientConn) writeError(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, status int) int {
	if w.Written() {
		w.CloseAfter()
		return status
	}
	c.unanswered = status
	return status
}
