package status

import (
	_ "embed"
	"sync/atomic"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/metrics"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
	"wsgate/internal/ws"
)

//go:embed page.html
var page []byte

// DefaultInterval is how often the page's WebSocket sends a new view.
const DefaultInterval = time.Second

// Handler is the content handler of the locations with ws_status.
type Handler struct {
	M *metrics.Metrics
	// Upstreams returns the published configuration's upstream groups.
	Upstreams func() *upstream.Set
	// Stopping is set when the server stops: the feed then sends Close
	// 1001 (Going Away, RFC 6455 7.4.1) and ends. nil: never.
	Stopping *atomic.Bool
	// Interval is how often a view is sent; 0 means DefaultInterval.
	Interval time.Duration
}

// ServeContent answers the page, or the WebSocket that keeps it current
// (pipeline.Content). Other methods than GET and HEAD get 405, as
// stub_status answers them.
func (h Handler) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	if vc.Method != "GET" && vc.Method != "HEAD" {
		return exchange.Result{Error: 405}
	}
	if r.Body.Empty() {
		r.Body.Begin()
	}
	if r.Upgrade != nil && exchange.TokenIn(r.Upgrade, "websocket") {
		return h.serveFeed(w, r, loc)
	}
	w.AddServerDate()
	w.AddHeader("Content-Type", "text/html; charset=utf-8")
	// The page holds nothing secret but shows the live state: no cache.
	w.AddHeader("Cache-Control", "no-store")
	w.MarkFraming()
	if err := w.WriteHeader(200, "", int64(len(page))); err == nil && !r.IsHEAD() {
		w.Write(page)
	}
	return exchange.Result{Status: 200}
}

// serveFeed answers the handshake (RFC 6455 4.2.2) and sends views until
// the client closes, the connection fails or the server stops. It
// returns when the connection is closed; the request is logged then,
// with status 101.
func (h Handler) serveFeed(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) exchange.Result {
	if status, _ := ws.CheckClientRequest(r); status != 0 {
		return exchange.Result{Error: status}
	}
	key := string(r.Header("Sec-WebSocket-Key"))
	now := time.Now()
	conn, rest, err := w.Upgrade(func(dst []byte, _ exchange.Framing) []byte {
		dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nServer: "...)
		dst = append(dst, loc.ServerInfo.Name()...)
		dst = append(dst, "\r\nDate: "...)
		dst = append(dst, http1.Date(now)...)
		dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: "...)
		dst = append(dst, ws.AcceptKey(key)...)
		return append(dst, "\r\n\r\n"...)
	})
	if err != nil {
		return exchange.Result{Status: 101}
	}
	interval := h.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	f := newFeed(conn, rest)
	f.run(interval, func() any {
		var set *upstream.Set
		if h.Upstreams != nil {
			set = h.Upstreams()
		}
		return Build(h.M, set, time.Now())
	}, h.Stopping)
	return exchange.Result{Status: 101}
}
