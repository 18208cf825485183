package proxy

import (
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"

	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/vars"
)

// Handler serves the requests of client connections with the published
// snapshot. One Handler lives as long as the process; a reload publishes
// a new snapshot, and requests and tunnels in flight keep the one they
// started with.
type Handler struct {
	// Snapshot is the published configuration; each request loads it
	// once. The server stores a new one on reload.
	Snapshot *atomic.Pointer[snapshot.Snapshot]
	// Tunnels holds the live tunnels (reload and shutdown close them).
	Tunnels *tunnel.Registry
	// Buffers lends relay buffers to tunnels.
	Buffers *tunnel.BufferPool
	// Log receives wsgate's own messages (nginx's error_log).
	Log *slog.Logger
	// Observer, when set, is told of each request, upstream try and
	// tunnel (see Observer). nil: nothing is built for it.
	Observer Observer
}

// Conn is one accepted client connection as the server hands it over.
type Conn struct {
	// NetConn is the client connection, after any TLS handshake.
	NetConn net.Conn
	// ListenAddr is the listen address it was accepted on, as the
	// configuration names it (route.Table's key).
	ListenAddr string
	// TLS is set for a connection accepted on "listen ... ssl".
	TLS bool
	// Serial is $connection.
	Serial uint64
	// RemoteAddr, RemotePort, LocalAddr and LocalPort are
	// $remote_addr, $remote_port, $server_addr and $server_port.
	RemoteAddr, RemotePort string
	LocalAddr, LocalPort   string
	// Local is the serving goroutine's, kept from one connection to the
	// next; nil means none is kept.
	Local *Local
}

// Local is what one serving goroutine keeps from one connection to the
// next: the epoll set that one-shot upstream connections wait in. The
// zero value is ready; Close releases it when the goroutine ends.
type Local struct {
	// shots is made at the first one-shot dial.
	shots *shotPoller
}

// poller returns l's shotPoller, made at the first call.
func (l *Local) poller() (*shotPoller, error) {
	if l.shots == nil {
		pl, err := newShotPoller()
		if err != nil {
			return nil, err
		}
		l.shots = pl
	}
	return l.shots, nil
}

// Close releases what l holds.
func (l *Local) Close() {
	l.shots.close()
	l.shots = nil
}

// ConnHandler serves the requests of one client connection, one at a
// time, in the order they arrive.
type ConnHandler interface {
	// ServeRequest answers req through w. req's bytes are valid until it
	// returns; a tunnel takes over the client's stream through w.Upgrade.
	ServeRequest(w ResponseWriter, req *http1.Request)
}

// Conn returns the handler of the requests of one client connection. The
// server runs the connection's protocol loop and calls it per request.
func (h *Handler) Conn(cn *Conn) ConnHandler {
	c := &clientConn{
		h: h, nc: cn.NetConn, listenAddr: cn.ListenAddr, tls: cn.TLS, serial: cn.Serial, work: cn.Local,
		remoteAddr: cn.RemoteAddr, remotePort: cn.RemotePort, localAddr: cn.LocalAddr, localPort: cn.LocalPort,
	}
	if c.work == nil {
		c.work = new(Local)
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
	return c
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
