package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// attempt is one try at one peer: the lease (nil for a proxy_pass with
// variables whose host is not an upstream), the connection and its reader.
type attempt struct {
	lease  *upstream.Lease
	peer   upstream.Peer
	conn   net.Conn
	raw    syscall.RawConn // conn's socket once known (send); nil before
	br     *bufio.Reader
	reused bool
	reqs   int
	dialed time.Time
	// start is when this try began (nginx: u->start_time per
	// ngx_http_upstream_connect); $upstream_*_time count from it.
	start time.Time
	// connected is when the connection was ready; sentBody is set once
	// a body byte was consumed from the client.
	connected time.Time
	sentBody  bool
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// target is where a request goes: a pool, or one address of an evaluated
// proxy_pass.
type target struct {
	pool      *upstream.Pool
	addr      string // host:port when pool is nil
	host      string // for TLS and logs
	tls       bool
	proxyHost []byte
}

// forward proxies req to the location's upstream and relays the answer; a
// WebSocket (or allowed) upgrade that the upstream accepts becomes a tunnel.
// It returns the status to log.
func (c *clientConn) forward(w ResponseWriter, req *http1.Request, snap *snapshot.Snapshot, plan *snapshot.Loc, lc *config.LocConf) int {
	loc := plan
	upgrade := req.Upgrade != nil
	isWS := upgrade && http1.TokenIn(req.Upgrade, "websocket") && req.HasToken("Connection", "upgrade")
	allowTunnel := isWS || (upgrade && allowedUpgrade(lc.WS.AllowUpgrades, req.Upgrade))
	variant := isWS && lc.WS.Upgrade
	if isWS {
		if status, reason := checkHandshake(req); status != 0 {
			c.h.Log.Info("bad websocket handshake", "client", c.remoteAddr, "uri", c.vc.RequestURI, "reason", reason)
			return c.refuseHandshake(w, req, plan, status)
		}
	}

	// Where to: the static pool, or the evaluated proxy_pass.
	var tg target
	var evaluatedURI []byte
	c.vc.Proxied = true
	pp := lc.ProxyPass
	if loc.PassURL != nil {
		v := loc.PassURL.Append(nil, &c.vc)
		pu, err := snapshot.ParsePassURL(v)
		if err != nil {
			c.h.Log.Error("bad proxy_pass value", "value", string(v), "err", err)
			return c.writeError(w, req, plan, KindBadURL.Status())
		}
		evaluatedURI = pu.URI
		tg.proxyHost = pu.ProxyHost()
		tg.tls = pu.TLS
		tg.host = string(pu.Host)
		c.vc.ProxyHost = string(tg.proxyHost)
		c.vc.ProxyPort = string(pu.AppendProxyPort(nil))
		if p := snap.Upstreams.Pool(upstream.UpstreamKey(tg.host)); p != nil && len(pu.PortText) == 0 {
			tg.pool = p
		} else {
			addr, err := resolveOne(tg.host, lc.Resolver, lc.ResolverTimeout)
			if err != nil {
				c.h.Log.Error("resolving proxy_pass host", "host", tg.host, "err", err)
				return c.writeError(w, req, plan, KindResolve.Status())
			}
			tg.addr = net.JoinHostPort(addr, strconv.Itoa(pu.Port))
		}
	} else {
		tg.pool = loc.Pool
		tg.tls = pp.Scheme == "https"
		tg.host = pp.Host
		c.vc.ProxyHost = plan.ProxyHost
		c.vc.ProxyPort = plan.ProxyPort
	}

	ct := snapshot.ClientTarget{
		RequestURI: req.URI,
		URI:        req.NormalizedPath,
		Args:       req.Query,
		Quoted:     snapshot.PathQuoted(req.URI),
		EmptyPath:  len(req.Path) == 0,
	}
	var err error
	c.tgt, err = plan.Target.Append(c.tgt[:0], &ct, evaluatedURI)
	if err != nil {
		c.h.Log.Error("building upstream uri", "err", err)
		return c.writeError(w, req, plan, KindBadURL.Status())
	}

	// The body: streamed as it comes (Content-Length, or chunked to an
	// HTTP/1.1 upstream); a chunked body to an HTTP/1.0 upstream is spooled
	// first so that it can carry a Content-Length, as nginx does.
	bodyLen := req.ContentLength
	var spool *spooled
	if req.Chunked {
		bodyLen = -1
		if !plan.Headers.HTTP11(variant) {
			spool, err = spoolBody(req.Body)
			if err != nil {
				defer spool.close()
				return c.writeError(w, req, plan, bodyStatus(err))
			}
			defer spool.close()
			bodyLen = spool.size
			if spool.file == nil {
				// All of the body is in memory: $request_body has it, as
				// nginx's has a body read into client_body_buffer_size.
				c.vc.RequestBody, c.vc.HasRequestBody = bstr(spool.mem.Bytes()), true
			}
		}
	}
	if !lc.ProxyPassRequestBody {
		bodyLen = -1
	}
	c.reqHL = reqHeaders(req.Headers)
	ur := snapshot.UpstreamRequest{
		Method:     req.Method,
		Target:     c.tgt,
		Headers:    &c.reqHL,
		BodyLength: bodyLen,
		Chunked:    req.Chunked && spool == nil && lc.ProxyPassRequestBody,
		ProxyHost:  tg.proxyHost,
		Upgrade:    variant,
		Vars:       &c.vc,
	}
	c.buf = plan.Headers.AppendRequest(c.buf[:0], &ur)
	head := c.buf
	hasBody := lc.ProxyPassRequestBody && (bodyLen > 0 || ur.Chunked)
	// One head written once, to an HTTP/1.0 upstream (never kept alive,
	// never a tunnel): such a connection can skip net's dialer.
	c.oneShot = !hasBody && !upgrade && !tg.tls && !plan.Headers.HTTP11(variant)

	// Attempts, with proxy_next_upstream.
	tried := &c.tried
	if allowTunnel {
		// The lease keeps its Tried as long as a tunnel lasts: a tunnel
		// gets its own, so that it does not keep the connection's state.
		tried = new(upstream.Tried)
	}
	tried.Reset()
	// The request's start is the first try's: nginx's times come from one
	// clock reading per event.
	start := c.vc.Start
	var key upstream.PickKey
	if tg.pool != nil {
		key.ClientIP = c.clientIP()
		if loc.HashKey != nil {
			key.Hash = loc.HashKey.Append(nil, &c.vc)
		}
	}
	resp := &c.resp
	var at *attempt
	for n := 1; ; n++ {
		tryStart := start
		if n > 1 {
			tryStart = time.Now()
		}
		a, kind, err := c.try(tg, key, tried, lc, head, req, spool, hasBody, tryStart)
		if err == nil {
			var watching bool
			watching, err = c.readHead(a, resp, lc, req)
			if watching && c.unwatchClient() {
				// The client went away while the upstream worked: nginx
				// closes both and logs 499, sending nothing.
				c.h.Log.Info("client prematurely closed connection, so upstream connection is closed too", "upstream", a.peer.Name, "client", c.remoteAddr)
				c.record(a, 0, start)
				a.conn.Close()
				a.done(upstream.Success)
				w.WriteError(http1.StatusClientClosedRequest)
				return http1.StatusClientClosedRequest
			}
			if err == nil {
				// This try's lease is still open: Left counts it as remaining.
				if nu := statusNext(resp.Status); nu != 0 && lc.ProxyNextUpstream&nu != 0 && tried.Left() > 1 && c.canRetry(tried, lc, n, start, req, hasBody, spool) {
					c.record(a, resp.Status, start)
					a.conn.Close()
					a.done(upstream.FailHTTP)
					continue
				}
				at = a
				break
			}
			kind = Classify(err)
			c.h.Log.Error(kind.String(), "upstream", a.peer.Name, "err", err, "client", c.remoteAddr)
			c.recordFailed(a, kind, true)
			a.conn.Close()
			a.done(outcomeOf(kind))
		}
		if kind == KindClientBody {
			if isTimeout(err) {
				// client_body_timeout: nginx logs 408 and closes.
				w.CloseAfter()
				return 408
			}
			return c.writeError(w, req, plan, bodyStatus(err))
		}
		if kind == KindNoLive {
			c.h.Log.Error("no live upstreams", "upstream", tg.poolName(), "client", c.remoteAddr)
		}
		if kind != KindNoLive && kind.NextUpstream()&lc.ProxyNextUpstream != 0 && c.canRetry(tried, lc, n, start, req, hasBody, spool) {
			continue
		}
		return c.writeError(w, req, plan, kind.Status())
	}

	if snap.Vars.UsesUpstreamHeaders() {
		c.upHdrs = fillHeaders(c.upHdrs, resp.Headers)
		c.vc.UpstreamHeaders = c.upHdrs
	}
	if resp.Status == 101 {
		return c.upgrade(w, req, plan, lc, at, resp, upgrade, allowTunnel, isWS, start)
	}
	return c.relay(w, req, plan, at, resp, start)
}

func (tg *target) poolName() string {
	if tg.pool != nil {
		return tg.pool.Name()
	}
	return tg.addr
}

// try picks a peer, connects (or reuses an idle connection) and sends the
// request head and body; start is when the try began. kind classifies err.
func (c *clientConn) try(tg target, key upstream.PickKey, tried *upstream.Tried, lc *config.LocConf, head []byte, req *http1.Request, spool *spooled, hasBody bool, start time.Time) (*attempt, ErrorKind, error) {
	// One attempt at a time per connection: the previous one is finished
	// (closed or back in the pool) before the next try starts.
	a := &c.att
	*a = attempt{start: start}
	if tg.pool != nil {
		lease, err := tg.pool.Pick(key, tried)
		if err != nil {
			// nginx logs the upstream's name for a try that found no
			// peer (ngx_http_upstream_next, NGX_HTTP_UPSTREAM_FT_NOLIVE).
			c.vc.Upstream = append(c.vc.Upstream, vars.UpstreamTry{Addr: tg.pool.Name(), Status: KindNoLive.Status(), ConnectTime: -1})
			return nil, KindNoLive, err
		}
		a.lease, a.peer = lease, *lease.Peer()
	} else {
		a.peer = upstream.Peer{Network: "tcp", Addr: tg.addr, Name: tg.addr, Server: tg.host}
	}
	for {
		if a.lease != nil {
			if ic, ok := a.lease.TakeIdle(); ok {
				a.conn, a.raw, a.reused, a.reqs, a.dialed = ic.Conn, ic.Raw, true, ic.Requests, ic.Dialed
			}
		}
		if a.conn == nil {
			conn, err := c.dial(a.peer.Network, a.peer.Addr, lc.ProxyConnectTimeout, a.start)
			if err != nil {
				kind := KindConnect
				if isTimeout(err) {
					kind = KindConnectTimeout
				}
				c.h.Log.Error("connecting to upstream", "upstream", a.peer.Name, "err", err, "client", c.remoteAddr)
				c.recordFailed(a, kind, false)
				a.done(outcomeOf(kind))
				return nil, kind, &UpstreamError{Kind: kind, Peer: a.peer.Name, Err: err}
			}
			if tg.tls {
				// proxy_ssl_verify and proxy_ssl_server_name are off by
				// default in nginx: no verification, no SNI.
				tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
				if lc.ProxyConnectTimeout > 0 {
					tc.SetDeadline(time.Now().Add(lc.ProxyConnectTimeout))
				}
				if err := tc.Handshake(); err != nil {
					conn.Close()
					c.recordFailed(a, KindConnect, false)
					a.done(upstream.FailError)
					return nil, KindConnect, &UpstreamError{Kind: KindConnect, Peer: a.peer.Name, Err: err}
				}
				tc.SetDeadline(time.Time{})
				conn = tc
			}
			a.conn, a.dialed = conn, time.Now()
			a.connected = a.dialed
		} else {
			a.connected = time.Now()
		}
		err := c.send(a, lc, head, req, spool, hasBody)
		if err == nil {
			return a, 0, nil
		}
		a.conn.Close()
		a.conn, a.raw = nil, nil
		var cbe *clientBodyError
		if errors.As(err, &cbe) {
			// The client's body was bad, too slow (client_body_timeout) or
			// cut short: not the upstream's fault, and no reason to retry.
			a.done(upstream.Success)
			return nil, KindClientBody, cbe.err
		}
		if a.reused && !a.sentBody {
			// A cached connection the upstream closed meanwhile: nginx
			// retries on a fresh one (ngx_http_upstream_next, peer.cached).
			a.reused = false
			continue
		}
		kind := KindConnect
		if isTimeout(err) {
			kind = KindSendTimeout
		}
		var se *http1.StatusError
		if errors.As(err, &se) {
			// The client's body was bad or too slow: not the upstream's fault.
			a.done(upstream.Success)
			return nil, KindClientBody, err
		}
		c.recordFailed(a, kind, true)
		a.done(outcomeOf(kind))
		return nil, kind, &UpstreamError{Kind: kind, Peer: a.peer.Name, Err: err}
	}
}

// dial connects to an upstream peer within timeout (proxy_connect_timeout;
// 0 means none) counted from start. The deadline travels in the
// connection's own deadlineCtx, which net's connect enforces on the
// socket, rather than in a context.WithDeadline with its timer and
// cancellation per connection.
// proxy_socket_keepalive is off by default in nginx: no TCP keepalive,
// which spares four setsockopt calls per dial.
func (c *clientConn) dial(network, addr string, timeout time.Duration, start time.Time) (net.Conn, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = start.Add(timeout)
	}
	if c.oneShot && network == "tcp" {
		// The one-shot connection is closed before the request ends, so
		// the connection's shotConn can be the same every time; its
		// socket waits in the worker's shotPoller.
		pl, err := c.work.poller()
		if err != nil {
			return nil, err
		}
		if ok, err := dialOneShot(&c.shot, pl, addr, deadline); ok {
			if err != nil {
				return nil, err
			}
			return &c.shot, nil
		}
	}
	d := net.Dialer{KeepAlive: -1}
	if timeout <= 0 {
		return d.Dial(network, addr)
	}
	c.dialCtx.deadline = deadline
	return d.DialContext(&c.dialCtx, network, addr)
}

