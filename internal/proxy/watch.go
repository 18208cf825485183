package proxy

import (
	"net"
	"time"

	"wsgate/internal/netpoll"
)

// This file watches the client while the upstream works, as
// ngx_http_upstream_check_broken_connection does.

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
	c.watchUp, c.watchHeld = nil, nil
	return gone
}

var aLongTimeAgo = time.Unix(1, 0)

func (c *clientConn) watch() {
	c.gone = false
	c.rawConn.Read(c.peekFn)
	gone := c.gone
	if gone {
		// What the request holds (limit_conn's counts) is given back
		// now, before the request ends, as nginx frees it on the
		// close's event: a request of another connection may come
		// for it before this one is done. The request's goroutine
		// waits for the upstream meanwhile and touches none of it.
		if c.watchHeld != nil {
			c.watchHeld.Release()
		}
		if sc, ok := c.watchUp.(*netpoll.Conn); ok {
			// Its owner closes it; the waiting read wakes to EOF.
			sc.Shutdown()
		} else {
			c.watchUp.Close()
		}
	}
	c.watchDone <- gone
}

// peek is the RawConn.Read callback of watch: it looks at the socket
// without consuming, and sets c.gone on end of input or an error.
func (c *clientConn) peek(fd uintptr) bool {
	switch netpoll.Peek(fd) {
	case netpoll.PeekEmpty:
		return false
	case netpoll.PeekEnd:
		c.gone = true
	}
	// Pipelined bytes: the client is there; stop watching, as nginx
	// does for HTTP/1.x.
	return true
}
