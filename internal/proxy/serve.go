package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"wsgate/internal/http1"
	"wsgate/internal/listen"
	"wsgate/internal/vars"
)

// connSet tracks client connections so that a graceful stop can close the
// idle ones and wait for the busy ones.
type connSet struct {
	mu    sync.Mutex
	conns map[*clientConn]struct{}
	wg    sync.WaitGroup
}

func (s *connSet) add(c *clientConn) {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*clientConn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
}

func (s *connSet) remove(c *clientConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Serve accepts connections on l until l is closed. Each connection is
// served by a worker goroutine of its own (dispatch) with the State
// published when its request heads arrive.
func (h *Handler) Serve(l *listen.Listener) error {
	var delay time.Duration
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
				h.Log.Warn("accept failed", "listen", l.Want.Addr, "err", err)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		h.dispatch(connJob{nc: nc, listenAddr: l.Want.Addr})
	}
}

// connJob is an accepted connection on its way to a worker.
type connJob struct {
	nc         net.Conn
	listenAddr string
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
func (h *Handler) dispatch(j connJob) {
	h.workOnce.Do(func() { h.work = make(chan connJob) })
	select {
	case h.work <- j:
	default:
		go h.worker(j)
	}
}

// worker serves j, then the connections dispatch hands it, until it has
// waited workerIdle for one or maxIdleWorkers others wait already.
func (h *Handler) worker(j connJob) {
	var idle *time.Timer
	var ws workerState
	defer ws.close()
	for {
		h.serveConn(j.nc, j.listenAddr, &ws)
		j = connJob{}
		if h.idleWorkers.Add(1) > maxIdleWorkers {
			h.idleWorkers.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case j = <-h.work:
			h.idleWorkers.Add(-1)
		case <-idle.C:
			h.idleWorkers.Add(-1)
			return
		}
	}
}

// workerState is what a connection worker keeps from one connection to
// the next.
type workerState struct {
	names addrNames
	// shots is where one-shot upstream connections wait; made at the
	// first one-shot dial.
	shots *shotPoller
}

// close closes what w holds of its own: the shotPoller, when a one-shot
// dial made one. It reads w.shots when it runs, not when it is deferred
// (the poller is made after the worker starts).
func (w *workerState) close() {
	w.shots.close()
}

// poller returns w's shotPoller, made at the first call.
func (w *workerState) poller() (*shotPoller, error) {
	if w.shots == nil {
		pl, err := newShotPoller()
		if err != nil {
			return nil, err
		}
		w.shots = pl
	}
	return w.shots, nil
}

// serveConn runs one client connection; ws is its worker's.
func (h *Handler) serveConn(nc net.Conn, listenAddr string, ws *workerState) {
	st := h.state.Load()
	c := &clientConn{h: h, nc: nc, listenAddr: listenAddr, serial: h.serial.Add(1), work: ws}
	c.remoteAddr, c.remotePort = ws.names.remote.split(nc.RemoteAddr())
	c.localAddr, c.localPort = ws.names.local.split(nc.LocalAddr())
	h.conns.add(c)
	defer h.conns.remove(c)
	if h.draining.Load() {
		nc.Close()
		return
	}
	srv := st.Snap.Routes.Default(listenAddr)
	if srv == nil {
		nc.Close()
		return
	}
	if cfg := st.tls[listenAddr]; cfg != nil {
		tc := tls.Server(nc, cfg)
		hsTimeout := srv.Config.ClientHeaderTimeout
		if hsTimeout > 0 {
			tc.SetDeadline(time.Now().Add(hsTimeout))
		}
		if err := tc.Handshake(); err != nil {
			h.Log.Debug("tls handshake failed", "client", nc.RemoteAddr().String(), "err", err)
			nc.Close()
			return
		}
		tc.SetDeadline(time.Time{})
		c.nc, c.tls = tc, true
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			c.rawConn, c.watchDone = rc, make(chan bool, 1)
			c.watchFn, c.peekFn = c.watch, c.peek
		}
	}
	c.composeFn = c.compose
	c.port, _ = strconv.Atoi(c.localPort)
	if (c.tls && c.port == 443) || (!c.tls && c.port == 80) {
		c.port = 0
	}
	cs := srv.Config
	cfg := http1.DefaultConnConfig()
	cfg.Head.HeaderBufferSize = int(cs.ClientHeaderBufferSize)
	cfg.Head.LargeBufferSize = int(cs.LargeClientHeaderBuffers.Size)
	cfg.Head.LargeBufferCount = cs.LargeClientHeaderBuffers.Num
	cfg.Head.UnderscoresInHeaders = cs.UnderscoresInHeaders
	cfg.Head.IgnoreInvalidHeaders = cs.IgnoreInvalidHeaders
	cfg.Head.MergeSlashes = cs.MergeSlashes
	cfg.ClientHeaderTimeout = cs.ClientHeaderTimeout
	lc := srv.Conf
	cfg.Limits = http1.RequestLimits{
		ClientMaxBodySize: lc.ClientMaxBodySize,
		ClientBodyTimeout: lc.ClientBodyTimeout,
		SendTimeout:       lc.SendTimeout,
		KeepaliveTimeout:  lc.KeepaliveTimeout,
		KeepaliveRequests: lc.KeepaliveRequests,
	}
	cfg.ServerName = ServerInfo{Version: h.Version, Tokens: lc.ServerTokens}.name()
	cfg.Logger = h.Log
	cfg.Stopping = &h.draining
	http1.Serve(c.nc, &cfg, c)
}

