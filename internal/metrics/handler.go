package metrics

import (
	"bytes"

	"github.com/prometheus/common/expfmt"

	"wsgate/internal/exchange"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// contentType is the Prometheus text exposition format, version 0.0.4.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler is the content handler of the locations with ws_metrics: the
// metrics in the Prometheus text format, for GET and HEAD.
type Handler struct{ M *Metrics }

// Write gathers the registry and writes the text exposition to b.
func (m *Metrics) Write(b *bytes.Buffer) error {
	mfs, err := m.reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// ServeContent answers one request (pipeline.Content).
func (h Handler) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	if vc.Method != "GET" && vc.Method != "HEAD" {
		return exchange.Result{Error: 405}
	}
	if r.Body.Empty() {
		r.Body.Begin()
	}
	var b bytes.Buffer
	if err := h.M.Write(&b); err != nil {
		return exchange.Result{Error: 500}
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", contentType)
	w.MarkFraming()
	if err := w.WriteHeader(200, "", int64(b.Len())); err == nil && !r.IsHEAD() {
		w.Write(b.Bytes())
	}
	return exchange.Result{Status: 200}
}
