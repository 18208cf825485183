package pipeline

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"wsgate/internal/access"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/rewrite"
	"wsgate/internal/vars"
)

// This file holds subrequests (ngx_http_subrequest), which auth_request
// makes in the access phase, with a small contract: a subrequest runs
// the phases of the main request's server for its URI (server rewrite,
// find-config, rewrite, content; not access, which nginx skips for
// subrequests, nor log, as log_subrequest is off by default) as an
// internal GET request with the main request's headers and no body; its response is kept in memory as far as its status and head go,
// and its body is discarded (nginx's auth request is header_only). Its
// variables are the main request's, with its own URI, arguments and
// upstream state; what set assigns there is the main request's too, as
// nginx's subrequests share r->variables. A subrequest cannot upgrade.

// subState is what a subrequest needs of its own while it runs on the
// main request's Conn; kept on the Conn so that buffers are reused.
type subState struct {
	w        subWriter
	r        exchange.Request
	vc       vars.Ctx
	upstream []vars.UpstreamTry
	rw       rewrite.State
	uri      []byte
	args     []byte
	// The request's header buffers, swapped in while a subrequest runs
	// so that its input commands (input.go) leave the main request's
	// lines alone.
	hdrs   []vars.Header
	inHdrs []exchange.Header
	inBuf  []byte
	auth   []byte // the Basic credentials' buffer
	// authHdr holds the WWW-Authenticate values the access phase adds
	// to a 401 ("Name: value\r\n" lines are not kept; values only,
	// each ending in "\n").
	authHdr []byte
	active  bool
}

// subrequest runs a subrequest to uri for r (see the file comment) and
// returns its status, its head as it would have gone out, and its
// variables, valid until the next subrequest.
func (pc *Conn) subrequest(r *exchange.Request, uri string) (int, []byte, *vars.Ctx) {
	ss := &pc.sub
	ss.active = true
	defer func() { ss.active = false }()

	// The main request's state that the phases change.
	mainVC, mainLoc, mainHF := pc.vc, pc.loc, pc.hf
	mainEP, mainRefused := pc.ep, pc.refused
	pc.rw, ss.rw = ss.rw, pc.rw
	pc.uri, ss.uri = ss.uri, pc.uri
	pc.args, ss.args = ss.args, pc.args
	pc.hdrs, ss.hdrs = ss.hdrs[:0], pc.hdrs
	pc.inHdrs, ss.inHdrs = ss.inHdrs[:0], pc.inHdrs
	pc.inBuf, ss.inBuf = ss.inBuf[:0], pc.inBuf
	pc.authBuf, ss.auth = ss.auth[:0], pc.authBuf
	mainBasic := pc.basic
	defer func() {
		pc.rw, ss.rw = ss.rw, pc.rw
		pc.uri, ss.uri = ss.uri, pc.uri
		pc.args, ss.args = ss.args, pc.args
		pc.hdrs, ss.hdrs = ss.hdrs, pc.hdrs
		pc.inHdrs, ss.inHdrs = ss.inHdrs, pc.inHdrs
		pc.inBuf, ss.inBuf = ss.inBuf, pc.inBuf
		pc.authBuf, ss.auth = ss.auth, pc.authBuf
		pc.basic = mainBasic
		pc.vc, pc.loc, pc.hf = mainVC, mainLoc, mainHF
		pc.ep, pc.refused = mainEP, mainRefused
	}()

	sr := &ss.r
	*sr = *r
	pc.uri = append(pc.uri[:0], uri...)
	sr.NormalizedPath, sr.Path, sr.Query, sr.HasQuery = pc.uri, pc.uri, nil, false
	sr.Internal, sr.ArgsChanged, sr.NoLocationCut = true, false, false
	// A subrequest is a GET (ngx_http_subrequest sets sr->method).
	sr.Method = methodGET
	// No body (nginx gives the auth subrequest an empty one), and no
	// upgrade: the main request's handshake waits for the answer.
	sr.Body, sr.ContentLength, sr.Chunked, sr.Upgrade = noBody{}, -1, false, nil

	sub := mainVC
	sub.URI, sub.Args, sub.HasArgs = bstr(pc.uri), "", false
	sub.Method = "GET"
	sub.Upstream, sub.UpstreamHeaders, sub.UpstreamTrailers = ss.upstream[:0], nil, nil
	sub.Status, sub.BodyBytesSent, sub.BytesSent = 0, 0, 0
	sub.SentHead, sub.SentTrailers = "", ""
	sub.Proxied, sub.ProxyHost, sub.ProxyPort = false, "", ""
	pc.vc = sub
	pc.rw.Reset()
	pc.rw.Escape, pc.rw.Log = strings.ContainsAny(uri, "%+"), pc.p.Log
	pc.ep.Reset()
	pc.refused = true // the body is not the subrequest's to check

	sw := &ss.w
	sw.reset()
	_, res := pc.phases(sw, sr, pc.snap, pc.srv, 0)
	status := sw.status
	if !sw.written {
		status = res.Status
		if res.Error != 0 {
			status = res.Error
		}
	}
	ss.vc = pc.vc
	ss.upstream = pc.vc.Upstream[:0]
	ss.vc.Status = status
	ss.vc.SentHead = bstr(sw.head)
	return status, sw.head, &ss.vc
}

