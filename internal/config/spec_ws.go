package config

import "time"

// wsgate's own WebSocket settings of a Spec (the ws_ directives,
// directives_ws.go). Plain data, as the rest of the Spec.

// WSConf holds wsgate's own WebSocket settings.
type WSConf struct {
	// Upgrade: forward a client's WebSocket handshake as an upgrade even
	// when the location lacks proxy_http_version 1.1 and the Upgrade and
	// Connection lines (directive ws_upgrade, default on).
	Upgrade bool
	// AllowUpgrades lists non-WebSocket Upgrade tokens (lower-case, e.g.
	// "h2c") that may be tunnelled (directive ws_allow_upgrade; default none).
	AllowUpgrades []string
	// ReloadClose is the Close code sent to tunnels on a removed or changed
	// route at reload (ws_reload_close_code, default 1012).
	ReloadClose int
	// DrainWindow spreads reload/shutdown closes over this long (ws_drain_window, default 10s).
	DrainWindow time.Duration
	// Lint says whether -t warns about the WebSocket pitfalls here
	// (ws_lint): "on" always, "off" never, "auto" or "" (the default)
	// where the location forwards Upgrade or its names say WebSocket
	// (see Lint). It changes no request, so no route.
	Lint string `reload:"keep"`

	// The settings below are read when a tunnel starts; a reload that
	// changes them applies to new tunnels, and open ones keep theirs, as
	// nginx's old workers keep theirs (hence reload:"keep").

	// PingInterval sends wsgate's own Pings to PingSides every
	// PingInterval (ws_ping_interval TIME [client|upstream|both], default
	// off, sides client); a side silent for PongTimeout after a Ping
	// (ws_pong_timeout, default: the interval) is dead.
	PingInterval time.Duration `reload:"keep"`
	PingSides    WSSides       `reload:"keep"`
	PongTimeout  time.Duration `reload:"keep"`
	// MaxMessage and MaxFrame bound the payload of a data message and of
	// a frame that the named sides send (ws_max_message_size,
	// ws_max_frame_size SIZE [client|upstream|both]; default no limit,
	// sides client).
	MaxMessage WSSize `reload:"keep"`
	MaxFrame   WSSize `reload:"keep"`
	// MessageRate bounds the data messages per second each named side
	// sends on one tunnel (ws_message_rate RATE [burst=N] [drop]
	// [client|upstream|both]; default no limit).
	MessageRate WSRate `reload:"keep"`

	// The handshake policy, checked before anything reaches the upstream.

	// AllowOrigins lists the Origins a WebSocket handshake may come from
	// (ws_allow_origins: "https://app.example.com", "*.example.com",
	// "~regex" or "~*regex", the regexes in Go syntax); others get 403. A
	// handshake without Origin (not from a browser) passes. nil: any.
	AllowOrigins []string `reload:"keep"`
	// Subprotocols lists the subprotocols a handshake may offer
	// (ws_subprotocols); the offer sent upstream keeps only these, and a
	// handshake that offers none of them gets 403. nil: any.
	Subprotocols []string `reload:"keep"`
	// Deflate is ws_deflate: "on" (the default, ""): permessage-deflate
	// (RFC 7692) is negotiated between the peers untouched; "strip": the
	// offer is removed from the handshake sent upstream; "off": as strip,
	// and a 101 that turns it on anyway is a bad gateway (502).
	Deflate string `reload:"keep"`
	// HandshakeRate is ws_handshake_rate: new WebSocket handshakes per
	// second admitted per listener or per upstream; others get 503 with
	// Retry-After. PerSecond 0: no limit.
	HandshakeRate WSHandshakeRate `reload:"keep"`
	// LogInterval writes a "still open" access log line for a WebSocket
	// session every LogInterval while it lasts (ws_log_interval, default
	// off).
	LogInterval time.Duration `reload:"keep"`
}

// WSHandshakeRate is ws_handshake_rate RATE [burst=N] [listener|upstream].
type WSHandshakeRate struct {
	PerSecond float64
	Burst     int
	// Upstream: one bucket per upstream (the proxy_pass host); otherwise
	// one per listening address.
	Upstream bool
}

// WSSides names the sides of a tunnel a ws_ setting applies to.
type WSSides uint8

// The sides; WSBoth is both bits.
const (
	WSClient   WSSides = 1 << iota // the client
	WSUpstream                     // the upstream
	WSBoth     = WSClient | WSUpstream
)

// WSSize is a size that applies to some sides; Size 0 means no limit.
type WSSize struct {
	Size  int64
	Sides WSSides
}

// WSRate is ws_message_rate: PerSecond messages, a bucket of Burst, over
// it dropped (Drop) or closed with 1008; PerSecond 0 means no limit.
type WSRate struct {
	PerSecond float64
	Burst     int
	Drop      bool
	Sides     WSSides
}
