package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/h2"
	"wsgate/internal/http1"
	"wsgate/internal/metrics"
	"wsgate/internal/netpoll"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/proxyproto"
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
	// detached is set once a request's handler took the connection over
	// (a tunnel), which then ends it and its count.
	detached bool
	// h2 is set on an HTTP/2 connection (guarded by s.conns.mu): a
	// graceful stop sends GOAWAY through it.
	h2 *h2.Shutdown
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
	c.detached = w.Hijacked()
}

// ServeHeadError answers a rejected head through the pipeline, so that
// the server's error_page applies as in nginx.
func (c *conn) ServeHeadError(w *http1.ResponseWriter, req *http1.Request, status int) {
	c.busy.Store(true)
	defer c.busy.Store(false)
	c.pc.ServeHeadError(w, &req.Request, status)
}

// serveConn runs one client connection on worker w: the TLS handshake of
// an ssl address, then the HTTP/1.x loop with the content handler.
// serial is its $connection, counted at accept as nginx's
// ngx_connection_counter, whether or not it gets to a request.
// resume, when set, is the parked connection nc was (park.go): serving
// goes on from where it stopped, after its PROXY protocol header. ahead
// is what the accept loop read from nc (parkAtAccept), served first.
func (s *Server) serveConn(nc net.Conn, listenAddr string, serial uint64, resume *parkedConn, ahead readAhead, w *worker) {
	defer ahead.release()
	accepted := time.Now()
	if resume != nil {
		accepted = resume.accepted
	}
	snap := s.current.Load()
	c := &w.c
	*c = conn{s: s, nc: nc}
	s.conns.add(c)
	defer s.conns.remove(c)
	if resume != nil {
		// Counted as served now (park added it to the count).
		s.conns.wg.Done()
	}
	// The connection is active from its accept (acceptLoop counts it) to
	// its close, which the HTTP/1.x loop counts once it has it, and a
	// tunnel that took it over instead.
	served := false
	defer func() {
		if !served && !c.detached {
			s.stats.Closed()
		}
	}()
	if s.draining.Load() {
		nc.Close()
		return
	}
	ln := snap.Listen(listenAddr)
	if ln == nil {
		nc.Close()
		return
	}
	var pp *proxyproto.Header
	if resume != nil {
		pp = resume.pp
	} else if ln.ProxyProtocol {
		var ok bool
		if pp, ok = s.readProxyProtocol(nc, ln.HandshakeTimeout); !ok {
			return
		}
	}
	var state *tls.ConnectionState
	var hello *exchange.ClientHello
	var plain, h2c bool
	if ln.TLS != nil && resume == nil {
		tc, h, plainConn, ok := s.handshake(nc, ln.TLS, ln.HandshakeTimeout)
		hello = h
		switch {
		case plainConn != nil:
			// Plain HTTP to an ssl address: nginx reads the request and
			// answers 400 "The plain HTTP request was sent to HTTPS port".
			plain = true
			s.conns.mu.Lock()
			c.nc = plainConn
			s.conns.mu.Unlock()
		case !ok:
			return
		default:
			s.conns.mu.Lock()
			c.nc = tc
			s.conns.mu.Unlock()
			cs := tc.ConnectionState()
			state = &cs
		}
	}
	if ln.HTTP2 && ln.TLS == nil && !plain && resume == nil {
		// h2c with prior knowledge, or HTTP/1.x.
		nc2, isH2, ok := sniffH2c(c.nc, ln.HandshakeTimeout)
		if !ok {
			return
		}
		s.conns.mu.Lock()
		c.nc = nc2
		s.conns.mu.Unlock()
		h2c = isH2
	}
	xc := &w.xc
	*xc = exchange.Conn{NetConn: c.nc, ListenAddr: listenAddr, TLS: state != nil, TLSState: state, PlainOnTLS: plain, Serial: serial,
		Socket: nc, Accepted: accepted, Hello: hello}
	if state != nil {
		xc.ClientVerify = ln.ClientVerify(state)
	}
	if raw, ok := nc.(*netpoll.Conn); ok {
		xc.RemoteAddr, xc.RemotePort = w.names.remote.splitAddrPort(raw.RemoteAddrPort())
		xc.LocalAddr, xc.LocalPort = w.names.local.splitAddrPort(raw.LocalAddrPort())
	} else {
		xc.RemoteAddr, xc.RemotePort = w.names.remote.split(nc.RemoteAddr())
		xc.LocalAddr, xc.LocalPort = w.names.local.split(nc.LocalAddr())
	}
	xc.ProxyProtocol = pp
	if h2c || ln.HTTP2 && state != nil && state.NegotiatedProtocol == "h2" {
		s.serveH2(c, w, ln)
		*xc = exchange.Conn{}
		return
	}
	s.pipe.Open(&w.pc, xc)
	w.pc.SetContent(snapshot.ContentProxy, s.proxy.Conn(xc, &w.local))
	w.pc.SetContent(snapshot.ContentMetrics, metrics.Handler{M: s.metrics})
	w.pc.SetContent(snapshot.ContentStatus, &s.status) // a pointer: no copy to the heap per connection
	c.pc = &w.pc
	w.cfg = ln.Conn
	w.cfg.Logger = s.log
	w.cfg.Stopping = &s.draining
	w.cfg.Stats = &s.stats
	// Only a plain socket served as itself parks: a TLS connection or
	// one with sniffed bytes in front is another net.Conn.
	raw, parkable := c.nc.(*netpoll.Conn)
	w.cfg.Park, w.cfg.KeepaliveGrace = parkable && ln.TLS == nil, parkGrace
	var st http1.State
	if resume != nil {
		st = resume.st
		w.pc.SetRequests(st.Requests)
	}
	st.Ahead, st.AheadErr = ahead.bytes(), ahead.err
	served = true
	parked := http1.ServeFrom(c.nc, &w.cfg, c, &st)
	w.pc.Close()
	*xc = exchange.Conn{}
	c.pc = nil
	if parked {
		s.park(raw, listenAddr, serial, accepted, pp, st)
	}
}