// dialOneShot connects sc to addr, an IP literal with a port, for a
// connection that carries one request head and is then read to its end
// and closed. It does without net's dialer: on loopback the connect has
// finished when the call returns, and then it costs no wait for
// writability, no local address lookup and no TCP_NODELAY (nginx sets
// none on such a connection either: one write, then only reads). socket,
// connect and getpeername are made directly (none of them blocks on a
// non-blocking socket), with the address on the stack. The socket waits,
// when it must, in pl (see shotConn). ok is false when addr is not an IP
// literal, for net's dialer to take over. deadline is
// proxy_connect_timeout's; zero means none.
func dialOneShot(sc *shotConn, pl *shotPoller, addr string, deadline time.Time) (ok bool, err error) {
	ap, perr := netip.ParseAddrPort(addr)
	if perr != nil || ap.Addr().Zone() != "" {
		return false, nil
	}
	ip := ap.Addr().Unmap()
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	var sa4 syscall.RawSockaddrInet4
	var sa6 syscall.RawSockaddrInet6
	family, sa, salen := syscall.AF_INET, unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	port := ap.Port()
	if ip.Is6() {
		family, sa, salen = syscall.AF_INET6, unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
		sa6.Family = syscall.AF_INET6
		sa6.Addr = ip.As16()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], port)
	} else {
		sa4.Family = syscall.AF_INET
		sa4.Addr = ip.As4()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port)
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family), syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if e != 0 {
		return true, opErr(os.NewSyscallError("socket", e))
	}
	fd := int(r)
	_, _, e = syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(sa), salen)
	connected := false
	switch e {
	case 0, syscall.EISCONN:
		connected = true
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		// Connected already (loopback) when the peer's name is known.
		var peer syscall.RawSockaddrAny
		n := uint32(unsafe.Sizeof(peer))
		_, _, pe := syscall.RawSyscall(syscall.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&peer)), uintptr(unsafe.Pointer(&n)))
		connected = pe == 0
	default:
		syscall.Close(fd)
		return true, opErr(os.NewSyscallError("connect", e))
	}
	*sc = shotConn{fd: fd, name: addr, raddr: ap, pl: pl}
	if !connected {
		if err := sc.waitConnected(deadline); err != nil {
			sc.Close()
			return true, opErr(err)
		}
	}
	return true, nil
}

