// Package proxy is wsgate's proxy content handler (ngx_http_proxy_module's
// content phase): the request pipeline (internal/pipeline) hands it each
// request routed to a location whose snapshot chose it
// (snapshot.ContentProxy), through ContentHandler.ServeContent with the
// protocol-neutral exchange.Request and exchange.ResponseWriter. It
// proxies the request to the location's upstream and relays the answer;
// a WebSocket (or an upgrade the location allows) that the upstream
// accepts with 101 is handed to internal/tunnel with the client's stream
// from ResponseWriter.Upgrade, and the request is logged through
// Handler.Finish when the tunnel ends. Choosing the server and location,
// return, the trailing-slash redirect and the 404 are the pipeline's.
//
// The request path, in nginx 1.22's order (ngx_http_proxy_module,
// ngx_http_upstream.c): the upstream request head (the location's
// snapshot.HeaderPlan: Host, Connection, proxy_set_header with nginx's
// all-or-nothing inheritance, the client headers nginx drops; its
// snapshot.TargetRule: the request line proxy_pass rewrites), a peer from
// internal/upstream, connect (forward.go), send and read the response
// head (send.go), then the client's head (the location's
// snapshot.ResponsePlan: proxy_hide_header, proxy_pass_header,
// proxy_redirect, header order and case kept) and a streamed body, never
// buffered whole (relay.go); or the 101 and the tunnel (upgrade.go). A
// WebSocket handshake first meets the location's ws_ policy (wsnative.go:
// Origins, subprotocols, the deflate offer, the handshake rate), and its
// tunnel gets the location's Pings, limits and "still open" log lines.
// A location with proxy_cache (cache.go) is looked up in its zone
// (internal/cache) before the upstream is tried: a hit, or a stale entry
// proxy_cache_use_stale allows, is answered from the file; a cacheable
// response is teed into the zone as it is relayed. WebSocket handshakes
// and other upgrades never touch the cache.
//
// What it promises:
//   - Same configuration, same bytes at the backend as nginx sends, and
//     nginx's answers to failures. errors.go is the one place that maps a
//     failure to the status the client gets (ErrorKind.Status: 502
//     refused or bad answer, 504 timed out, 499 logged when the client
//     gave up, 500 for an unusable proxy_pass value), and to the
//     proxy_next_upstream condition it counts as. An error before any
//     byte of the answer went out, and an upstream answer that
//     proxy_intercept_errors takes, are left to the pipeline
//     (exchange.Result.Error), which answers them with the location's
//     error page or nginx's own.
//   - A request uses the snapshot its location belongs to
//     (snapshot.Loc.Snapshot), the one the pipeline loaded for it; a
//     tunnel keeps its route's key. A reload publishes another snapshot
//     and changes nothing in flight.
//   - The request path reuses per-connection state and buffers: heads
//     are composed into them, the Date value is http1.Date's (formatted
//     once per second for the process), and a status without a line of
//     its own gets http1's table's (nginx's ngx_http_status_lines).
//   - Handler.Observer, when set, hears of each upstream try, each
//     tunnel's start, frames (when it asks) and end, and each request as
//     it ends (observer.go); with none set nothing is built for it.
//
// What it leaves to others: the HTTP/1.x wire format (internal/http1),
// configuration and everything compiled from it (internal/config,
// internal/snapshot), balancing, keep-alive caches and peer health
// (internal/upstream), the bytes after a 101 (internal/tunnel), and the
// listening sockets, accept, TLS, the connection loop, drain, stop and
// signals (internal/server), the phases before content and the access log
// (internal/pipeline).
package proxy
