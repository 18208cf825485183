package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/h3"
	"wsgate/internal/listen"
	"wsgate/internal/snapshot"
)

// This file runs HTTP/3 on the UDP sockets of "listen ... quic"
// addresses: one h3.Server per socket, kept across reloads with the
// socket (a reload gives it the new configuration for new connections;
// open connections, their streams and tunnels go on), its requests
// through the same pipeline as HTTP/2's streams, each QUIC connection
// with its own exchange.Conn.

// h3Set is the running HTTP/3 servers, by listen address.
type h3Set struct {
	mu sync.Mutex
	m  map[string]*h3.Server
}

// serveQUIC starts HTTP/3 on the UDP socket l with the published
// configuration.
func (s *Server) serveQUIC(l *listen.Listener) {
	addr := l.Want.Addr
	ln := s.current.Load().Listen(addr)
	if ln == nil || !ln.QUIC || ln.TLS == nil {
		return
	}
	srv := h3.NewServer(s.h3Config(ln), ln.TLS, &h3Handler{s: s, addr: addr})
	s.h3.mu.Lock()
	if s.h3.m == nil {
		s.h3.m = map[string]*h3.Server{}
	}
	s.h3.m[addr] = srv
	s.h3.mu.Unlock()
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := srv.Serve(l.Packet); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving stopped", "listen", addr, "err", err)
		}
	}()
}

func (s *Server) h3Config(ln *snapshot.Listen) *h3.Config {
	cfg := ln.H3
	cfg.Logger = s.log
	cfg.Stats = &s.stats
	return &cfg
}

// updateQUIC gives every running HTTP/3 server the configuration of
// snap (a reload).
func (s *Server) updateQUIC(snap *snapshot.Snapshot) {
	s.h3.mu.Lock()
	defer s.h3.mu.Unlock()
	for addr, srv := range s.h3.m {
		if ln := snap.Listen(addr); ln != nil && ln.QUIC && ln.TLS != nil {
			srv.Update(s.h3Config(ln), ln.TLS, &h3Handler{s: s, addr: addr})
		}
	}
}

// closeQUIC ends the HTTP/3 server of addr (its socket is gone from the
// configuration) at once.
func (s *Server) closeQUIC(addr string) {
	s.h3.mu.Lock()
	srv := s.h3.m[addr]
	delete(s.h3.m, addr)
	s.h3.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// stopQUIC stops every HTTP/3 server: graceful sends GOAWAY and returns a
// wait for their connections to end (or ctx to be done, which closes
// them); otherwise they are closed at once.
func (s *Server) stopQUIC(ctx context.Context, graceful bool) (wait func()) {
	s.h3.mu.Lock()
	srvs := make([]*h3.Server, 0, len(s.h3.m))
	for _, srv := range s.h3.m {
		srvs = append(srvs, srv)
	}
	s.h3.m = nil
	s.h3.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range srvs {
		if !graceful {
			srv.Close()
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); srv.Shutdown(ctx) }()
	}
	return wg.Wait
}

// isPacket picks the UDP sockets of a listener set.
func isPacket(l *listen.Listener) bool { return l.Packet != nil }

// h3Handler opens the QUIC connections of one address.
type h3Handler struct {
	s    *Server
	addr string
}

// Open gives a QUIC connection its exchange.Conn ($remote_addr,
// $connection, $ssl_* ...) and serves its requests as HTTP/2 streams are
// served: each through a pipeline connection of its own.
func (h *h3Handler) Open(local, remote net.Addr, cs *tls.ConnectionState) h3.ConnHandler {
	s := h.s
	xc := &exchange.Conn{NetConn: quicConn{local: local, remote: remote}, ListenAddr: h.addr, TLS: true, TLSState: cs,
		Serial: s.serial.Add(1), Accepted: time.Now()}
	if ln := s.current.Load().Listen(h.addr); ln != nil && ln.ClientVerify != nil {
		xc.ClientVerify = ln.ClientVerify(cs)
	}
	var names addrNames
	xc.RemoteAddr, xc.RemotePort = names.remote.split(remote)
	xc.LocalAddr, xc.LocalPort = names.local.split(local)
	return &h2Handler{s: s, xc: xc}
}

// quicConn is a QUIC connection as its requests' handlers see it
// (exchange.Conn.NetConn): its addresses, no bytes and no deadlines, so
// that nothing watches a socket that carries every connection of the
// address.
type quicConn struct{ local, remote net.Addr }

var errNoByteStream = errors.New("a QUIC connection has no byte stream of its own")

func (quicConn) Read([]byte) (int, error)         { return 0, errNoByteStream }
func (quicConn) Write([]byte) (int, error)        { return 0, errNoByteStream }
func (quicConn) Close() error                     { return nil }
func (c quicConn) LocalAddr() net.Addr            { return c.local }
func (c quicConn) RemoteAddr() net.Addr           { return c.remote }
func (quicConn) SetDeadline(time.Time) error      { return nil }
func (quicConn) SetReadDeadline(time.Time) error  { return nil }
func (quicConn) SetWriteDeadline(time.Time) error { return nil }

var (
	_ h3.Handler     = (*h3Handler)(nil)
	_ h3.ConnHandler = (*h2Handler)(nil)
)