// name is the Server header value: "wsgate/<version>" with server_tokens
// on, "wsgate" with it off.
func (s ServerInfo) name() string {
	if s.Tokens && s.Version != "" {
		return "wsgate/" + s.Version
	}
	return "wsgate"
}

// Drain stops new requests on open connections: idle keep-alive
// connections are closed at once, busy ones after their current response.
// It is the first step of a graceful stop; Wait waits for the rest.
func (h *Handler) Drain() {
	h.draining.Store(true)
	h.conns.mu.Lock()
	for c := range h.conns.conns {
		if !c.busy.Load() {
			// Unblocks a read of the next request head; Serve then
			// closes the connection.
			c.nc.SetReadDeadline(time.Now())
		}
	}
	h.conns.mu.Unlock()
}

// Wait blocks until every client connection has ended, or timeout passes;
// it reports whether all ended.
func (h *Handler) Wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { h.conns.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// CloseConns closes every client connection at once (fast stop).
func (h *Handler) CloseConns() {
	h.draining.Store(true)
	h.conns.mu.Lock()
	for c := range h.conns.conns {
		c.nc.Close()
	}
	h.conns.mu.Unlock()
}

// addrNames keeps a worker's last remote and local address texts: the
// next connection from the same client address, or to the same local
// address, reuses them instead of formatting them again.
type addrNames struct{ remote, local addrName }

// addrName is the host and port text of the last address split.
type addrName struct {
	ip         net.IP
	zone       string
	port       int
	host, text string // host; port as text
}

// split returns a's host and port as $remote_addr and $remote_port (or
// $server_addr, $server_port) show them: what net.SplitHostPort makes
// of a.String().
func (n *addrName) split(a net.Addr) (host, port string) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return splitHostPort(a)
	}
	if len(ta.IP) == 0 {
		return splitHostPort(a)
	}
	if n.host == "" || !ta.IP.Equal(n.ip) || ta.Zone != n.zone {
		n.ip, n.zone = ta.IP, ta.Zone
		n.host = ta.IP.String()
		if ta.Zone != "" {
			n.host += "%" + ta.Zone
		}
		n.port, n.text = -1, ""
	}
	if ta.Port != n.port {
		n.port, n.text = ta.Port, strconv.Itoa(ta.Port)
	}
	return n.host, n.text
}

func splitHostPort(a net.Addr) (host, port string) {
	if a == nil {
		return "", ""
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), ""
	}
	return host, port
}

// reqHeaders adapts a parsed request's header lines to HeaderList.
type reqHeaders []http1.Header

func (h *reqHeaders) Len() int                      { return len(*h) }
func (h *reqHeaders) At(i int) (name, value []byte) { return (*h)[i].Name, (*h)[i].Value }

// fillHeaders copies header lines into vars.Header values without copying
// bytes: the strings alias the request's buffer, which outlives the request
// (and its access log line) because the next head is parsed only after the
// handler returns.
func fillHeaders(dst []vars.Header, src []http1.Header) []vars.Header {
	dst = dst[:0]
	for _, h := range src {
		dst = append(dst, vars.Header{Name: bstr(h.Name), Value: bstr(h.Value)})
	}
	return dst
}
