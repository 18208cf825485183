package h3

import (
	"crypto/tls"
	"net"

	"wsgate/internal/framed"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	framed.ConnConfig
	// MaxConcurrentStreams is http3_max_concurrent_streams (default 128):
	// the bidirectional streams a client may have open at once.
	MaxConcurrentStreams int64
	// StreamBufferSize is http3_stream_buffer_size (default 64k): each
	// stream's receive window.
	StreamBufferSize int
	// Retry is quic_retry: a client's address is validated with a Retry
	// packet before the server keeps any state for it.
	Retry bool
}

// DefaultConfig returns nginx's defaults (ngx_http_v3_module).
func DefaultConfig() Config {
	return Config{
		ConnConfig:           framed.DefaultConnConfig(),
		MaxConcurrentStreams: 128,
		StreamBufferSize:     64 << 10,
	}
}

// Handler opens the handling of one QUIC connection once its handshake
// is done: local and remote are its addresses, cs its TLS state.
type Handler interface {
	Open(local, remote net.Addr, cs *tls.ConnectionState) ConnHandler
}

// ConnHandler serves the requests of one connection (framed.Handler).
type ConnHandler = framed.Handler
