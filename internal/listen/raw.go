package listen

import (
	"net"

	"wsgate/internal/netpoll"
)

// rawListener is a TCP listener whose connections never enter Go's
// poller: Accept takes them with accept4 as netpoll Conns (raw system
// calls, waits in the process's event loops), which a connection parked
// between requests, a tunnel's event loop and the one-shot upstream path
// use without a second registration. TLS, the PROXY protocol and h2c
// sniffing work over them as over any net.Conn. UNIX-domain listeners
// stay on net.
type rawListener struct {
	*net.TCPListener
	acc *netpoll.Acceptor
}

// rawTCP wraps l in a rawListener where there are event loops (Linux);
// elsewhere, or when the second descriptor cannot be had, l accepts as
// net's.
func rawTCP(l net.Listener) net.Listener {
	tl, ok := l.(*net.TCPListener)
	if !ok || !netpoll.Supported {
		return l
	}
	acc, err := netpoll.NewAcceptor(tl)
	if err != nil {
		return l
	}
	return &rawListener{TCPListener: tl, acc: acc}
}

// Accept returns the next connection, with TCP_NODELAY set as net's
// listener sets it (and as nginx's tcp_nodelay, on by default, leaves a
// keep-alive or upgraded connection).
func (l *rawListener) Accept() (net.Conn, error) {
	c, err := l.acc.Accept()
	if err != nil {
		return nil, err
	}
	c.SetNoDelay(true)
	return c, nil
}

// Close closes both descriptors of the socket; a waiting Accept ends with
// net.ErrClosed.
func (l *rawListener) Close() error {
	err := l.TCPListener.Close()
	l.acc.Close()
	return err
}