// readProxyProtocol takes the PROXY protocol header from the start of
// nc, before any TLS, bounded by timeout (client_header_timeout; 0:
// none). A header nginx calls broken, or none, closes the connection
// without an answer, as ngx_http_wait_request_handler and
// ngx_http_ssl_handshake do. The header is nil where it names no address
// ("PROXY UNKNOWN", a v2 LOCAL command).
func (s *Server) readProxyProtocol(nc net.Conn, timeout time.Duration) (*proxyproto.Header, bool) {
	if timeout > 0 {
		nc.SetReadDeadline(time.Now().Add(timeout))
	}
	h, err := proxyproto.Read(nc)
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			s.log.Info("client timed out while reading PROXY protocol header", "client", nc.RemoteAddr().String())
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			s.log.Debug("client closed connection while reading PROXY protocol header", "client", nc.RemoteAddr().String())
		default:
			s.log.Error(err.Error(), "client", nc.RemoteAddr().String())
		}
		nc.Close()
		return nil, false
	}
	nc.SetReadDeadline(time.Time{})
	return h, true
}

// handshake runs the TLS handshake of nc, bounded by timeout (0: none).
// A client that starts with what looks like an HTTP request gets plain,
// nc with the bytes already read put back in front, to be answered as
// nginx does (ngx_http_ssl_handshake peeks at the first byte). On any
// other failure nc is closed.
func (s *Server) handshake(nc net.Conn, cfg *tls.Config, timeout time.Duration) (tc *tls.Conn, hello *exchange.ClientHello, plain net.Conn, ok bool) {
	sc := &sniffConn{Conn: nc}
	tc = tls.Server(sc, cfg)
	if timeout > 0 {
		tc.SetDeadline(time.Now().Add(timeout))
	}
	err := tc.Handshake()
	sniffed := sc.sniffed
	sc.sniffed, sc.done = nil, true
	if err != nil {
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(sniffed) {
			nc.SetDeadline(time.Time{})
			return nil, nil, &prefixedConn{Conn: nc, prefix: sniffed}, false
		}
		s.log.Debug("tls handshake failed", "client", nc.RemoteAddr().String(), "err", err)
		nc.Close()
		return nil, nil, nil, false
	}
	tc.SetDeadline(time.Time{})
	return tc, sc.hello, nil, true
}

// looksLikeHTTP reports whether the first bytes of a connection are an
// HTTP method's upper-case letters.
func looksLikeHTTP(b []byte) bool {
	for _, c := range b {
		if c == ' ' {
			return true
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// sniffConn keeps what a connection's first reads returned until the
// handshake is over, when they are not a TLS record (0x16, a handshake):
// crypto/tls reads more than the record header it rejects, and a plain
// HTTP request needs all of it. A TLS client costs one byte's check.
type sniffConn struct {
	net.Conn
	sniffed []byte
	done    bool // a TLS record came first, or the handshake is over
	// hello is what the client offered (snapshot.HelloRecorder).
	hello *exchange.ClientHello
}

// RecordHello keeps the client's offered suites and groups.
func (c *sniffConn) RecordHello(h *tls.ClientHelloInfo) {
	c.hello = &exchange.ClientHello{Ciphers: slices.Clone(h.CipherSuites), Curves: slices.Clone(h.SupportedCurves)}
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done && n > 0 {
		if len(c.sniffed) == 0 && p[0] == 0x16 {
			c.done = true
		} else if len(c.sniffed) < 64<<10 {
			c.sniffed = append(c.sniffed, p[:n]...)
		}
	}
	return n, err
}

// prefixedConn is a connection with bytes already read from it put back
// in front of what it reads next.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

var _ http1.HeadErrorHandler = (*conn)(nil)
