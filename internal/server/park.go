package server

import (
	"sync"
	"time"

	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
	"wsgate/internal/proxyproto"
)

// Idle HTTP/1.x connections wait without a goroutine: a fresh one whose
// first read found nothing, and a keep-alive one still empty after
// parkGrace, are parked (http1.ConnConfig.Park) as a registration in an
// event loop of netpoll's Default poller and a timer for their deadline
// (client_header_timeout, keepalive_timeout). When the socket becomes
// readable a worker is taken or started and serving resumes where it
// stopped (http1.State); at the deadline, or when the server drains or
// stops, the connection is closed without an answer, as nginx closes an
// idle one (ngx_http_keepalive_handler, ngx_close_idle_connections).
// An idle connection then costs its socket, its netpoll.Conn and this
// record, not a goroutine's stack and a worker's state, as nginx's costs
// its ngx_connection_t.

// parkGrace is how long a keep-alive connection waits in its goroutine
// for the next request before it is parked: a client that sends its next
// request at once (a page's resources, a benchmark's closed loop) costs
// no park and resume.
const parkGrace = 100 * time.Millisecond

// parkedConn is one parked connection.
type parkedConn struct {
	s          *Server
	nc         *netpoll.Conn
	listenAddr string
	serial     uint64
	accepted   time.Time
	pp         *proxyproto.Header
	st         http1.State
	timer      *time.Timer
	readyFn    func()
}

// parkedSet holds the parked connections, for drain and stop.
type parkedSet struct {
	mu sync.Mutex
	m  map[*parkedConn]struct{}
}

// park parks nc, whose serving stopped at st. The connection stays in
// the server's count of connections (waitConns) until it is resumed and
// served again, or closed.
func (s *Server) park(nc *netpoll.Conn, listenAddr string, serial uint64, accepted time.Time, pp *proxyproto.Header, st http1.State) {
	p := &parkedConn{s: s, nc: nc, listenAddr: listenAddr, serial: serial, accepted: accepted, pp: pp, st: st}
	p.readyFn = p.ready
	s.parked.mu.Lock()
	if s.parked.m == nil {
		s.parked.m = make(map[*parkedConn]struct{})
	}
	s.parked.m[p] = struct{}{}
	s.conns.wg.Add(1)
	s.parked.mu.Unlock()
	if !st.Deadline.IsZero() {
		p.timer = time.AfterFunc(time.Until(st.Deadline), p.expire)
	}
	if err := nc.Park(&p.readyFn); err != nil {
		p.close()
		return
	}
	if s.draining.Load() {
		// drain went over the set before p was in it.
		p.expire()
	}
}

// parkAtAccept parks a fresh connection from the accept loop, without a
// worker, when nothing has arrived on it yet and its listener parks
// (plain HTTP/1.x: no TLS handshake, PROXY protocol header or h2c
// preface to read first), as nginx gives a new connection a read event
// and its client_header_timeout timer without reading it
// (ngx_http_init_connection). A burst of connections (clients
// reconnecting after a restart) is then taken at the cost of accept4, a
// read and an epoll_ctl each, and the listen queue (backlog=, 511) does
// not overflow into the clients' SYN retransmissions while workers serve
// each connection in turn. It reports whether nc was parked; if not,
// ahead holds what the read found, for the worker to serve first (the
// read is the one the worker would make: a request sent with the
// handshake's ACK costs no read more than it did before the accept loop
// looked, where a peek did).
func (s *Server) parkAtAccept(nc *netpoll.Conn, listenAddr string, serial uint64, ahead *readAhead) bool {
	if s.draining.Load() {
		return false
	}
	ln := s.current.Load().Listen(listenAddr)
	if ln == nil || ln.TLS != nil || ln.ProxyProtocol || ln.HTTP2 {
		return false
	}
	if !ahead.read(nc) {
		return false
	}
	now := time.Now()
	st := http1.State{Start: now}
	if d := ln.Conn.ClientHeaderTimeout; d > 0 {
		st.Deadline = now.Add(d)
	}
	s.park(nc, listenAddr, serial, now, nil, st)
	return true
}

// ready is the Park request's function, in the event loop's goroutine:
// the socket is readable; a worker resumes serving it (serveConn, which
// takes it out of the count once it has counted it as served).
func (p *parkedConn) ready() {
	if p.timer != nil {
		p.timer.Stop()
	}
	p.s.parked.mu.Lock()
	delete(p.s.parked.m, p)
	p.s.parked.mu.Unlock()
	p.s.dispatch(connJob{nc: p.nc, listenAddr: p.listenAddr, serial: p.serial, resume: p})
}

// expire closes p unless it was resumed meanwhile: its deadline passed,
// or the server drains or stops.
func (p *parkedConn) expire() {
	if p.nc.Unpark() {
		p.close()
	}
}

// close closes p's connection, counted closed as the HTTP/1.x loop counts
// its own (before the socket closes).
func (p *parkedConn) close() {
	if p.timer != nil {
		p.timer.Stop()
	}
	s := p.s
	s.parked.mu.Lock()
	delete(s.parked.m, p)
	s.parked.mu.Unlock()
	s.stats.Closed()
	p.nc.Close()
	s.conns.wg.Done()
}

// closeParked closes every parked connection (drain, fast stop).
func (s *Server) closeParked() {
	s.parked.mu.Lock()
	ps := make([]*parkedConn, 0, len(s.parked.m))
	for p := range s.parked.m {
		ps = append(ps, p)
	}
	s.parked.mu.Unlock()
	for _, p := range ps {
		p.expire()
	}
}

// readAhead is the accept loop's read of a fresh connection, handed to
// its worker (http1.State.Ahead); buf is from aheadPool, nil when no
// bytes were read.
type readAhead struct {
	buf *[]byte
	n   int
	err error // how the read ended when it found no bytes; nil: none
}

// aheadPool holds the accept loop's read buffers, as large as the
// HTTP/1.x reader's (4 KiB): a request head that fits is read whole.
var aheadPool = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// read reads what nc has without waiting; it reports whether nc is
// empty (nothing read, no end or error met).
func (a *readAhead) read(nc *netpoll.Conn) bool {
	buf := aheadPool.Get().(*[]byte)
	n, err := nc.ReadNow(*buf, 0)
	switch {
	case err == netpoll.ErrAgain:
		aheadPool.Put(buf)
		return true
	case n == 0:
		aheadPool.Put(buf)
		a.err = err
		return false
	}
	a.buf, a.n = buf, n
	return false
}

// bytes returns what was read, nil when nothing.
func (a *readAhead) bytes() []byte {
	if a.buf == nil {
		return nil
	}
	return (*a.buf)[:a.n]
}

// release gives the buffer back once the worker's serving has returned.
func (a *readAhead) release() {
	if a.buf != nil {
		aheadPool.Put(a.buf)
		a.buf = nil
	}
}
