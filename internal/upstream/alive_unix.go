//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package upstream

import (
	"net"
	"syscall"

	"wsgate/internal/netpoll"
)

// probe checks whether an idle connection may be reused: nothing to read
// and no EOF, as its event loop reports it (netpoll.Conn.Quiet) or, when
// that cannot tell, tested with a non-blocking MSG_PEEK so no byte is
// consumed. nginx closes a cached connection on any read event
// (ngx_http_upstream_keepalive_close_handler); this is the same test done
// lazily, when the connection is taken. A probe is made once per
// connection (newProbe) and reused for every check, which then allocates
// nothing. A probe is used by one goroutine at a time: whoever removed its
// connection from the cache.
type probe struct {
	conn    net.Conn        // the connection it checks
	nc      *netpoll.Conn   // conn itself when it is one: Empty peeks
	rc      syscall.RawConn // nil: no file descriptor, assumed alive
	bad     bool            // SyscallConn failed: never alive
	wrapped bool            // rc is the socket under a wrapping conn (TLS)
	peek    func(fd uintptr) bool
	live    bool
}

// newProbe returns the probe of c, unwrapping NetConn layers (tls.Conn)
// down to the socket.
func newProbe(c net.Conn) *probe {
	pr := &probe{conn: c}
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
		pr.wrapped = true
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return pr
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		pr.bad = true
		return pr
	}
	pr.rc = rc
	pr.peek = pr.peekFD
	if nc, ok := c.(*netpoll.Conn); ok && !pr.wrapped {
		pr.nc = nc
	}
	return pr
}

func (pr *probe) peekFD(fd uintptr) bool {
	pr.live = netpoll.Peek(fd) == netpoll.PeekEmpty
	return true
}

// alive reports whether the connection may be reused.
func (pr *probe) alive() bool {
	if pr.bad {
		return false
	}
	if pr.rc == nil {
		return true
	}
	if pr.nc != nil {
		// Nothing came since its last read, as its loop tells without a
		// system call (nginx's event loop watches idle connections the
		// same way); else the same peek, without a wait's machinery
		// around it, and without telling the socket's reads that
		// something else read it. An arrival its loop has not reported
		// yet shows in the request's read instead, which the proxy
		// retries on a fresh connection (ngx_http_upstream_next, for a
		// cached connection).
		return pr.nc.Quiet() || pr.nc.Empty()
	}
	pr.live = false
	err := pr.rc.Read(pr.peek)
	return err == nil && pr.live
}

// raw is the connection's own socket, nil when it has none or wraps one
// (writing to a TLS connection's socket would bypass TLS).
func (pr *probe) raw() syscall.RawConn {
	if pr.wrapped {
		return nil
	}
	return pr.rc
}
