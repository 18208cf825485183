package pipeline

import (
	"log/slog"
	"sync/atomic"
	"time"
	"unsafe"
	"wsgate/internal/bodyfilter"

	"wsgate/internal/access"
	"wsgate/internal/connstats"
	"wsgate/internal/errorpage"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/headers"
	"wsgate/internal/http1"
	"wsgate/internal/limit"
	"wsgate/internal/netpoll"
	"wsgate/internal/rewrite"
	"wsgate/internal/route"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// Pipeline runs the phases of every request with the published snapshot.
// One Pipeline lives as long as the process; each client connection gets
// a Conn.
type Pipeline struct {
	// Snapshot is the published configuration; each request loads it
	// once. The server stores a new one on reload.
	Snapshot *atomic.Pointer[snapshot.Snapshot]
	// Log receives wsgate's own messages (nginx's error_log).
	Log *slog.Logger
	// Observer, when set, is told of each request in its log phase,
	// after the access log lines. nil: nothing is built for it.
	Observer RequestObserver
	// Stats are the process's connection counters, which stub_status
	// and $connections_* read; nil reads zeros.
	Stats *connstats.Counters
}

// Content is a content handler's state for one client connection: nginx's
// clcf->handler, which answers the requests of the locations whose
// snapshot.Loc.Content names it. vc holds the request's variables as the
// earlier phases left them ($server_name, captures, $uri); the handler
// adds its own ($upstream_*) and must not keep r, w or vc after it
// returns unless it returns Result.Detached. loc.Snapshot is the
// request's snapshot.
type Content interface {
	ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result
}

// maxRedirects is how many internal redirects a request may make; the
// next one is answered 500 (NGX_HTTP_MAX_URI_CHANGES).
const maxRedirects = 10

// Conn runs the requests of one client connection, one at a time. Its
// zero value is ready for Open; a server keeps one per worker and opens
// it for each connection, so that its buffers are reused.
type Conn struct {
	p *Pipeline
	c *exchange.Conn
	// content holds the content handlers by the kind a location's
	// snapshot chose; kinds without a handler answer 404.
	content [snapshot.NumContent]Content

	requests int
	vc       vars.Ctx
	hdrs     []vars.Header
	buf      []byte // return text, redirect targets
	page     []byte // redirect Location and page
	uri      []byte // an internal redirect's $uri
	args     []byte // and its $args
	// loc is the location the request is in (its charset labels the
	// pages the pipeline writes).
	loc *snapshot.Loc

	fileReq     files.Request
	fileScratch files.Scratch
	extra       []byte // header lines the expires directive adds

	ep      errorpage.State
	epBuf   []byte // an error page's target
	reqLine []byte // $request, once an error page changed the method
	// refused is set once the request's body was refused as too large:
	// nginx discards it then (ngx_http_discard_request_body), so that the
	// error page's location does not refuse it again.
	refused bool
	// abortAfter closes the connection once the response is sent (the
	// error page of a 412, see filesContent).
	abortAfter bool

	// rw is the request's state in the rewrite phases; warnFn is
	// warnUninitialized, made at the first Open of pc.
	rw     rewrite.State
	warnFn func(string)
	// basic is the request's Basic credentials (access.ParseBasic), in
	// authBuf; realm and challenge are auth_basic's realm and
	// WWW-Authenticate value.
	basic     access.BasicRequest
	authBuf   []byte
	realm     []byte
	challenge []byte
	// basicAllowed is set when auth_basic let the request through.
	basicAllowed bool
	// realIPDone is set once the realip module changed the request's
	// client address (realip.go).
	realIPDone bool
	// hf binds the current location's header filter to the request.
	hf headers.Bound
	// bf binds the current location's body filters to the request.
	bf bodyfilter.Bound
	// limitReq is limit_req's working space; held is what limit_conn
	// counted for the request (given back when it ends, or handed to
	// its tunnel), limitKey the key being made.
	limitReq limit.Scratch
	held     limit.Held
	limitKey []byte
	// locRate is the location's limit_rate the response was paced by.
	locRate int64
	// tcpInfoFn is tcpInfo, made at the first Open of pc ($tcpinfo_*).
	tcpInfoFn func() (vars.TCPInfo, bool)
	// snap and srv are the request's snapshot and server, for its
	// subrequests; sub is a subrequest's state (subrequest.go).
	snap *snapshot.Snapshot
	srv  *route.Server
	sub  subState
	// inHdrs and inBuf hold the request's header lines once
	// headers-more's input commands changed them (input.go); inBuf only
	// grows during a request, as the lines reference it.
	inHdrs []exchange.Header
	inBuf  []byte
}

// Open prepares pc for the requests of connection c. The connection's
// content handlers other than the built-in ones are set with SetContent.
func (p *Pipeline) Open(pc *Conn, c *exchange.Conn) {
	*pc = Conn{
		p: p, c: c,
		hdrs: pc.hdrs[:0], buf: pc.buf[:0], page: pc.page[:0], uri: pc.uri[:0], args: pc.args[:0],
		epBuf: pc.epBuf[:0], reqLine: pc.reqLine[:0],
		vc: vars.Ctx{Upstream: pc.vc.Upstream[:0]}, fileScratch: pc.fileScratch, extra: pc.extra[:0],
		rw: pc.rw, limitReq: pc.limitReq, held: pc.held, limitKey: pc.limitKey[:0],
		sub: pc.sub, inHdrs: pc.inHdrs[:0], inBuf: pc.inBuf[:0],
		warnFn: pc.warnFn, tcpInfoFn: pc.tcpInfoFn,
	}
	if pc.warnFn == nil {
		// Bound to pc, which a worker reuses from one connection to the
		// next (server): made once, not at every Open.
		pc.warnFn = pc.warnUninitialized
		pc.tcpInfoFn = pc.tcpInfo
	}
	for k := range pc.content {
		pc.content[k] = notFound{pc}
	}
	pc.content[snapshot.ContentFiles] = filesContent{pc}
	pc.content[snapshot.ContentStubStatus] = stubStatus{pc}
}

// SetRequests sets the number of requests the connection has served
// ($connection_requests counts on from it), for a connection whose
// serving resumes after it was parked idle.
func (pc *Conn) SetRequests(n int) { pc.requests = n }

// SetContent makes h the connection's content handler for the locations
// whose snapshot chose kind k.
func (pc *Conn) SetContent(k snapshot.Content, h Content) { pc.content[k] = h }

// Close lets go of what the connection referenced; its buffers stay for
// the next Open.
func (pc *Conn) Close() {
	pc.p, pc.c, pc.loc, pc.snap, pc.srv = nil, nil, nil, nil, nil
	pc.sub.vc, pc.sub.r = vars.Ctx{}, exchange.Request{}
	pc.fileReq = files.Request{}
	clear(pc.content[:])
	clear(pc.hdrs[:cap(pc.hdrs)])
	clear(pc.inHdrs[:cap(pc.inHdrs)])
	pc.vc = vars.Ctx{Upstream: pc.vc.Upstream[:0]}
}

// ServeRequest runs one request through the phases and answers it
// through w. r's bytes are valid until it returns; a content handler may
// take over the client's stream through w.Upgrade.
func (pc *Conn) ServeRequest(w exchange.ResponseWriter, r *exchange.Request) {
	pc.requests++
	pc.loc = nil
	snap := pc.p.Snapshot.Load()

	// Find the server (ngx_http_find_virtual_server): by the listening
	// address and the Host. None is a request nginx's default server
	// rejects with 400.
	srv, caps := snap.Routes.Server(pc.c.ListenAddr, bstr(r.Host))
	if srv == nil {
		w.WriteError(400)
		return
	}
	pc.fillVars(r, srv, caps)
	pc.realIPDone = false
	if len(srv.Conf.RealIP.From) > 0 {
		pc.realIP(snap.Loc(srv.Conf)) // the post-read phase
	}
	pc.snap, pc.srv = snap, srv
	pc.inBuf = pc.inBuf[:0]
	pc.rw.Reset()
	pc.ep.Reset()
	pc.refused = false
	pc.abortAfter = false
	pc.rw.Escape, pc.rw.Log = pathEscaped(r.URI), pc.p.Log
	r.Held, pc.locRate = nil, 0
	loc, res := pc.phases(w, r, snap, srv, pc.checkClientCert(srv, r))
	if res.Status >= statusSSLCertError && res.Status <= statusToHTTPS {
		// nginx logs its internal 495 to 497 as the 400 it sends
		// (r->err_status).
		res.Status = 400
	}
	if pc.abortAfter {
		w.Abort()
	}
	pc.logPhase(w, loc, res)
	pc.endRequest(r)
}

// ServeHeadError finishes a request whose head was rejected with status
// (400, 414, 494, 501, 505 ...) as ngx_http_finalize_request does: with
// the error_page of the server found so far (by r.Host, nil before a
// valid Host arrived: the listening address's default server), whose
// page may be an internal redirect that runs the phases. r holds what
// was read of the head; the caller closes the connection after.
func (pc *Conn) ServeHeadError(w exchange.ResponseWriter, r *exchange.Request, status int) {
	pc.requests++
	pc.loc = nil
	snap := pc.p.Snapshot.Load()
	srv, caps := snap.Routes.Server(pc.c.ListenAddr, bstr(r.Host))
	if srv == nil {
		w.WriteError(status)
		return
	}
	pc.fillVars(r, srv, caps)
	pc.realIPDone = false
	pc.snap, pc.srv = snap, srv
	pc.inBuf = pc.inBuf[:0]
	pc.rw.Reset()
	pc.ep.Reset()
	pc.refused = true // the body is not read: no client_max_body_size check
	r.Held, pc.locRate = nil, 0
	loc, res := pc.phases(w, r, snap, srv, status)
	if res.Status == http1.StatusRequestHeaderTooLarge {
		// Logged as the 400 it is sent as (r->err_status).
		res.Status = 400
	}
	pc.logPhase(w, loc, res)
	pc.endRequest(r)
}

// phases runs the server rewrite phase, then find-config, rewrite,
// access and content for each URI the request takes (a rewrite's new
// URI, an internal redirect), and returns the location that answered and
// its result. A refusal (non-zero: 421, 495 to 497, see checkClientCert,
// or an error in the head, see ServeHeadError) finishes the request at
// the server level before any phase, as ngx_http_process_request and
// ngx_http_finalize_request do, with the server's error_page for it
// ("error_page 497 https://$host$request_uri;").
func (pc *Conn) phases(w exchange.ResponseWriter, r *exchange.Request, snap *snapshot.Snapshot, srv *route.Server, refusal int) (*snapshot.Loc, exchange.Result) {
	sl := snap.Loc(srv.Conf)
	pc.loc = sl
	pc.headerFilter(w, sl)
	var named string
	prev := sl          // the location that redirected
	serverPhase := true // false after a rewrite asked for a search
	if refusal != 0 {
		res := pc.finalize(w, r, sl, refusal, true)
		if !res.Redirects() {
			return sl, res
		}
		named = res.Named
		if res.RedirectURI != "" {
			pc.redirect(r, res)
		}
		r.Internal = true
	}
	for n := 0; ; n++ {
		var loc *snapshot.Loc
		var res exchange.Result
		var search bool
		if serverPhase && named == "" {
			// Server rewrite phase, for the client's URI and again after
			// each internal redirect to a URI (ngx_http_internal_redirect
			// starts the phases there; a named location and a rewrite's
			// search skip it): it may answer, fail, or change the URI the
			// location search uses.
			if sres, ok := pc.serverRewrite(w, r, snap, srv, sl); !ok {
				if sres.Error == 0 {
					return sl, sres
				}
				loc, res = sl, pc.finalize(w, r, sl, sres.Error, true)
			}
		}
		if loc == nil {
			loc, res, search = pc.findLocation(w, r, snap, srv, named, prev)
		}
		if !search && !res.Redirects() {
			return loc, res
		}
		if n == maxRedirects || w.Written() {
			// nginx's 500, without an error page (r->uri_changes is 0
			// then).
			what := res.RedirectURI + res.Named
			if search {
				what = pc.vc.URI
			}
			pc.p.Log.Error("rewrite or internal redirection cycle", "uri", what, "client", pc.c.RemoteAddr)
			return loc, pc.fail(w, 500)
		}
		named, prev, serverPhase = res.Named, loc, !search
		if res.RedirectURI != "" {
			pc.redirect(r, res)
		}
		if !search {
			r.Internal = true
		}
	}
}

// findLocation is the find-config phase for the request's URI, or for
// the named location named, and the phases after it; an error nobody
// answered is finished with its error page (finalize). prev is where the
// request was before, which answers for a named location not found.
// search is set when the rewrite phase changed the URI.
func (pc *Conn) findLocation(w exchange.ResponseWriter, r *exchange.Request, snap *snapshot.Snapshot, srv *route.Server, named string, prev *snapshot.Loc) (loc *snapshot.Loc, res exchange.Result, search bool) {
	// Find config (ngx_http_core_find_config_phase): the location, its
	// captures, its limits (ngx_http_update_location_config). A prefix
	// location keeps the captures the request has (a server name's, or
	// the last regex the rewrite module ran).
	var m route.Match
	if named != "" {
		if m.Location = srv.Named(named); m.Location == nil {
			// The request ends where it was (r->loc_conf), whose error
			// page and access log see the 500.
			pc.p.Log.Error("could not find named location", "name", named, "client", pc.c.RemoteAddr)
			return prev, pc.finalize(w, r, prev, 500, true), false
		}
		m.Conf = &m.Location.Conf
	} else {
		m = srv.Location(pc.vc.URI)
	}
	loc = snap.Loc(m.Conf)
	pc.loc = loc
	pc.headerFilter(w, loc)
	if m.Regex {
		pc.vc.Captures = m.Captures
	}
	switch err := w.SetLimits(loc.Limits); {
	case err != nil && !pc.refused:
		// client_max_body_size, checked against Content-Length here as
		// ngx_http_core_find_config_phase does.
		pc.refused = true
		res = exchange.Result{Error: exchange.StatusOf(err)}
	case loc.Conf.Internal && !r.Internal:
		// internal: only internal redirects reach the location
		// (ngx_http_core_find_config_phase answers others 404).
		res = exchange.Result{Error: 404}
	default:
		loc, res, search = pc.location(w, r, loc, m)
	}
	if res.Error != 0 {
		res = pc.finalize(w, r, loc, res.Error, true)
	}
	return loc, res, search
}

// location runs the phases from the end of find-config for loc:
// the trailing-slash redirect, rewrite, access, content. It returns the
// location the request ended at (an if block's configuration may have
// replaced loc), and search when the rewrite phase changed the URI.
func (pc *Conn) location(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, m route.Match) (*snapshot.Loc, exchange.Result, bool) {
	// The find-config phase ends with the redirect of a proxied "/name/"
	// asked for as "/name" (clcf->auto_redirect), before the location's
	// rewrite phase runs.
	if m.Redirect {
		pc.buf = m.AppendRedirect(pc.buf[:0], pc.vc.Args)
		// ngx_http_core_find_config_phase finalizes with the 301, so
		// the location's error page for it answers, Location kept.
		return loc, pc.redirectOrPage(w, r, loc, 301, pc.buf), false
	}
	// Rewrite phase: it may answer, ask for a search, or move the
	// request to an if block's configuration.
	loc, res, ok, search := pc.rewrite(w, r, loc, m)
	if !ok {
		return loc, res, search
	}
	// A limit_except block with a proxy_pass of its own is the
	// configuration of the methods it limits from here on, its access
	// rules and content handler included, as nginx's find-config makes
	// it r->loc_conf (ngx_http_update_location_config). Such a location
	// has no rewrite module directives, so the rewrite phase above was
	// the location's either way.
	if lc := loc.LimitContent; lc != nil && loc.Limit.Applies(r.Method) {
		loc = lc
		pc.loc = loc
		pc.headerFilter(w, loc)
	}
	if pc.rw.IfProxied && loc.Content == snapshot.ContentFiles {
		// An if block with a proxy_pass matched, then a later one
		// without: nginx's proxy handler runs with a configuration that
		// has no upstream and fails the request (an alert since 1.3.10,
		// a crash before).
		pc.p.Log.Error("no upstream configuration", "client", pc.c.RemoteAddr, "uri", pc.vc.URI)
		return loc, exchange.Result{Error: 500}, false
	}
	// The end of the rewrite phase: headers-more's input commands.
	if loc.Input != nil {
		pc.inputHeaders(r, loc.Input)
	}
	// Preaccess phase: the location's realip settings.
	pc.realIP(loc)
	// limit_req, limit_conn, after realip as nginx runs the phase's
	// handlers.
	if res, ok := pc.preaccess(w, r, loc); !ok {
		return loc, res, false
	}
	// Access phase.
	if res, ok := pc.access(w, r, loc); !ok {
		return loc, res, false
	}
	// limit_rate paces whatever this location answers.
	pc.setRate(w, loc)
	// Precontent phase: try_files beside another content handler.
	if loc.Files != nil && loc.Content != snapshot.ContentFiles {
		if res, done := pc.tryFiles(r, loc); done {
			return loc, res, false
		}
	}
	// Content phase: the handler the snapshot chose.
	return loc, pc.content[loc.Content].ServeContent(w, r, loc, &pc.vc), false
}

// redirect makes res's URI and arguments the request's $uri and $args
// (ngx_http_internal_redirect): r's NormalizedPath, Query and HasQuery
// show them to the content handlers, and r.Internal says so; $request_uri
// keeps what the client sent.
func (pc *Conn) redirect(r *exchange.Request, res exchange.Result) {
	pc.uri = append(pc.uri[:0], res.RedirectURI...)
	pc.args = append(pc.args[:0], res.RedirectArgs...)
	r.NormalizedPath, r.Query, r.HasQuery = pc.uri, pc.args, len(pc.args) > 0
	r.Internal = true
	pc.vc.URI, pc.vc.Args, pc.vc.HasArgs = bstr(pc.uri), bstr(pc.args), r.HasQuery
}

// fillVars sets the request's variables from its head and connection.
// Header values alias the request's buffer (see exchange.Request).
func (pc *Conn) fillVars(r *exchange.Request, srv *route.Server, caps route.Captures) {
	hdrs := pc.hdrs[:0]
	for _, h := range r.Headers {
		hdrs = append(hdrs, vars.Header{Name: bstr(h.Name), Value: bstr(h.Value)})
	}
	pc.hdrs = hdrs
	c := pc.c
	pc.basic = access.BasicRequest{Vars: &pc.vc}
	if v := r.Header("Authorization"); v != nil {
		pc.basic.User, pc.basic.Password, pc.authBuf, pc.basic.HasCredentials = access.ParseBasic(v, pc.authBuf[:0])
	}
	// Reset in place and set field by field: a composite literal that
	// reads pc.vc would be built aside and copied over (1 KiB twice).
	v := &pc.vc
	up := v.Upstream[:0]
	*v = vars.Ctx{}
	v.Upstream = up
	v.Method = bstr(r.Method)
	v.RequestURI = bstr(r.URI)
	v.URI = bstr(r.NormalizedPath)
	v.Args = bstr(r.Query)
	v.HasArgs = r.HasQuery
	v.Host = bstr(r.Host)
	v.TLS = c.TLS
	v.TLSState = c.TLSState
	v.TLSHello = c.Hello
	v.ClientVerify = c.ClientVerify
	v.Proto = r.Proto()
	v.Headers = hdrs
	v.RemoteUser = bstr(pc.basic.User)
	v.RemoteAddr = c.RemoteAddr
	v.RemotePort = c.RemotePort
	v.RealIPAddr = c.RemoteAddr
	v.RealIPPort = c.RemotePort
	v.ProxyProtocol = c.ProxyProtocol
	v.ServerAddr = c.LocalAddr
	v.ServerPort = c.LocalPort
	v.ServerName = srv.Name
	v.Captures = caps
	v.Start = r.Start
	v.Connection = c.Serial
	v.ConnectionRequests = pc.requests
	v.RequestLength = int64(r.HeadLength)
	v.Pipelined = r.Pipelined
	v.Uninitialized = pc.warnFn
	v.Conns = pc.p.Stats
	v.ConnStart = c.Accepted
	v.TCPInfo = pc.tcpInfoFn
	if r.Start.IsZero() {
		pc.vc.Start = time.Now()
	}
}

// tcpInfo reads the client socket's TCP_INFO for $tcpinfo_*.
func (pc *Conn) tcpInfo() (vars.TCPInfo, bool) {
	if pc.c == nil || pc.c.Socket == nil {
		return vars.TCPInfo{}, false
	}
	rtt, rttvar, cwnd, space, ok := netpoll.TCPInfo(pc.c.Socket)
	return vars.TCPInfo{RTT: rtt, RTTVar: rttvar, SndCwnd: cwnd, RcvSpace: space}, ok
}

// fail answers with nginx's page for status, or, when a head already
// went out, cuts the connection after it; status is what is logged.
func (pc *Conn) fail(w exchange.ResponseWriter, status int) exchange.Result {
	if w.Written() {
		w.CloseAfter()
	} else if pc.loc != nil {
		w.WriteErrorWith(status, pc.loc.Charset.Resolve(&pc.vc).Page(status), nil)
	} else {
		w.WriteError(status)
	}
	return exchange.Result{Status: status}
}

// notFound answers the kinds of content no handler is set for: an error
// left to the pipeline, which gives it the location's error page.
type notFound struct{ pc *Conn }

func (h notFound) ServeContent(w exchange.ResponseWriter, _ *exchange.Request, _ *snapshot.Loc, _ *vars.Ctx) exchange.Result {
	return exchange.Result{Error: 404}
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// headerFilter makes loc's header filter (add_header, add_trailer,
// headers-more) the one every head of the response goes through, as
// nginx's header filters read r->loc_conf when the head is sent: the
// server's for an answer of the server rewrite phase, the location's from
// find-config on, an if block's once its condition held, the new one's
// after an internal redirect or an error page.
//
// The location's body filters (sub_filter) are set with it, for the same
// reason: nginx's body filters read the configuration of the location
// that sends the response.
func (pc *Conn) headerFilter(w exchange.ResponseWriter, loc *snapshot.Loc) {
	if loc.Body == nil {
		w.SetBodyFilter(nil)
	} else {
		pc.bf.Bind(loc.Body, &pc.vc)
		w.SetBodyFilter(&pc.bf)
	}
	// $document_root and friends read the location's root or alias.
	pc.vc.Paths = nil
	if loc.Paths != nil {
		pc.vc.Paths = loc.Paths
	}
	if loc.Filter == nil {
		w.SetHeadFilter(nil)
		return
	}
	pc.hf.F, pc.hf.Vars = loc.Filter, &pc.vc
	w.SetHeadFilter(&pc.hf)
}
