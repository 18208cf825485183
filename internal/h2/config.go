package h2

import (
	"sync/atomic"
	"time"

	"wsgate/internal/framed"
	"wsgate/internal/http1"
)

// Config configures Serve for one connection. Start from DefaultConfig.
// ConnConfig's Limits.KeepaliveRequests bounds the streams of one
// connection (keepalive_requests).
type Config struct {
	framed.ConnConfig
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
	// ExtendedConnect sends SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441
	// section 3): the address has a location that proxies WebSockets.
	ExtendedConnect bool
}

// DefaultConfig returns nginx 1.22's defaults.
func DefaultConfig() Config {
	return Config{
		ConnConfig:           framed.DefaultConnConfig(),
		MaxConcurrentStreams: 128,
		BodyPrereadSize:      64 << 10,
		ChunkSize:            8 << 10,
		RecvBufferSize:       256 << 10,
		ClientHeaderTimeout:  http1.DefaultConnConfig().ClientHeaderTimeout,
	}
}

// Handler serves the streams of a connection (framed.Handler).
type Handler = framed.Handler

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