// authRequest runs auth_request ar for r (ngx_http_auth_request_handler)
// and returns the status that refuses the request, 0 to let it through.
// The auth_request_set lines are evaluated with the subrequest's
// variables whatever it answered. For a 401 the subrequest's
// WWW-Authenticate values are left in pc.sub.authHdr for the answer.
func (pc *Conn) authRequest(r *exchange.Request, ar *access.AuthRequest) int {
	if pc.sub.active {
		// A subrequest's own access phase is skipped (nginx runs none
		// for subrequests); nothing reaches here, but a cycle must not.
		return 0
	}
	status, head, svc := pc.subrequest(r, ar.URI)
	for i := range ar.Set {
		s := &ar.Set[i]
		v := string(s.Value.Append(nil, svc))
		s.Var.Set(pc.loc.Snapshot.Vars, &pc.vc, v)
		if s.Var.Args() {
			// As set does: the request's arguments change, and the
			// request-target as received no longer stands.
			pc.rw.ArgsChanged = true
			pc.rewritten(r)
		}
	}
	decided := access.Decide(status)
	switch decided {
	case 401:
		pc.sub.authHdr = appendHeaderValues(pc.sub.authHdr[:0], head, "www-authenticate")
	case 500:
		pc.p.Log.Error("auth request unexpected status", "status", status, "client", pc.vc.RemoteAddr, "uri", pc.vc.RequestURI)
	}
	return decided
}

