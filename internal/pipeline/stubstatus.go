package pipeline

import (
	"wsgate/internal/exchange"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// stubStatus is the content handler of the locations with stub_status
// (ngx_http_stub_status_handler): the process's connection counters in
// nginx's text format, for GET and HEAD.
type stubStatus struct{ pc *Conn }

func (h stubStatus) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	pc := h.pc
	if vc.Method != "GET" && vc.Method != "HEAD" {
		// NGX_HTTP_NOT_ALLOWED, finished with the location's error page.
		return exchange.Result{Error: 405}
	}
	if r.Body.Empty() {
		// ngx_http_discard_request_body, as for return (serveReturn).
		r.Body.Begin()
	}
	// The figures are read before the head goes out: this request is one
	// of the writing.
	text := pc.p.Stats.Load().AppendText(pc.buf[:0])
	pc.buf = text
	w.AddServerDate()
	ct := "text/plain"
	if cs := loc.Charset.Resolve(&pc.vc).For(200, ct); cs != "" {
		// The charset filter labels text/plain as any other text.
		ct += "; charset=" + cs
	}
	w.AddHeader("Content-Type", ct)
	w.MarkFraming()
	addLines(w, pc.expiresLines(loc, 200))
	if err := w.WriteHeader(200, "", int64(len(text))); err == nil && !r.IsHEAD() {
		w.Write(text)
	}
	return exchange.Result{Status: 200}
}
