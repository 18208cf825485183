package server

import (
	"errors"
	"net"
	"sync"
	"time"

	"wsgate/internal/listen"
	"wsgate/internal/netpoll"
)

// acceptLoop accepts connections on l until l is closed. Each connection
// is served by a worker goroutine (dispatch) with the snapshot published
// when its request heads arrive. The event loops of one-shot upstream
// connections (netpoll.Default) start with the first listener: a fixed
// set of epoll fds and goroutines for the process, there before any
// connection (where there are none, net's dialer serves).
func (s *Server) acceptLoop(l *listen.Listener) error {
	netpoll.Default()
	var delay time.Duration
	started := make(chan struct{})
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// EMFILE and friends: back off as net/http does, and keep
			// the listener (existing tunnels keep working).
			var ne net.Error
			if errors.As(err, &ne) {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				s.log.Warn("accept failed", "listen", l.Want.Addr, "err", err)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		// stub_status's accepts, handled and active, counted in accept
		// order as ngx_event_accept counts them; serveConn counts the
		// close. $connection numbers connections in that order too
		// (ngx_connection_counter).
		s.stats.Accepted()
		serial := s.serial.Add(1)
		var ahead readAhead
		if raw, ok := nc.(*netpoll.Conn); ok && s.parkAtAccept(raw, l.Want.Addr, serial, &ahead) {
			continue
		}
		s.dispatch(connJob{nc: nc, listenAddr: l.Want.Addr, serial: serial, started: started, ahead: ahead})
		// The next accept waits for the worker to start: it then goes on
		// with the connection until it first blocks, which serves the
		// connections in the order they came, as one nginx worker
		// handles its events. Without the wait the scheduler runs the
		// goroutine readied last first, and a request sent before
		// another on a new connection could be served after it.
		<-started
	}
}

// connJob is an accepted connection on its way to a worker.
type connJob struct {
	nc         net.Conn
	listenAddr string
	serial     uint64 // $connection
	// started is told when a worker starts on the connection; nil for a
	// parked one resumed (park.go).
	started chan<- struct{}
	// resume is the parked connection being resumed; nil for a new one.
	resume *parkedConn
	// ahead is what the accept loop read from a new connection.
	ahead readAhead
}

// Connection workers: a goroutine that has served a connection waits up
// to workerIdle for the next accepted one instead of ending. Its stack has
// grown to what serving takes (the request path, the dial, the handshake),
// so the next connection costs neither a new goroutine nor the stack
// copies of growing one again. At most maxIdleWorkers wait; the rest end.
const (
	workerIdle     = time.Second
	maxIdleWorkers = 128
)

// dispatch hands j to a waiting worker, or starts one.
func (s *Server) dispatch(j connJob) {
	select {
	case s.work <- j:
	default:
		go s.worker(j)
	}
}

// worker serves j, then the connections dispatch hands it, until it has
// waited workerIdle for one or maxIdleWorkers others wait already.
func (s *Server) worker(j connJob) {
	var idle *time.Timer
	w := new(worker)
	// Close reads the content handler's state when it runs: the epoll
	// set of one-shot dials is made after the worker starts.
	defer w.local.Close()
	for {
		if j.started != nil {
			j.started <- struct{}{}
		}
		s.serveConn(j.nc, j.listenAddr, j.serial, j.resume, j.ahead, w)
		j = connJob{}
		if s.idleWorkers.Add(1) > maxIdleWorkers {
			s.idleWorkers.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case j = <-s.work:
			s.idleWorkers.Add(-1)
		case <-idle.C:
			s.idleWorkers.Add(-1)
			return
		}
	}
}

// connSet tracks client connections so that a graceful stop can close the
// idle ones and wait for the busy ones.
type connSet struct {
	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

func (cs *connSet) add(c *conn) {
	cs.mu.Lock()
	if cs.conns == nil {
		cs.conns = map[*conn]struct{}{}
	}
	cs.conns[c] = struct{}{}
	cs.wg.Add(1)
	cs.mu.Unlock()
}

func (cs *connSet) remove(c *conn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
	cs.wg.Done()
}

// drain stops new requests on open connections: idle keep-alive
// connections are closed at once, busy ones after their current response.
// It is the first step of a graceful stop; waitConns waits for the rest.
func (s *Server) drain() {
	s.draining.Store(true)
	s.conns.mu.Lock()
	for c := range s.conns.conns {
		if c.h2 != nil {
			// GOAWAY is written outside the lock.
			go c.h2.Stop()
			continue
		}
		if !c.busy.Load() {
			// Unblocks a read of the next request head; the HTTP/1.x
			// loop then closes the connection.
			c.nc.SetReadDeadline(time.Now())
		}
	}
	s.conns.mu.Unlock()
	s.closeParked()
}

// waitConns blocks until every client connection has ended, or timeout
// passes; it reports whether all ended.
func (s *Server) waitConns(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { s.conns.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// closeConns closes every client connection at once (fast stop).
func (s *Server) closeConns() {
	s.draining.Store(true)
	s.conns.mu.Lock()
	for c := range s.conns.conns {
		c.nc.Close()
	}
	s.conns.mu.Unlock()
	s.closeParked()
}
