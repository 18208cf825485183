// Package proxy is wsgate's proxy content handler for HTTP/1.x clients:
// for each request it picks the server and location as nginx does,
// answers what the location answers itself (return, the trailing-slash
// redirect, 404 where nothing is proxied), and otherwise proxies the
// request to its upstream and relays the answer; a WebSocket (or an
// upgrade the location allows) that the upstream accepts with 101 is
// handed to internal/tunnel.
//
// The request path, in nginx 1.22's order (ngx_http_proxy_module,
// ngx_http_upstream.c): the upstream request head (headers.go: Host,
// Connection, proxy_set_header with nginx's all-or-nothing inheritance,
// the client headers nginx drops; uri.go: the request line proxy_pass
// rewrites), a peer from internal/upstream, connect, send, read the
// response head (forward.go), then the client's head (response.go:
// proxy_hide_header, proxy_pass_header, proxy_redirect, header order and
// case kept) and a streamed body, never buffered whole; or the 101 and
// the tunnel (upgrade.go).
//
// What it promises:
//   - Same configuration, same bytes at the backend as nginx sends, and
//     nginx's answers to failures. errors.go is the one place that maps a
//     failure to the status the client gets (ErrorKind.Status: 502
//     refused or bad answer, 504 timed out, 499 logged when the client
//     gave up, 500 for an unusable proxy_pass value), and to the
//     proxy_next_upstream condition it counts as.
//   - A published State (Handler.Publish) is never changed: a request or a
//     tunnel keeps the State it started with, a reload publishes another.
//     Long-lived things (upstream pools, the tunnel registry, log files)
//     belong to the Handler's registries, not to a State.
//   - The request path reuses per-connection state and buffers: heads
//     are composed into them, the Date value is http1.Date's (formatted
//     once per second for the process), and a status without a line of
//     its own gets http1's table's (nginx's ngx_http_status_lines).
//
// What it leaves to others: the HTTP/1.x wire format (internal/http1),
// configuration (internal/config, compiled by internal/runtime),
// balancing, keep-alive caches and peer health (internal/upstream), the
// bytes after a 101 (internal/tunnel), and the listening sockets and
// signals (the caller hands Serve a listener and calls Drain, Wait or
// CloseConns to stop).
package proxy