// appendHeaderValues appends the values of head's lines called name
// (lower-case), each followed by "\n".
func appendHeaderValues(dst, head []byte, name string) []byte {
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		n, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(n, name) {
			dst = append(dst, strings.Trim(v, " \t")...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

var methodGET = []byte("GET")

// noBody is a subrequest's request body: empty.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Begin() error             { return nil }
func (noBody) Empty() bool              { return true }
func (noBody) BytesRead() int64         { return 0 }

// errSubrequestUpgrade refuses a 101 to a subrequest.
var errSubrequestUpgrade = errors.New("a subrequest cannot switch protocols")

// subWriter is a subrequest's response writer: it keeps the status and
// the head (after the location's header filter, as nginx's subrequest
// headers_out are), and discards the body.
type subWriter struct {
	hdr       []byte
	errHdr    []byte
	head      []byte
	filter    exchange.HeadFilter
	status    int
	errStatus int
	written   bool
}

func (w *subWriter) reset() {
	*w = subWriter{hdr: w.hdr[:0], errHdr: w.errHdr[:0], head: w.head[:0]}
}

func (w *subWriter) SetLimits(exchange.Limits) error     { return nil }
func (w *subWriter) SetRate(int64, int64, time.Time)     {}
func (w *subWriter) SetHeadFilter(f exchange.HeadFilter) { w.filter = f }
func (w *subWriter) SetBodyFilter(exchange.BodyFilter)   {} // the body is discarded
func (w *subWriter) AddServerDate()                      {}
func (w *subWriter) AddHeader(name, value string)        { w.hdr = appendLine(w.hdr, name, value) }
func (w *subWriter) AddHeaderBytes(name, value []byte) {
	w.hdr = appendLine(w.hdr, bstr(name), bstr(value))
}
func (w *subWriter) AddLines(lines []byte) { w.hdr = append(w.hdr, lines...) }
func (w *subWriter) SetLocation(value []byte) {
	if value != nil {
		w.hdr = appendLine(w.hdr, "Location", bstr(value))
	}
}
func (w *subWriter) MarkFraming()   {}
func (w *subWriter) MarkLateLines() {}

func (w *subWriter) WriteHeader(status int, _ string, _ int64) error {
	if w.written {
		return http1.ErrHeaderWritten
	}
	if w.errStatus != 0 && status != 101 {
		status = w.errStatus
	}
	w.head = append(w.head[:0], "HTTP/1.1 "...)
	w.head = http1.AppendStatusLine(w.head, status)
	w.head = append(w.head, "\r\n"...)
	w.head = append(w.head, w.hdr...)
	w.finishHead(status)
	return nil
}

func (w *subWriter) WriteComposedHeader(status int, contentLength int64, compose func(dst []byte, f exchange.Framing) []byte) error {
	if w.written {
		return http1.ErrHeaderWritten
	}
	if w.errStatus != 0 && status != 101 {
		status = w.errStatus
	}
	w.head = compose(w.head[:0], exchange.Framing{ContentLength: contentLength})
	w.head = w.head[:max(len(w.head)-2, 0)] // the empty line, added back below
	w.finishHead(status)
	return nil
}

// finishHead ends the head with the error lines and the empty line and
// runs the header filter over it.
func (w *subWriter) finishHead(status int) {
	w.head = append(w.head, w.errHdr...)
	w.head = append(w.head, "\r\n"...)
	if w.filter != nil {
		w.head = w.filter.FilterHead(w.head, 0, -1, status)
	}
	w.status, w.written = status, true
}

func (w *subWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(200, "", -1)
	}
	return len(p), nil
}

func (w *subWriter) Flush() error { return nil }

func (w *subWriter) WriteError(status int) error { return w.WriteErrorWith(status, "", nil) }

func (w *subWriter) WriteErrorWith(status int, _ string, extra []byte) error {
	if w.written {
		return http1.ErrHeaderWritten
	}
	w.errStatus = 0
	w.hdr = append(w.hdr[:0], extra...)
	return w.WriteHeader(status, "", -1)
}

func (w *subWriter) SetLastModified([]byte) {}

func (w *subWriter) WriteFile(_ *os.File, _, n int64) (int64, error) {
	if !w.written {
		w.WriteHeader(200, "", n)
	}
	return n, nil
}

func (w *subWriter) BodyBuffer(int) []byte { return nil }

func (w *subWriter) AddErrorHeader(name, value []byte) {
	w.errHdr = appendLine(w.errHdr, bstr(name), bstr(value))
}

func (w *subWriter) SetErrorStatus(status int) { w.errStatus = status }
func (w *subWriter) CloseAfter()               {}
func (w *subWriter) Abort()                    {}
func (w *subWriter) Written() bool             { return w.written }
func (w *subWriter) Status() int               { return w.status }
func (w *subWriter) BodyBytes() int64          { return 0 }
func (w *subWriter) BytesSent() int64          { return 0 }

func (w *subWriter) SentHead() (head, trailers []byte) { return w.head, nil }

func (w *subWriter) Upgrade(func(dst []byte, f exchange.Framing) []byte) (net.Conn, []byte, error) {
	return nil, nil, errSubrequestUpgrade
}

func appendLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

var _ exchange.ResponseWriter = (*subWriter)(nil)
