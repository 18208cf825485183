package server

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/h2"
	"wsgate/internal/metrics"
	"wsgate/internal/netpoll"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/snapshot"
)

// This file runs the HTTP/2 connections: those whose TLS handshake chose
// h2 by ALPN, and on a plain http2 address those that start with the h2c
// preface (prior knowledge, RFC 9113 3.3). Plain connections that do not
// are HTTP/1.x, as nginx 1.25.1 tells them apart
// (ngx_http_wait_request_handler); nginx 1.22 takes only HTTP/2 on a plain
// http2 address.

// sniffH2c looks at the first bytes of a plain connection to an http2
// address without consuming them where it can (netpoll.PeekConn): h2
// reports the h2c preface; otherwise nc, with any bytes that had to be
// read put back in front, is an HTTP/1.x connection. ok is false when
// the connection ended or timed out first (client_header_timeout).
func sniffH2c(nc net.Conn, timeout time.Duration) (conn net.Conn, h2c, ok bool) {
	if timeout > 0 {
		nc.SetReadDeadline(time.Now().Add(timeout))
		defer nc.SetReadDeadline(time.Time{})
	}
	pre := []byte(h2.Preface)
	var buf [len(h2.Preface)]byte
	n, err := netpoll.PeekConn(nc, buf[:])
	switch {
	case errors.Is(err, netpoll.ErrUnsupported):
	case err != nil || n == 0:
		nc.Close()
		return nil, false, false
	case !bytes.HasPrefix(pre, buf[:n]):
		return nc, false, true
	case n == len(pre):
		return nc, true, true
	}
	// Not a socket, or a preface in pieces: read it, and give an HTTP/1.x
	// connection back what was read.
	got := buf[:0]
	for len(got) < len(pre) {
		m, err := nc.Read(buf[len(got):])
		got = buf[:len(got)+m]
		if !bytes.HasPrefix(pre, got) {
			return &prefixedConn{Conn: nc, prefix: bytes.Clone(got)}, false, true
		}
		if err != nil {
			nc.Close()
			return nil, false, false
		}
	}
	return &prefixedConn{Conn: nc, prefix: bytes.Clone(got)}, true, true
}

// serveH2 runs HTTP/2 on c, whose connection facts w.xc holds. The
// streams share a copy of them; each stream is served through a pipeline
// connection of its own.
func (s *Server) serveH2(c *conn, w *worker, ln *snapshot.Listen) {
	xc := new(exchange.Conn)
	*xc = w.xc
	xc.NetConn = sharedConn{c.nc}
	cfg := ln.H2
	cfg.Logger = s.log
	cfg.Stats = &s.stats
	sd := new(h2.Shutdown)
	s.conns.mu.Lock()
	c.h2 = sd
	s.conns.mu.Unlock()
	if s.draining.Load() {
		sd.Stop()
	}
	// Its streams mark their own work; the connection is never idle in
	// drain's sense: a graceful stop sends it GOAWAY.
	c.busy.Store(true)
	h2.Serve(c.nc, nil, &cfg, &h2Handler{s: s, xc: xc}, sd)
}

// sharedConn is an HTTP/2 connection as its streams' handlers see it
// (exchange.Conn.NetConn): its deadlines are the connection's own, not a
// request's, so setting them does nothing, and it is no *net.TCPConn, so
// that the proxy does not watch a socket that carries other streams.
type sharedConn struct{ net.Conn }

func (sharedConn) SetDeadline(time.Time) error      { return nil }
func (sharedConn) SetReadDeadline(time.Time) error  { return nil }
func (sharedConn) SetWriteDeadline(time.Time) error { return nil }

// h2Handler serves the streams of one HTTP/2 connection, or the
// requests of one HTTP/3 connection.
type h2Handler struct {
	s  *Server
	xc *exchange.Conn
}

// h2Stream is what one stream's request needs: a pipeline connection and
// the proxy's state, kept in a pool from one stream to the next.
type h2Stream struct {
	pc    pipeline.Conn
	local proxy.Local
}

var h2Streams = sync.Pool{New: func() any { return new(h2Stream) }}

func (h *h2Handler) open() *h2Stream {
	st := h2Streams.Get().(*h2Stream)
	h.s.pipe.Open(&st.pc, h.xc)
	st.pc.SetContent(snapshot.ContentProxy, h.s.proxy.Conn(h.xc, &st.local))
	st.pc.SetContent(snapshot.ContentMetrics, metrics.Handler{M: h.s.metrics})
	st.pc.SetContent(snapshot.ContentStatus, &h.s.status)
	return st
}

// close is what ServeStream returns: the stream's pipeline connection is let
// go once its response is finished.
func (st *h2Stream) close() {
	st.pc.Close()
	h2Streams.Put(st)
}

// ServeStream serves one request of an HTTP/2 or HTTP/3 stream
// (framed.Handler) through a pipeline connection of its own.
func (h *h2Handler) ServeStream(w exchange.ResponseWriter, req *exchange.Request) func() {
	st := h.open()
	st.pc.ServeRequest(w, req)
	return st.close
}

func (h *h2Handler) ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) func() {
	st := h.open()
	st.pc.ServeHeadError(w, req, status)
	return st.close
}

var _ h2.Handler = (*h2Handler)(nil)
