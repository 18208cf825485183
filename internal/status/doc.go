// Package status is wsgate's live status page (the ws_status directive):
// one HTML page with a little JavaScript, embedded in the binary (no
// build step), that shows the upstream peers (state: up, unhealthy,
// failed, down or draining; failures, open tunnels, least_conn load,
// weight, the ws_health_check record) and the busiest open tunnels, and a
// WebSocket that wsgate serves itself in the same location to keep the
// page current. A request with "Upgrade: websocket" gets the WebSocket
// (RFC 6455 4.2.2: wsgate answers the 101, no backend is involved); any
// other GET or HEAD gets the page.
//
// The figures come from internal/metrics, which follows every tunnel
// while the configuration has a ws_status or ws_metrics location, and
// from the published configuration's upstream groups.
package status