// shotPoller is where the sockets of one-shot upstream connections wait:
// an epoll set of its own, itself a file in Go's poller, into which a
// socket goes at its first read (or at a write or connect that must
// wait). A goroutine that waits for its socket waits for the set to
// become readable, under the set's read deadline. A socket leaves the set when it is closed (it is never
// duplicated), so such a connection costs no *os.File, no registration
// with Go's poller of its own and no epoll_ctl to leave. Each connection
// worker makes one at its first one-shot dial and closes it when it ends;
// only the goroutine that owns it may use it, one connection at a time.
type shotPoller struct {
	epfd  int
	f     *os.File // owns epfd
	rc    syscall.RawConn
	armed time.Time // f's read deadline; zero: none
	fn    func(fd uintptr) bool
	// The wait in progress: the connection, the operation and its
	// buffer, and the result.
	c    *shotConn
	op   int
	p    []byte
	n    int
	errn syscall.Errno
}

// Operations a shotPoller waits for.
const (
	shotRead = iota
	shotWrite
	shotConnect
)

// newShotPoller makes an epoll set and puts it in Go's poller.
func newShotPoller() (*shotPoller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating epoll set: %w", os.NewSyscallError("epoll_create1", err))
	}
	// Non-blocking, so that os.NewFile puts it in Go's poller.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("setting epoll set non-blocking: %w", err)
	}
	pl := &shotPoller{epfd: fd, f: os.NewFile(uintptr(fd), "epoll")}
	pl.rc, err = pl.f.SyscallConn()
	if err != nil {
		pl.f.Close()
		return nil, fmt.Errorf("polling epoll set: %w", err)
	}
	pl.fn = pl.try
	return pl, nil
}

