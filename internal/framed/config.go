package framed

import (
	"log/slog"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// ConnConfig is what HTTP/2 and HTTP/3 connections configure alike;
// h2.Config and h3.Config embed it.
type ConnConfig struct {
	// Head holds the head limits a stream's request is checked with
	// (client_header_buffer_size, large_client_header_buffers,
	// underscores_in_headers ...), as on HTTP/1.1.
	Head http1.HeadConfig
	// Limits are each request's until the handler calls SetLimits; their
	// KeepaliveTimeout closes a connection without streams
	// (keepalive_timeout).
	Limits exchange.Limits
	// ServerName is the Server header value and the error page footer.
	ServerName string
	// Logger receives client errors at debug level; nil discards them.
	Logger *slog.Logger
	// Stats, when set, counts each stream as a request as nginx's
	// stub_status does.
	Stats *connstats.Counters
}

// DefaultConnConfig returns nginx's defaults, those of HTTP/1.1.
func DefaultConnConfig() ConnConfig {
	c := http1.DefaultConnConfig()
	return ConnConfig{Head: c.Head, Limits: c.Limits, ServerName: c.ServerName}
}

// Handler serves the streams of a connection. Each stream's request is
// served in a goroutine of its own; the Request and its Body are valid
// until ServeStream returns, and the ResponseWriter until then too,
// unless Upgrade handed the stream over. The response is finished (its
// trailers evaluated, the stream ended) after ServeStream returns and
// before the release func it returns is called (nil: nothing to
// release), so that what the trailers read (the request's variables) is
// still there.
type Handler interface {
	ServeStream(w exchange.ResponseWriter, req *exchange.Request) (release func())
	// ServeHeadError answers a request whose head the HTTP/1.x rules
	// reject with status (400, 414, 494 ...), through error_page.
	ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) (release func())
}

// Serve hands a stream's request to h: ServeStream, or ServeHeadError
// for a head error (status not 0), answered with nginx's page for status
// when the handler neither answered nor took the stream over (an
// upgraded stream has its head written).
func Serve(h Handler, w exchange.ResponseWriter, req *exchange.Request, status int) (release func()) {
	if status == 0 {
		return h.ServeStream(w, req)
	}
	release = h.ServeHeadError(w, req, status)
	if !w.Written() {
		w.WriteError(status)
	}
	return release
}
