package proxy

import (
	"log/slog"
	"net"
	"strconv"
	"syscall"
	"wsgate/internal/connstats"

	"wsgate/internal/exchange"
	"wsgate/internal/netpoll"
	"wsgate/internal/snapshot"
	"wsgate/internal/tunnel"
	"wsgate/internal/vars"
)

// Handler is the proxy content handler of every location that proxies.
// One Handler lives as long as the process; the request pipeline hands it
// each request with the location it was routed to, in the snapshot that
// request loaded, and requests and tunnels in flight keep that snapshot.
type Handler struct {
	// Tunnels holds the live tunnels (reload and shutdown close them).
	Tunnels *tunnel.Registry
	// Buffers lends relay buffers to tunnels.
	Buffers *tunnel.BufferPool
	// Log receives wsgate's own messages (nginx's error_log).
	Log *slog.Logger
	// Observer, when set, is told of each request, upstream try and
	// tunnel (see Observer). nil: nothing is built for it.
	Observer Observer
	// Finish is the log phase of a request a tunnel took over, run when
	// the tunnel ends; nil writes no log line for tunnels.
	Finish Finisher
	// Conns, when set, counts client connections for stub_status: a
	// tunnel that took a client connection over ends its request and
	// its connection there when it ends (connstats.Counters.TunnelDone).
	Conns *connstats.Counters

	handshakes handshakeRates // ws_handshake_rate
}

// Finisher is the log phase of a request whose connection a tunnel took
// over (pipeline.Pipeline is one): the access log lines, then
// ObserveRequest.
type Finisher interface {
	Finish(loc *snapshot.Loc, vc *vars.Ctx)
}

// Local is what one serving goroutine keeps from one connection to the
// next: the Waiter that one-shot upstream connections wait through (their
// sockets wait in the process's event loops, netpoll.Default, not in a
// set of the goroutine's own). The zero value is ready; Close releases
// what it holds, when the goroutine ends.
type Local struct {
	waiter netpoll.Waiter
	// conn is the proxy's state of the last connection served here,
	// reused by the next (Conn): a fresh connection (a WebSocket's
	// handshake, a dial per request) then costs neither its allocation
	// nor its buffers' growth, as the next request of a keep-alive one.
	conn *clientConn
}

// Close releases what l holds: nothing that outlives the goroutine, as a
// Waiter holds no descriptor; kept so that the server's call needs no
// change when Local holds more.
func (l *Local) Close() {}

// ContentHandler is the proxy as the content handler of one client
// connection's requests (the request pipeline's pipeline.Content).
type ContentHandler interface {
	// ServeContent proxies r, routed to loc, and answers it through w. vc
	// holds the request's variables; the proxy adds $upstream_* and
	// $proxy_*. A WebSocket the upstream accepts becomes a tunnel that
	// takes the client's stream through w.Upgrade: the result is then
	// Detached and the tunnel logs the request when it ends.
	ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result
}

// Conn returns the proxy's state for one client connection. local is the
// serving goroutine's, kept from one connection to the next; nil means
// none is kept.
func (h *Handler) Conn(cn *exchange.Conn, local *Local) ContentHandler {
	if local == nil {
		local = new(Local)
	}
	c := local.conn
	if c == nil {
		c = new(clientConn)
		c.watchDone = make(chan bool, 1)
		c.watchFn, c.peekFn, c.composeFn, c.composeUpFn = c.watch, c.peek, c.compose, c.composeUp
		local.conn = c
	}
	// What a connection sets; the per-request state is reset where each
	// request begins, as on a keep-alive connection's next request.
	c.h, c.nc, c.tls, c.work = h, cn.NetConn, cn.TLS, local
	c.remoteAddr, c.remotePort, c.localAddr, c.localPort = cn.RemoteAddr, cn.RemotePort, cn.LocalAddr, cn.LocalPort
	c.rawConn, c.watchUp, c.watchHeld, c.gone = nil, nil, nil, false
	var sc syscall.Conn
	switch nc := c.nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *netpoll.Conn:
		sc = nc
	}
	if sc != nil {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rawConn = rc
		}
	}
	c.port, _ = strconv.Atoi(c.localPort)
	if (c.tls && c.port == 443) || (!c.tls && c.port == 80) {
		c.port = 0
	}
	return c
}

// reqHeaders adapts a request's header lines to HeaderList.
type reqHeaders []exchange.Header

func (h *reqHeaders) Len() int                      { return len(*h) }
func (h *reqHeaders) At(i int) (name, value []byte) { return (*h)[i].Name, (*h)[i].Value }

// fillHeaders copies header lines into vars.Header values without copying
// bytes: the strings alias the lines' buffer, which outlives the request
// (and its access log line).
func fillHeaders(dst []vars.Header, src []exchange.Header) []vars.Header {
	dst = dst[:0]
	for _, h := range src {
		dst = append(dst, vars.Header{Name: bstr(h.Name), Value: bstr(h.Value)})
	}
	return dst
}