// close closes the set; no connection may be waiting in it.
func (pl *shotPoller) close() {
	if pl != nil {
		pl.f.Close()
	}
}

// wait does op on c with p until it is done, fails, or deadline (zero:
// none) passes, trying it first. n is what a read or write moved. The
// set's read deadline is the wait's; it stays armed after the wait, for
// the next one with the same deadline.
func (pl *shotPoller) wait(c *shotConn, op int, p []byte, deadline time.Time) (n int, err error) {
	if err := pl.register(c, op); err != nil {
		return 0, err
	}
	if !deadline.Equal(pl.armed) {
		pl.f.SetReadDeadline(deadline)
		pl.armed = deadline
	}
	pl.c, pl.op, pl.p, pl.n, pl.errn = c, op, p, 0, 0
	err = pl.rc.Read(pl.fn)
	n, errn := pl.n, pl.errn
	pl.c, pl.p = nil, nil
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, os.ErrDeadlineExceeded
		}
		return 0, err
	}
	if errn != 0 {
		return n, errn
	}
	return n, nil
}

// register puts c's socket in the set for what op waits for: readability,
// and writability only for a write or a connect (a socket that is
// writable at once would wake the set for nothing). It is edge-triggered:
// data, end of input or an error that arrive after the registration wake
// the set once each, and what is there at registration wakes it too.
func (pl *shotPoller) register(c *shotConn, op int) error {
	events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP | unix.EPOLLET)
	if op != shotRead || c.events&syscall.EPOLLOUT != 0 {
		events |= syscall.EPOLLOUT
	}
	if c.events == events {
		return nil
	}
	ctl := syscall.EPOLL_CTL_ADD
	if c.events != 0 {
		ctl = syscall.EPOLL_CTL_MOD
	}
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(pl.epfd, ctl, c.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	c.events = events
	return nil
}

// try is the set's RawConn.Read callback: it tries the wait's operation
// on its socket and reports whether it is done (false: not ready yet).
func (pl *shotPoller) try(uintptr) bool {
	c := pl.c
	for {
		var r uintptr
		var e syscall.Errno
		switch pl.op {
		case shotRead:
			r, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(pl.p))), uintptr(len(pl.p)))
		case shotWrite:
			r, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(unsafe.SliceData(pl.p))), uintptr(len(pl.p)))
		default:
			n, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
			if err != nil {
				pl.errn = err.(syscall.Errno)
				return true
			}
			switch e := syscall.Errno(n); e {
			case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
				return false
			case 0, syscall.EISCONN:
				// Against spurious wake-ups, as net's connect.
				_, err := syscall.Getpeername(c.fd)
				return err == nil
			default:
				pl.errn = e
				return true
			}
		}
		switch e {
		case 0:
			pl.n = int(r)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		pl.errn = e
		return true
	}
}

