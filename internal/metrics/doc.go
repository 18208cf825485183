// Package metrics is wsgate's Prometheus exposition (the ws_metrics
// directive). A Metrics is a proxy.Observer that lives as long as the
// process: it counts what the proxy tells it (upstream tries, requests,
// tunnels and the frames of WebSocket tunnels) and serves the counts in
// the Prometheus text format from a private prometheus.Registry, never
// the client library's global one. The Go runtime and process collectors
// are registered on it deliberately, as every Prometheus exporter has
// them.
//
// Labels are bounded by the configuration: server ($server_name, the
// server block's first name), location ("location /ws/"), upstream (the
// upstream group) and peer (its address, $upstream_addr), with small
// fixed sets for direction, opcode, outcome, cause and close code
// classes. A client's address or a URI is never a label.
//
// Counting costs little. A tunnel resolves its series (one per server,
// location, upstream and peer) once, when it starts; each frame then adds
// to plain atomic counters and to a histogram of atomic buckets: no label
// lookup, no lock and no allocation per frame or message. The
// exposition builds constant metrics from the counters when scraped.
//
// The counters survive reloads: a Metrics outlives every snapshot.
// Retain, called with each published snapshot, drops the series of
// locations and peers the configuration no longer has (a series with open
// tunnels stays until they end).
package metrics
