package h2

import (
	"log/slog"
	"sync/atomic"
	"time"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// Config configures Serve for one connection. Start from DefaultConfig.
type Config struct {
	// Head holds the head limits a stream's request is checked with
	// (client_header_buffer_size, large_client_header_buffers,
	// underscores_in_headers ...), as on HTTP/1.1.
	Head http1.HeadConfig
	// MaxConcurrentStreams is http2_max_concurrent_streams (default 128).
	MaxConcurrentStreams uint32
	// BodyPrereadSize is http2_body_preread_size (default 64k): the
	// receive window of each stream, SETTINGS_INITIAL_WINDOW_SIZE.
	BodyPrereadSize uint32
	// ChunkSize is http2_chunk_size (default 8k): the largest DATA frame
	// sent.
	ChunkSize int
	// RecvBufferSize is http2_recv_buffer_size (default 256k): the size of
	// the connection's read buffer.
	RecvBufferSize int
	// ClientHeaderTimeout is client_header_timeout: the connection
	// preface and the client's SETTINGS must arrive within it.
	ClientHeaderTimeout time.Duration
	// Limits are each request's until the handler calls SetLimits; their
	// KeepaliveTimeout closes a connection without streams
	// (keepalive_timeout) and KeepaliveRequests bounds the streams of one
	// connection (keepalive_requests).
	Limits exchange.Limits
	// ServerName is the Server header value and the error page footer.
	ServerName string
	// ExtendedConnect sends SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441
	// section 3): the address has a location that proxies WebSockets.
	ExtendedConnect bool
	// Logger receives client errors at debug level; nil discards them.
	Logger *slog.Logger
	// Stats, when set, counts each stream as a request as nginx's
	// stub_status does.
	Stats *connstats.Counters
}

// DefaultConfig returns nginx 1.22's defaults.
func DefaultConfig() Config {
	c := http1.DefaultConnConfig()
	return Config{
		Head:                 c.Head,
		MaxConcurrentStreams: 128,
		BodyPrereadSize:      64 << 10,
		ChunkSize:            8 << 10,
		RecvBufferSize:       256 << 10,
		ClientHeaderTimeout:  c.ClientHeaderTimeout,
		Limits:               c.Limits,
		ServerName:           c.ServerName,
	}
}

// Handler serves the streams of a connection. Each stream's request is
// served in a goroutine of its own; the Request and its Body are valid
// until ServeH2 returns, and the ResponseWriter until then too, unless
// Upgrade handed the stream over. The response is finished (its
// trailers evaluated, END_STREAM sent) after ServeH2 returns and before
// the release func it returns is called (nil: nothing to release), so
// that what the trailers read (the request's variables) is still there.
type Handler interface {
	ServeH2(w exchange.ResponseWriter, req *exchange.Request) (release func())
	// ServeHeadError answers a request whose head the HTTP/1.x rules
	// reject with status (400, 414, 494 ...), through error_page.
	ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) (release func())
}

// Shutdown is a connection's handle for a graceful stop.
type Shutdown struct {
	stopping atomic.Bool
	c        atomic.Pointer[serverConn]
}

// Stop sends GOAWAY: the connection takes no new streams and closes when
// its open ones (tunnels among them) have ended.
func (s *Shutdown) Stop() {
	s.stopping.Store(true)
	if c := s.c.Load(); c != nil {
		c.goAway(0, false)
	}
}