// shotConn is a connected TCP socket of a one-shot upstream connection
// (dialOneShot): reads and writes are made directly, and only one that
// finds the socket not ready waits, in its worker's shotPoller, under the
// deadline set for it. A deadline costs nothing until then. Close and the
// other methods are for the goroutine that owns the connection; shutdown
// may come from another.
type shotConn struct {
	fd     int // -1 once closed
	name   string
	raddr  netip.AddrPort
	pl     *shotPoller
	events uint32 // what fd is registered for in pl; 0: not in it
	rd, wd time.Time
}

// Read reads through the poller: the socket goes into the set at the
// first read, which on the request path almost always waits for the
// upstream's answer, so that the wait costs no read that finds nothing
// before the registration.
func (c *shotConn) Read(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "read", Path: c.name, Err: os.ErrClosed}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.pl.wait(c, shotRead, p, c.rd)
	if err != nil {
		return 0, c.pathError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *shotConn) Write(p []byte) (int, error) {
	if c.fd < 0 {
		return 0, &os.PathError{Op: "write", Path: c.name, Err: os.ErrClosed}
	}
	n := 0
	for n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		switch e {
		case 0:
			n += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			m, err := c.pl.wait(c, shotWrite, p[n:], c.wd)
			if err != nil {
				return n, c.pathError("write", err)
			}
			n += m
		default:
			return n, c.pathError("write", e)
		}
	}
	return n, nil
}

// pathError is err as an *os.File's: "read 127.0.0.1:3000: ...".
func (c *shotConn) pathError(op string, err error) error {
	return &os.PathError{Op: op, Path: c.name, Err: err}
}

// writeNow writes as much of p as the socket takes at once and returns
// how much that was.
func (c *shotConn) writeNow(p []byte) int {
	n := 0
	for n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(c.fd), uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || int(r) <= 0 {
			break
		}
		n += int(r)
	}
	return n
}

// Close closes the socket, which takes it out of its shotPoller's set.
func (c *shotConn) Close() error {
	if c.fd < 0 {
		return &os.PathError{Op: "close", Path: c.name, Err: os.ErrClosed}
	}
	fd := c.fd
	c.fd = -1
	if err := syscall.Close(fd); err != nil {
		return c.pathError("close", err)
	}
	return nil
}

// shutdown ends both directions of the socket, from any goroutine while
// the owner has not closed it: a read waiting in the set wakes to the end
// of input.
func (c *shotConn) shutdown() {
	syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
}

func (c *shotConn) SetDeadline(t time.Time) error      { c.rd, c.wd = t, t; return nil }
func (c *shotConn) SetReadDeadline(t time.Time) error  { c.rd = t; return nil }
func (c *shotConn) SetWriteDeadline(t time.Time) error { c.wd = t; return nil }

func (c *shotConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// LocalAddr asks the socket (getsockname), as nothing on the request
// path needs it.
func (c *shotConn) LocalAddr() net.Addr {
	if c.fd >= 0 {
		switch sa, _ := syscall.Getsockname(c.fd); sa := sa.(type) {
		case *syscall.SockaddrInet4:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
		case *syscall.SockaddrInet6:
			return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		}
	}
	return &net.TCPAddr{}
}

// waitConnected waits for a connect in progress to finish, until deadline
// (zero: none), and returns its error (as net's connect does: SO_ERROR,
// then getpeername against spurious wake-ups).
func (c *shotConn) waitConnected(deadline time.Time) error {
	_, err := c.pl.wait(c, shotConnect, nil, deadline)
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError("connect", errno)
	}
	return err
}

// deadlineCtx is a context.Context with a deadline and nothing else. It is
// never cancelled: Done's channel never closes and AfterFunc never calls
// its function, so net's connect costs neither a timer nor a goroutine for
// it, and enforces the deadline as the socket's write deadline.
type deadlineCtx struct{ deadline time.Time }

// neverDone is deadlineCtx's Done channel; nothing ever closes it.
var neverDone = make(chan struct{})

func (x *deadlineCtx) Deadline() (time.Time, bool)  { return x.deadline, true }
func (x *deadlineCtx) Done() <-chan struct{}        { return neverDone }
func (x *deadlineCtx) Err() error                   { return nil }
func (x *deadlineCtx) Value(any) any                { return nil }
func (x *deadlineCtx) AfterFunc(func()) func() bool { return stopNothing }

// stopNothing is the stop function of deadlineCtx.AfterFunc: the function
// was never going to run.
func stopNothing() bool { return true }

