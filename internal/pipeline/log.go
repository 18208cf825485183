package pipeline

import (
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// RequestObserver is told of each request once it has ended, after its
// access log lines (proxy.Handler is one: it tells its proxy.Observer).
type RequestObserver interface {
	ObserveRequest(loc *snapshot.Loc, vc *vars.Ctx)
}

// logPhase ends a request the pipeline saw through (ngx_http_log_handler):
// the status, the bytes sent and the end time go into the variables, then
// Finish. A detached request is logged by its handler when it ends.
func (pc *Conn) logPhase(w exchange.ResponseWriter, loc *snapshot.Loc, res exchange.Result) {
	if res.Detached {
		return
	}
	status := res.Status
	if status == 0 || pc.ep.Status != 0 && w.Written() && w.Status() == pc.ep.Status {
		// The status sent; after an error page, the one error_page chose
		// whatever the handler says it answered ($status is nginx's
		// headers_out.status, which r->err_status replaced).
		status = w.Status()
	}
	pc.logRate()
	vc := &pc.vc
	vc.Status = status
	vc.BodyBytesSent = w.BodyBytes()
	vc.BytesSent = w.BytesSent()
	head, trailers := w.SentHead()
	vc.SentHead, vc.SentTrailers = bstr(head), bstr(trailers)
	// r->request_complete: the response went out whole.
	vc.Completed = w.Written() && status != http1.StatusClientClosedRequest && status != 408 && status != http1.StatusNoResponse
	// The end time is read for the access log lines ($request_time,
	// $msec); without any, whoever else reads it reads the clock then
	// (vars.Ctx.End: zero is "now"), which saves a clock reading on
	// every request of a location with access_log off.
	if len(loc.Logs) > 0 {
		vc.End = time.Now()
	}
	pc.p.Finish(loc, vc)
}

// Finish is the log phase of a request that ended at loc with the
// variables vc: loc's access log lines (access_log, ngx_http_log_module),
// then the observer. A handler that detached a request (a tunnel) calls
// it when the request ends.
func (p *Pipeline) Finish(loc *snapshot.Loc, vc *vars.Ctx) {
	for _, lg := range loc.Logs {
		lg.Log(vc)
	}
	if p.Observer != nil {
		p.Observer.ObserveRequest(loc, vc)
	}
}
