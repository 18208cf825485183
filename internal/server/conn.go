package server

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/snapshot"
)

// worker is what a connection worker keeps from one connection to the
// next.
type worker struct {
	names addrNames
	// local is the proxy's state for this goroutine.
	local proxy.Local
	// xc describes the connection being served to the request handlers.
	xc exchange.Conn
	// pc runs the requests of the connection being served through the
	// pipeline's phases.
	pc pipeline.Conn
	// c is the connection being served; it is in the server's connSet
	// only while it is served, so the next connection reuses it.
	c conn
	// cfg is the HTTP/1.x configuration of the connection being served.
	cfg http1.ConnConfig
}

// conn is one client connection as the server tracks it for drain and
// stop, and the http1.Handler the HTTP/1.x loop calls: it marks the
// connection busy while a request is served and hands the request, with
// the HTTP/1.x response writer, to the request pipeline.
type conn struct {
	s    *Server
	nc   net.Conn // guarded by s.conns.mu once in the set
	busy atomic.Bool
	pc   *pipeline.Conn
}

// ServeHTTP1 serves one request through the pipeline. A request that
// arrives while the server drains is the connection's last. The HTTP/1.x
// request is handed over as the exchange.Request it embeds, and its
// writer as an exchange.ResponseWriter: nothing is copied.
func (c *conn) ServeHTTP1(w *http1.ResponseWriter, req *http1.Request) {
	c.busy.Store(true)
	defer c.busy.Store(false)
	if c.s.draining.Load() {
		w.CloseAfter()
	}
	c.pc.ServeRequest(w, &req.Request)
}

// serveConn runs one client connection on worker w: the TLS handshake of
// an ssl address, then the HTTP/1.x loop with the content handler.
func (s *Server) serveConn(nc net.Conn, listenAddr string, w *worker) {
	snap := s.current.Load()
	// $connection counts accepted connections, as nginx's
	// ngx_connection_counter, whether or not they get to a request.
	serial := s.serial.Add(1)
	c := &w.c
	*c = conn{s: s, nc: nc}
	s.conns.add(c)
	defer s.conns.remove(c)
	if s.draining.Load() {
		nc.Close()
		return
	}
	ln := snap.Listen(listenAddr)
	if ln == nil {
		nc.Close()
		return
	}
	var state *tls.ConnectionState
	if ln.TLS != nil {
		tc, ok := s.handshake(nc, ln.TLS, ln.HandshakeTimeout)
		if !ok {
			return
		}
		s.conns.mu.Lock()
		c.nc = tc
		s.conns.mu.Unlock()
		cs := tc.ConnectionState()
		state = &cs
	}
	xc := &w.xc
	*xc = exchange.Conn{NetConn: c.nc, ListenAddr: listenAddr, TLS: ln.TLS != nil, TLSState: state, Serial: serial}
	if state != nil {
		xc.ClientVerify = ln.ClientVerify(state)
	}
	xc.RemoteAddr, xc.RemotePort = w.names.remote.split(nc.RemoteAddr())
	xc.LocalAddr, xc.LocalPort = w.names.local.split(nc.LocalAddr())
	s.pipe.Open(&w.pc, xc)
	w.pc.SetContent(snapshot.ContentProxy, s.proxy.Conn(xc, &w.local))
	c.pc = &w.pc
	w.cfg = ln.Conn
	w.cfg.Logger = s.log
	w.cfg.Stopping = &s.draining
	http1.Serve(c.nc, &w.cfg, c)
	w.pc.Close()
	*xc = exchange.Conn{}
	c.pc = nil
}

// handshake runs the TLS handshake of nc, bounded by timeout (0: none).
// On failure nc is closed.
func (s *Server) handshake(nc net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, bool) {
	tc := tls.Server(nc, cfg)
	if timeout > 0 {
		tc.SetDeadline(time.Now().Add(timeout))
	}
	if err := tc.Handshake(); err != nil {
		s.log.Debug("tls handshake failed", "client", nc.RemoteAddr().String(), "err", err)
		nc.Close()
		return nil, false
	}
	tc.SetDeadline(time.Time{})
	return tc, true
}

var _ http1.Handler = (*conn)(nil)