// send writes the head and the body under proxy_send_timeout.
func (c *clientConn) send(a *attempt, lc *config.LocConf, head []byte, req *http1.Request, spool *spooled, hasBody bool) error {
	conn := a.conn
	if fc, ok := conn.(*shotConn); ok && !hasBody {
		// A head the socket takes at once (the usual case) needs no
		// deadline: proxy_send_timeout bounds a write that waits.
		n := fc.writeNow(head)
		if n == len(head) {
			return nil
		}
		head = head[n:]
	} else if !hasBody && lc.ProxySendTimeout > 0 {
		if a.raw == nil {
			if sc, ok := conn.(syscall.Conn); ok {
				a.raw, _ = sc.SyscallConn()
			}
		}
		if a.raw != nil {
			n := c.now.Write(a.raw, head)
			if n == len(head) {
				return nil
			}
			head = head[n:]
		}
	}
	if lc.ProxySendTimeout > 0 {
		conn.SetWriteDeadline(time.Now().Add(lc.ProxySendTimeout))
		defer conn.SetWriteDeadline(time.Time{})
	}
	if !hasBody {
		_, err := conn.Write(head)
		return err
	}
	bp := copyPool.Get().(*[]byte)
	defer copyPool.Put(bp)
	buf := *bp
	if spool != nil {
		if _, err := conn.Write(head); err != nil {
			return err
		}
		a.sentBody = true
		return spool.writeTo(conn, buf)
	}
	if _, err := conn.Write(head); err != nil {
		return err
	}
	var sizeLine [18]byte
	for {
		m, rerr := req.Body.Read(buf)
		if m > 0 {
			a.sentBody = true
			var err error
			if req.Chunked {
				line := strconv.AppendInt(sizeLine[:0], int64(m), 16)
				line = append(line, '\r', '\n')
				bufs := net.Buffers{line, buf[:m], crlfBytes}
				_, err = bufs.WriteTo(conn)
			} else {
				_, err = conn.Write(buf[:m])
			}
			if err != nil {
				return err
			}
			if lc.ProxySendTimeout > 0 {
				conn.SetWriteDeadline(time.Now().Add(lc.ProxySendTimeout))
			}
		}
		if rerr == io.EOF {
			if req.Chunked {
				_, err := conn.Write(lastChunk)
				return err
			}
			return nil
		}
		if rerr != nil {
			return &clientBodyError{rerr}
		}
	}
}

// clientBodyError is a failure reading the client's request body while
// sending it upstream. It keeps a client_body_timeout apart from a
// proxy_send_timeout: both are deadline errors.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading client request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

