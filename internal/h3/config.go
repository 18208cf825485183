package h3

import (
	"crypto/tls"
	"log/slog"
	"net"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Head holds the head limits a stream's request is checked with
	// (client_header_buffer_size, large_client_header_buffers,
	// underscores_in_headers ...), as on HTTP/1.1.
	Head http1.HeadConfig
	// MaxConcurrentStreams is http3_max_concurrent_streams (default 128):
	// the bidirectional streams a client may have open at once.
	MaxConcurrentStreams int64
	// StreamBufferSize is http3_stream_buffer_size (default 64k): each
	// stream's receive window.
	StreamBufferSize int
	// Retry is quic_retry: a client's address is validated with a Retry
	// packet before the server keeps any state for it.
	Retry bool
	// Limits are each request's until the handler calls SetLimits; their
	// KeepaliveTimeout closes a connection without requests.
	Limits exchange.Limits
	// ServerName is the Server header value and the error page footer.
	ServerName string
	// Logger receives client errors at debug level; nil discards them.
	Logger *slog.Logger
	// Stats, when set, counts each request as nginx's stub_status does.
	Stats *connstats.Counters
}

// DefaultConfig returns nginx's defaults (ngx_http_v3_module).
func DefaultConfig() Config {
	c := http1.DefaultConnConfig()
	return Config{
		Head:                 c.Head,
		MaxConcurrentStreams: 128,
		StreamBufferSize:     64 << 10,
		Limits:               c.Limits,
		ServerName:           c.ServerName,
	}
}

// Handler opens the handling of one QUIC connection once its handshake
// is done: local and remote are its addresses, cs its TLS state.
type Handler interface {
	Open(local, remote net.Addr, cs *tls.ConnectionState) ConnHandler
}

// ConnHandler serves the requests of one connection. Each request is
// served in a goroutine of its own; the Request and its Body are valid
// until ServeH3 returns, and the ResponseWriter until then too, unless
// Upgrade handed the stream over. The response is finished (its
// trailers evaluated) after ServeH3 returns and before the release func
// it returns is called (nil: nothing to release).
type ConnHandler interface {
	ServeH3(w exchange.ResponseWriter, req *exchange.Request) (release func())
	// ServeHeadError answers a request whose head the HTTP/1.x rules
	// reject with status (400, 414, 494 ...), through error_page.
	ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) (release func())
}
