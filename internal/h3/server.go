package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"wsgate/internal/framed"
)

// Server serves HTTP/3 on one UDP socket. Its configuration, TLS
// settings and handler can be replaced while it runs (Update, at a
// reload): new connections take the new ones, open streams and tunnels
// keep theirs.
type Server struct {
	cur atomic.Pointer[current]
	hs  http3.Server

	mu       sync.Mutex
	tr       *quic.Transport
	ln       *quic.Listener
	closed   bool
	conns    map[*connState]struct{} // open connections
	stopping bool                    // Shutdown began: idle connections close
}

// current is what new connections are served with.
type current struct {
	cfg *Config
	tls *tls.Config
	h   Handler
}

// NewServer returns a server for cfg, with the certificates of tlsConf,
// whose requests h serves. The stream limit, the stream window,
// quic_retry and the idle timeout are cfg's for the server's life.
func NewServer(cfg *Config, tlsConf *tls.Config, h Handler) *Server {
	s := &Server{}
	s.Update(cfg, tlsConf, h)
	_, large, num := cfg.Head.Sizes()
	s.hs = http3.Server{
		Handler:        http.HandlerFunc(s.serveHTTP),
		MaxHeaderBytes: 2 * large * num,
		IdleTimeout:    cfg.Limits.KeepaliveTimeout,
		Logger:         cfg.Logger,
		ConnContext:    s.connContext,
	}
	return s
}

// Update replaces the configuration new connections are served with.
func (s *Server) Update(cfg *Config, tlsConf *tls.Config, h Handler) {
	s.cur.Store(&current{cfg: cfg, tls: http3.ConfigureTLSConfig(tlsConf), h: h})
}

// Serve runs HTTP/3 on pc until Close or Shutdown, and returns
// http.ErrServerClosed then. It does not close pc.
func (s *Server) Serve(pc net.PacketConn) error {
	cfg := s.cur.Load().cfg
	tr := &quic.Transport{Conn: pc}
	if cfg.Retry {
		// quic_retry: every client's address is validated first.
		tr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	win := uint64(max(cfg.StreamBufferSize, 1024))
	qc := &quic.Config{
		MaxIncomingStreams:         max(cfg.MaxConcurrentStreams, 1),
		InitialStreamReceiveWindow: win,
		MaxStreamReceiveWindow:     win,
		MaxIdleTimeout:             cfg.Limits.KeepaliveTimeout,
	}
	if t := cfg.Limits.KeepaliveTimeout; t > 0 {
		// keepalive_timeout is QUIC's idle timeout, as in nginx; a
		// WebSocket may be quiet for longer (proxy_read_timeout), so
		// PINGs keep the connection alive while streams are open, and
		// the HTTP/3 server's idle timer ends it when none are.
		qc.KeepAlivePeriod = t / 2
	}
	// The certificates are the current ones at each handshake: the
	// configuration's own, or the one it picks for the client (by SNI).
	outer := &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := s.cur.Load().tls
		if c.GetConfigForClient != nil {
			return c.GetConfigForClient(hello)
		}
		return c, nil
	}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	ln, err := tr.Listen(http3.ConfigureTLSConfig(outer), qc)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.tr, s.ln = tr, ln
	s.mu.Unlock()
	err = s.hs.ServeListener(ln)
	if errors.Is(err, quic.ErrServerClosed) {
		err = http.ErrServerClosed
	}
	return err
}

// Shutdown sends GOAWAY on every connection and waits until they have
// ended or ctx is done, then closes them. A connection is closed by the
// server (H3_NO_ERROR) once none of its requests and tunnels runs, as an
// HTTP/2 connection after its GOAWAY: clients need not close it.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.hs.Shutdown(ctx) }()
	s.mu.Lock()
	s.stopping = true
	var idle []*connState
	for c := range s.conns {
		if c.active.Load() == 0 {
			idle = append(idle, c)
		}
	}
	s.mu.Unlock()
	for _, c := range idle {
		c.closeIfIdle()
	}
	err := <-done
	s.closeListener()
	return err
}

// Close ends every connection at once.
func (s *Server) Close() error {
	err := s.hs.Close()
	s.closeListener()
	return err
}

func (s *Server) closeListener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
		s.tr.Close()
		s.ln, s.tr = nil, nil
	}
}

// connKey is the context key of a connection's connState.
type connKey struct{}

// connState is a connection's handler and configuration, and how many
// of its requests and tunnels run.
type connState struct {
	s      *Server
	qc     *quic.Conn
	cfg    *Config
	h      ConnHandler
	active atomic.Int64
}

// begin counts a request of the connection.
func (c *connState) begin() { c.active.Add(1) }

// end counts a request's (or its tunnel's) end; the last one of a
// connection of a stopping server closes it.
func (c *connState) end() {
	if c.active.Add(-1) != 0 {
		return
	}
	c.s.mu.Lock()
	stopping := c.s.stopping
	c.s.mu.Unlock()
	if stopping {
		c.closeIfIdle()
	}
}

func (c *connState) closeIfIdle() {
	if c.active.Load() == 0 {
		c.qc.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
	}
}

func (s *Server) connContext(ctx context.Context, qc *quic.Conn) context.Context {
	cur := s.cur.Load()
	if st := cur.cfg.Stats; st != nil {
		// A QUIC connection counts as a connection from its handshake
		// to its end (stub_status).
		st.Accepted()
		context.AfterFunc(qc.Context(), st.Closed)
	}
	tcs := qc.ConnectionState().TLS
	cs := &connState{s: s, qc: qc, cfg: cur.cfg, h: cur.h.Open(qc.LocalAddr(), qc.RemoteAddr(), &tcs)}
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*connState]struct{}{}
	}
	s.conns[cs] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(qc.Context(), func() {
		s.mu.Lock()
		delete(s.conns, cs)
		s.mu.Unlock()
	})
	return context.WithValue(ctx, connKey{}, cs)
}

// serveHTTP serves one request stream: its request built as nginx
// builds it, the pipeline's answer, then the response finished unless a
// tunnel took the stream over.
func (s *Server) serveHTTP(hw http.ResponseWriter, r *http.Request) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		hw.WriteHeader(500)
		return
	}
	cs.begin()
	st := &stream{cfg: cs.cfg, hw: hw, hr: r, conn: cs}
	st.body.Reset(st, &st.req.Request, cs.cfg.Limits.ClientMaxBodySize, cs.cfg.Limits.ClientBodyTimeout)
	st.w.out.st = st
	stats := cs.cfg.Stats
	if stats != nil {
		stats.Reading()
	}
	status := st.buildRequest(r)
	if stats != nil {
		stats.Writing()
	}
	w := &st.w
	w.reset(&st.req.Request, cs.cfg.Limits)
	release := framed.Serve(cs.h, w, &st.req.Request, status)
	complete := true
	if !st.upgraded {
		complete = w.finish()
	}
	if release != nil {
		release()
	}
	if st.upgraded {
		// The tunnel ends the stream and the request (connstats'
		// TunnelDone).
		if stats != nil {
			stats.TunnelStream()
		}
		return
	}
	defer cs.end()
	if stats != nil {
		stats.WriteDone()
	}
	if !complete {
		// The stream is reset rather than ended: the client sees the
		// response cut off.
		panic(http.ErrAbortHandler)
	}
}
