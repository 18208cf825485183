package proxy

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/route"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// clientConn is one client connection and the per-request state it reuses.
type clientConn struct {
	h          *Handler
	nc         net.Conn
	listenAddr string
	tls        bool
	serial     uint64
	requests   int

	remoteAddr, remotePort string
	localAddr, localPort   string

	vc   vars.Ctx
	hdrs []vars.Header
	// upHdrs are the upstream response's header lines, for $upstream_http_NAME.
	upHdrs []vars.Header
	buf    []byte // upstream request head, error pages
	tgt    []byte // upstream request-target
	page   []byte // redirect Location and page

	// rawConn is the client's socket for watching it while the upstream
	// works (nil for TLS); see watchClient.
	rawConn   syscall.RawConn
	watchUp   net.Conn
	watchDone chan bool
	watchFn   func()
	peekFn    func(fd uintptr) bool
	gone      bool

	// Per-request state kept to avoid allocating on every request.
	att       attempt
	dialCtx   deadlineCtx
	oneShot   bool // the request's upstream connection may use dialOneShot
	shot      shotConn
	work      *Local     // the serving goroutine's
	ip        netip.Addr // remoteAddr parsed, by clientIP
	ipParsed  bool
	tried     upstream.Tried
	resp      http1.Response
	upBody    http1.Body
	upRd      upstreamReader
	now       http1.NowWriter // upstream heads written without waiting
	reqHL     reqHeaders
	respHL    respHeaders
	up        snapshot.UpstreamResponse
	plan      *snapshot.Loc // during WriteComposedHeader
	composeFn func(dst []byte, f http1.Framing) []byte
	port      int // local port for absolute redirects; 0 for 80/443
	host      []byte
	headAt    time.Time // when the response head was composed (Date)
	// tunneled is set when a tunnel took the connection over: the tunnel
	// writes the request's access log line when it ends, finish does not.
	tunneled bool
}

var _ ConnHandler = (*clientConn)(nil)

