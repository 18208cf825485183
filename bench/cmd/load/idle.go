package main

import (
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"wsgate/bench/internal/procstat"
	"wsgate/bench/internal/result"
	"wsgate/bench/internal/wsframe"
)

// This file is the idle cases: d (plain WebSockets), q (wss over
// HTTP/1.1) and r (wss over HTTP/2, -streams WebSockets per connection).

// idle is cases d, q and r: the proxy's VmRSS is read before the
// WebSockets open and again after they have sat idle for -settle; the
// growth is divided by the WebSockets (tunnels, not connections: in case
// r, -streams of them share one HTTP/2 connection).
func (l *loader) idle(res *result.Load) error {
	if l.cfg.pid <= 0 {
		return nil
	}
	msg := make([]byte, l.cfg.size)
	frame := wsframe.AppendFrame(nil, wsframe.OpText, msg, &l.cfg.clientMask)
	once := func(w *wsConn) error {
		if _, err := w.c.Write(frame); err != nil {
			return fmt.Errorf("writing message: %w", err)
		}
		if _, _, err := w.readFrame(); err != nil {
			return fmt.Errorf("reading echo: %w", err)
		}
		w.buf = nil
		return nil
	}
	// Warm the proxy's pools and lazily built state first.
	l.closeAll(l.dialAll(64, 512, once))
	l.h2pool.closeAll()
	time.Sleep(300 * time.Millisecond)
	var err error
	if res.RSSBefore, err = procstat.RSSKiB(l.cfg.pid); err != nil {
		return err
	}
	t0 := time.Now()
	conns := l.dialAll(l.cfg.conns, 512, once)
	res.IdleConns = len(conns)
	res.Seconds = time.Since(t0).Seconds() // setup time

	time.Sleep(l.cfg.settle)
	if res.RSSAfter, err = procstat.RSSKiB(l.cfg.pid); err != nil {
		return err
	}
	if len(conns) > 0 {
		res.KiBPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(len(conns))
	}
	l.stop.Store(true)
	l.closeAll(conns)
	l.h2pool.closeAll()
	return nil
}

// h2Pool is case r's HTTP/2 connections: each carries up to -streams
// WebSockets, opened on the newest connection until it is full.
type h2Pool struct {
	mu   sync.Mutex
	cc   *http2.ClientConn
	tc   net.Conn
	used int
	all  []*http2.ClientConn
}

// h2MuxDial opens a WebSocket as an extended CONNECT on the pool's
// newest HTTP/2 connection, first opening a new one when it carries
// -streams already. A connection is opened under the pool's lock, so that
// concurrent dials fill it instead of each opening its own.
func (l *loader) h2MuxDial(bufSize int) (*wsConn, error) {
	p := &l.h2pool
	p.mu.Lock()
	if p.cc == nil || p.used >= l.cfg.streams {
		c, err := l.dial()
		if err != nil {
			p.mu.Unlock()
			return nil, fmt.Errorf("dialing %s: %w", l.cfg.addr, err)
		}
		tc, cc, err := h2Connect(c)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.cc, p.tc, p.used = cc, tc, 0
		p.all = append(p.all, cc)
	}
	p.used++
	cc, tc := p.cc, p.tc
	p.mu.Unlock()
	return l.h2Open(cc, tc, bufSize, false)
}

// closeAll closes the pool's connections (their streams have ended) and
// empties it.
func (p *h2Pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cc := range p.all {
		cc.Close()
	}
	p.cc, p.tc, p.used, p.all = nil, nil, 0, nil
}