var (
	crlfBytes = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

// clientWatchDelay is how long the upstream may take to start its answer
// before the client connection is watched for a close (watchClient). Most
// answers start sooner and cost no watch at all; a client that goes away
// while the upstream works longer is noticed from then on and answered 499
// (ngx_http_upstream_check_broken_connection notices it at once). An answer
// that starts within the delay is relayed, and logged with its status, even
// to a client that closed meanwhile.
const clientWatchDelay = 20 * time.Millisecond

// readHead reads the upstream's response head under proxy_read_timeout,
// watching the client for a close once the upstream has kept it waiting
// clientWatchDelay. It reports whether a watch was started; unwatchClient
// must then be called.
func (c *clientConn) readHead(a *attempt, resp *http1.Response, lc *config.LocConf, req *http1.Request) (watching bool, err error) {
	c.upRd = upstreamReader{c: c, conn: a.conn, timeout: lc.ProxyReadTimeout}
	if c.rawConn != nil {
		if lc.ProxyReadTimeout > 0 && lc.ProxyReadTimeout <= clientWatchDelay {
			watching = c.watchClient(a.conn)
		} else {
			c.upRd.watchPending = true
		}
	}
	a.br = readerPool.Get().(*bufio.Reader)
	a.br.Reset(&c.upRd)
	max := int(lc.ProxyBufferSize)
	for {
		err := resp.ReadHead(a.br, max)
		c.upRd.watchPending = false
		watching = watching || c.upRd.watching
		if err != nil {
			return watching, a.headError(err)
		}
		// 1xx other than 101 are interim answers nginx does not relay.
		if resp.Status >= 100 && resp.Status < 200 && resp.Status != 101 {
			continue
		}
		return watching, nil
	}
}

// upstreamReader is what an attempt's bufio.Reader reads: the upstream
// connection with proxy_read_timeout armed before each read of the socket
// ("between two successive read operations", as nginx re-arms it on each
// read event), so that a head and body already buffered cost no deadline.
// While watchPending, the first read waits at most clientWatchDelay before
// the client watch starts (watching), then goes on under the timeout.
type upstreamReader struct {
	c            *clientConn
	conn         net.Conn
	timeout      time.Duration // 0: none
	watchPending bool
	watching     bool
	armed        bool // a read deadline is set on conn
}

func (r *upstreamReader) Read(p []byte) (int, error) {
	if r.watchPending {
		r.watchPending = false
		r.armed = true
		r.conn.SetReadDeadline(time.Now().Add(clientWatchDelay))
		n, err := r.conn.Read(p)
		if n > 0 || err == nil || !isTimeout(err) {
			return n, err
		}
		r.watching = r.c.watchClient(r.conn)
	}
	switch {
	case r.timeout > 0:
		r.armed = true
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	case r.armed:
		r.armed = false
		r.conn.SetReadDeadline(time.Time{})
	}
	return r.conn.Read(p)
}

// headError classifies an error reading the upstream's response head.
func (a *attempt) headError(err error) error {
	switch {
	case errors.Is(err, http1.ErrHeaderTooBig):
		return &UpstreamError{Kind: KindTooBigHeader, Peer: a.peer.Name, Err: err}
	case errors.Is(err, http1.ErrInvalidHeader):
		return &UpstreamError{Kind: KindInvalidHeader, Peer: a.peer.Name, Err: err}
	case isTimeout(err):
		return &UpstreamError{Kind: KindReadTimeout, Peer: a.peer.Name, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &UpstreamError{Kind: KindPrematureClose, Peer: a.peer.Name, Err: err}
	}
	return &UpstreamError{Kind: KindConnect, Peer: a.peer.Name, Err: err}
}

// canRetry applies proxy_next_upstream's limits: tries left,
// proxy_next_upstream_tries and _timeout, and never resending a body that
// was streamed, nor a non-idempotent request once sent unless
// "non_idempotent" is listed (ngx_http_upstream_next).
func (c *clientConn) canRetry(tried *upstream.Tried, lc *config.LocConf, n int, start time.Time, req *http1.Request, hasBody bool, spool *spooled) bool {
	if tried.Left() <= 0 {
		return false
	}
	if lc.ProxyNextUpstreamTries > 0 && n >= lc.ProxyNextUpstreamTries {
		return false
	}
	if lc.ProxyNextUpstreamTimeout > 0 && time.Since(start) >= lc.ProxyNextUpstreamTimeout {
		return false
	}
	if hasBody && spool == nil && req.Body.BytesRead() > 0 {
		return false
	}
	if lc.ProxyNextUpstream&config.NextNonIdempotent == 0 {
		switch string(req.Method) {
		case "POST", "LOCK", "PATCH":
			return false
		}
	}
	return true
}

// record appends this try to $upstream_addr and friends; both times
// count from the try's start, as nginx's u->state does.
func (c *clientConn) record(a *attempt, status int, start time.Time) {
	c.recordAt(a, status, time.Now())
}

// recordAt is record with the response time taken at now.
func (c *clientConn) recordAt(a *attempt, status int, now time.Time) {
	t := vars.UpstreamTry{Addr: a.peer.Name, Status: status, ResponseTime: now.Sub(a.start)}
	if !a.reused {
		t.ConnectTime = a.connected.Sub(a.start)
	}
	c.vc.Upstream = append(c.vc.Upstream, t)
}

// recordFailed appends a try that got no usable response: nginx logs the
// status it would answer with (502, or 504 for a timeout) and, when the
// connect did not finish, "-" for $upstream_connect_time
// (ngx_http_upstream_next).
func (c *clientConn) recordFailed(a *attempt, kind ErrorKind, connected bool) {
	t := vars.UpstreamTry{Addr: a.peer.Name, Status: kind.Status(), ResponseTime: time.Since(a.start), ConnectTime: -1}
	if connected && !a.connected.IsZero() && !a.reused {
		t.ConnectTime = a.connected.Sub(a.start)
	}
	c.vc.Upstream = append(c.vc.Upstream, t)
}

func (a *attempt) done(o upstream.Outcome) {
	if a.br != nil {
		a.br.Reset(nil)
		readerPool.Put(a.br)
		a.br = nil
	}
	if a.lease != nil {
		a.lease.Done(o)
	}
}

// statusNext maps a response status to its proxy_next_upstream condition.
func statusNext(status int) config.NextUpstream {
	switch status {
	case 500:
		return config.NextHTTP500
	case 502:
		return config.NextHTTP502
	case 503:
		return config.NextHTTP503
	case 504:
		return config.NextHTTP504
	case 403:
		return config.NextHTTP403
	case 404:
		return config.NextHTTP404
	case 429:
		return config.NextHTTP429
	}
	return 0
}

func outcomeOf(k ErrorKind) upstream.Outcome {
	switch k {
	case KindConnectTimeout, KindReadTimeout, KindSendTimeout:
		return upstream.FailTimeout
	case KindInvalidHeader, KindTooBigHeader:
		return upstream.FailInvalidHeader
	}
	return upstream.FailError
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// relay sends the upstream's response to the client, streaming the body,
// and returns the connection to the keepalive cache when it can carry
// another request.
func (c *clientConn) relay(w ResponseWriter, req *http1.Request, plan *snapshot.Loc, a *attempt, resp *http1.Response, start time.Time) int {
	// One clock reading for the response time and the Date header.
	now := time.Now()
	c.recordAt(a, resp.Status, now)
	c.headAt = now
	cl, chunked := resp.BodyFraming(req.IsHEAD())
	body := &c.upBody
	body.Reset(a.br, cl, chunked)
	outLen := cl
	if chunked {
		outLen = -1
	} else if cl == 0 && !chunked && (req.IsHEAD() || resp.Status == 304) {
		// No body follows, but the client is told the length the
		// upstream declared (headers_out.content_length_n); none when it
		// declared none or chunked.
		outLen = resp.ContentLength
		if resp.Chunked {
			outLen = -1
		}
	}
	c.respHL = respHeaders(resp.Headers)
	c.up = snapshot.UpstreamResponse{Status: resp.Status, StatusLine: resp.StatusLine, Headers: &c.respHL}
	c.plan = plan
	err := w.WriteComposedHeader(resp.Status, outLen, c.composeFn)
	c.plan = nil
	status := resp.Status
	ok := err == nil
	if ok && !body.Empty() {
		// proxy_read_timeout is armed by the attempt's upstreamReader
		// before each read of the socket.
		bp := copyPool.Get().(*[]byte)
		_, cerr := io.CopyBuffer(w, body, *bp)
		copyPool.Put(bp)
		if cerr != nil {
			// The client must see the truncation: no last chunk.
			ok = false
			w.Abort()
			c.h.Log.Error("relaying upstream response", "upstream", a.peer.Name, "err", cerr, "client", c.remoteAddr)
		}
	}
	c.vc.Upstream[len(c.vc.Upstream)-1].ResponseLength = body.BytesRead()
	// The upstream side is finished once its body is read: hand the
	// connection back before the last flush to the client, so that the
	// client's next request finds it in the keepalive cache.
	// An HTTP/1.0 request asked the upstream to close (nginx's default
	// "Connection: close"): such a connection is never cached, or the next
	// request could race the upstream's FIN (nginx 1.22 needs
	// proxy_http_version 1.1 for keepalive too).
	if ok && body.Done() && !resp.ConnectionClose && a.lease != nil && a.br.Buffered() == 0 && plan.Headers.HTTP11(false) {
		a.conn.SetReadDeadline(time.Time{})
		a.lease.PutIdle(upstream.IdleConn{Conn: a.conn, Requests: a.reqs + 1, Dialed: a.dialed})
	} else {
		a.conn.Close()
	}
	a.done(upstream.Success)
	if ok {
		w.Flush()
	}
	return status
}

// compose appends the head of the proxied response in c.up for
// WriteComposedHeader; it is bound once per connection (composeFn) so that
// a response costs no closure.
func (c *clientConn) compose(dst []byte, f http1.Framing) []byte {
	c.host = append(c.host[:0], c.redirectHost()...)
	cr := snapshot.ClientResponse{
		Date:          http1.Date(c.headAt),
		ContentLength: f.ContentLength,
		Chunked:       f.Chunked,
		Host:          c.host,
		TLS:           c.tls,
		Vars:          &c.vc,
		Port:          c.port,
	}
	if f.KeepAlive {
		cr.Conn = snapshot.ConnKeepAlive
	}
	return c.plan.Response.AppendResponse(dst, &c.up, &cr)
}

// redirectHost is the host for absolute redirects: the request's, the
// server name, or the local address.
func (c *clientConn) redirectHost() string {
	if c.vc.Host != "" {
		return c.vc.Host
	}
	if c.vc.ServerName != "" {
		return c.vc.ServerName
	}
	return c.localAddr
}

// respHeaders adapts a parsed response's header lines to HeaderList.
type respHeaders []http1.Header

func (h *respHeaders) Len() int                      { return len(*h) }
func (h *respHeaders) At(i int) (name, value []byte) { return (*h)[i].Name, (*h)[i].Value }

// allowedUpgrade reports whether the client's Upgrade value v names one of
// the protocols ws_allow_upgrade lists (tokens compared case-insensitively,
// http1.TokenIn); such an upgrade is tunnelled like a WebSocket one.
func allowedUpgrade(allowed []string, v []byte) bool {
	for _, a := range allowed {
		if http1.TokenIn(v, a) {
			return true
		}
	}
	return false
}

// resolveOne resolves host for a proxy_pass with variables. Like nginx,
// a name needs a configured resolver; an IP literal does not.
func resolveOne(host string, resolvers []string, timeout time.Duration) (string, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.String(), nil
	}
	if len(resolvers) == 0 {
		return "", fmt.Errorf("no resolver defined to resolve %s", host)
	}
	server := resolvers[0]
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	addrs, err := r.LookupHost(ctx, host)
	if err != nil {
		return "", fmt.Errorf("%s could not be resolved: %w", host, err)
	}
	return addrs[0], nil
}

// watchClient starts watching the client connection for a close while
// the upstream prepares its answer, as ngx_http_upstream_check_broken_connection
// does with recv(MSG_PEEK): on end of input or an error it closes up, which
// ends the upstream read. It reports whether a watch was started (plain TCP
// clients only); unwatchClient must then be called.
func (c *clientConn) watchClient(up net.Conn) bool {
	if c.rawConn == nil {
		return false
	}
	c.watchUp = up
	// The read deadline may still be the request head's (http1 clears it
	// only when the handler reads the body): the watch has none.
	c.nc.SetReadDeadline(time.Time{})
	go c.watchFn()
	return true
}

// unwatchClient ends the watch and reports whether the client went away.
func (c *clientConn) unwatchClient() bool {
	c.nc.SetReadDeadline(aLongTimeAgo)
	gone := <-c.watchDone
	c.nc.SetReadDeadline(time.Time{})
	c.watchUp = nil
	return gone
}

var aLongTimeAgo = time.Unix(1, 0)

func (c *clientConn) watch() {
	c.gone = false
	c.rawConn.Read(c.peekFn)
	gone := c.gone
	if gone {
		if sc, ok := c.watchUp.(*shotConn); ok {
			// Its owner closes it; the waiting read wakes to EOF.
			sc.shutdown()
		} else {
			c.watchUp.Close()
		}
	}
	c.watchDone <- gone
}

// peek is the RawConn.Read callback of watch: it looks at the socket
// without consuming, and sets c.gone on end of input or an error.
func (c *clientConn) peek(fd uintptr) bool {
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return false
	case err != nil || n == 0:
		c.gone = true
	}
	// Pipelined bytes: the client is there; stop watching, as nginx
	// does for HTTP/1.x.
	return true
}