// clientIP is the client's address for ip_hash; the zero Addr when
// remoteAddr is not an IP. It is parsed once per connection.
func (c *clientConn) clientIP() netip.Addr {
	if !c.ipParsed {
		c.ipParsed = true
		c.ip, _ = netip.ParseAddr(c.remoteAddr)
	}
	return c.ip
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// ServeRequest serves one request: pick the server and location as nginx
// does, then answer it with the trailing-slash redirect or the location's
// content handler (return, proxy_pass, or 404 for none).
func (c *clientConn) ServeRequest(w ResponseWriter, req *http1.Request) {
	c.requests++
	c.tunneled = false
	snap := c.h.Snapshot.Load()

	host := bstr(req.Host)
	srv, caps := snap.Routes.Server(c.listenAddr, host)
	if srv == nil {
		w.WriteError(400)
		return
	}
	uri := bstr(req.NormalizedPath)
	var m route.Match
	conf := srv.Conf
	if conf.Return == nil {
		m = srv.Location(uri)
		conf = m.Conf
		if m.Regex {
			caps = m.Captures
		}
	}
	plan := snap.Loc(conf)

	c.hdrs = fillHeaders(c.hdrs, req.Headers)
	ups := c.vc.Upstream[:0]
	c.vc = vars.Ctx{
		Upstream:           ups,
		Method:             bstr(req.Method),
		RequestURI:         bstr(req.URI),
		URI:                uri,
		Args:               bstr(req.Query),
		HasArgs:            req.HasQuery,
		Host:               host,
		TLS:                c.tls,
		Proto:              protoString(req),
		Headers:            c.hdrs,
		RemoteAddr:         c.remoteAddr,
		RemotePort:         c.remotePort,
		ServerAddr:         c.localAddr,
		ServerPort:         c.localPort,
		ServerName:         srv.Name,
		Captures:           caps,
		Start:              time.Now(),
		Connection:         c.serial,
		ConnectionRequests: c.requests,
		RequestLength:      int64(req.HeadLength),
		Pipelined:          req.Pipelined,
	}
	if err := w.SetLimits(plan.Limits); err != nil {
		c.finish(w, plan, c.writeError(w, req, plan, http1.StatusOf(err)))
		return
	}

	var status int
	switch {
	case plan.Content == snapshot.ContentReturn:
		// return ends the request in the rewrite phase, before the
		// find-config phase's trailing-slash redirect.
		status = c.serveReturn(w, req, plan, conf.Return)
	case m.Redirect:
		c.buf = m.AppendRedirect(c.buf[:0], bstr(req.Query))
		status = c.redirect(w, req, plan, 301, c.buf)
	case plan.Content == snapshot.ContentProxy:
		status = c.forward(w, req, snap, plan, conf)
	default:
		// nginx would serve files from root; wsgate serves none.
		status = c.writeError(w, req, plan, 404)
	}
	c.finish(w, plan, status)
}

// finish writes the access log line and tells the observer.
func (c *clientConn) finish(w ResponseWriter, plan *snapshot.Loc, status int) {
	if c.tunneled {
		return
	}
	if status == 0 {
		status = w.Status()
	}
	c.vc.Status = status
	c.vc.BodyBytesSent = w.BodyBytes()
	c.vc.BytesSent = w.BytesSent()
	c.vc.End = time.Now()
	c.h.report(plan, &c.vc)
}

// report writes vc's access log lines and tells the observer.
func (h *Handler) report(plan *snapshot.Loc, vc *vars.Ctx) {
	for _, lg := range plan.Logs {
		lg.Log(vc)
	}
	h.observeRequest(plan, vc)
}

func protoString(req *http1.Request) string {
	switch {
	case req.ProtoMajor == 1 && req.ProtoMinor == 1:
		return "HTTP/1.1"
	case req.ProtoMajor == 1 && req.ProtoMinor == 0:
		return "HTTP/1.0"
	case req.ProtoMajor == 0:
		return "HTTP/0.9"
	}
	return "HTTP/" + strconv.Itoa(req.ProtoMajor) + "." + strconv.Itoa(req.ProtoMinor)
}

// writeError answers with nginx's built-in page for status and returns the
// status to log.
func (c *clientConn) writeError(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, status int) int {
	if w.Written() {
		w.CloseAfter()
		return status
	}
	w.WriteError(status)
	return status
}

// serveReturn is the return directive (ngx_http_rewrite_return): a
// redirect for 301 302 303 307 308 with a URL, a body for other codes with
// text, nginx's page for a bare code, and 444 closes without answering.
func (c *clientConn) serveReturn(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, r *config.Return) int {
	if r.Code == http1.StatusNoResponse {
		w.WriteError(http1.StatusNoResponse)
		return http1.StatusNoResponse
	}
	if req.Body.Empty() {
		// nginx discards the body (ngx_http_discard_request_body) and
		// answers "Expect: 100-continue" first; an empty one has nothing
		// to discard, so the 100 costs nothing (a non-empty body is not
		// invited: see the package doc of http1).
		req.Body.Begin()
	}
	var text []byte
	if plan.Return != nil {
		text = plan.Return.Append(c.buf[:0], &c.vc)
		c.buf = text
	}
	switch r.Code {
	case 301, 302, 303, 307, 308:
		if plan.Return == nil {
			return c.writeError(w, req, plan, r.Code)
		}
		return c.redirect(w, req, plan, r.Code, text)
	}
	if plan.Return == nil {
		if r.Code >= 200 && r.Code != 204 && r.Code != 304 && !http1.HasErrorPage(r.Code) {
			// A bare code without a built-in page ("return 200;"):
			// nginx sends an empty body with its default type.
			w.AddServerDate()
			w.AddHeader("Content-Type", "text/plain")
			w.MarkFraming()
			w.WriteHeader(r.Code, "", 0)
			return r.Code
		}
		return c.writeError(w, req, plan, r.Code)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", contentType(c.vc.URI))
	w.MarkFraming()
	if err := w.WriteHeader(r.Code, "", int64(len(text))); err == nil && !req.IsHEAD() {
		w.Write(text)
	}
	return r.Code
}

// redirect answers with status and a Location made absolute as nginx's
// header filter does (absolute_redirect on, port_in_redirect on,
// server_name_in_redirect off).
func (c *clientConn) redirect(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, status int, loc []byte) int {
	abs := c.page[:0]
	if len(loc) > 0 && loc[0] == '/' {
		if c.tls {
			abs = append(abs, "https://"...)
		} else {
			abs = append(abs, "http://"...)
		}
		abs = append(abs, c.redirectHost()...)
		if (c.tls && c.localPort != "443") || (!c.tls && c.localPort != "80") {
			abs = append(abs, ':')
			abs = append(abs, c.localPort...)
		}
	}
	abs = append(abs, loc...)
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/html")
	w.MarkFraming()
	if len(loc) > 0 && loc[0] == '/' {
		w.SetLocation(abs)
	} else {
		// ngx_http_header_filter writes only a Location it makes absolute
		// in its own place; one that is already absolute stays in the
		// header list, after Connection.
		w.AddHeaderBytes(locationName, abs)
	}
	body := http1.AppendErrorPage(abs[:0], status, plan.ServerInfo.Name())
	c.page = body
	if err := w.WriteHeader(status, "", int64(len(body))); err == nil && !req.IsHEAD() {
		w.Write(body)
	}
	return status
}

var locationName = []byte("Location")

// contentType is the Content-Type of a response nginx builds itself with
// a body (return CODE TEXT): ngx_http_set_content_type looks the URI's
// extension up in the types, which without a types block are nginx's
// built-in three (ngx_http_core_default_types), else default_type
// text/plain.
func contentType(uri string) string {
	i := len(uri) - 1
	for i >= 0 && uri[i] != '.' && uri[i] != '/' {
		i--
	}
	if i < 0 || uri[i] != '.' {
		return "text/plain"
	}
	ext := uri[i+1:]
	switch {
	case strings.EqualFold(ext, "html"):
		return "text/html"
	case strings.EqualFold(ext, "gif"):
		return "image/gif"
	case strings.EqualFold(ext, "jpg"):
		return "image/jpeg"
	}
	return "text/plain"
}
