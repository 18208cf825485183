//go:build !linux

package netpoll

import (
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Loop has no event loop here: nothing can be registered (NewPoller
// fails), and its methods report as much.
type Loop struct {
	// Ctx is the Poller owner's state for this loop.
	Ctx any
}

func (l *Loop) Registered() int                                  { return 0 }
func (l *Loop) Add(syscall.RawConn, Handler, Mode, *Token) error { return ErrUnsupported }
func (l *Loop) WatchFD(int, Handler, bool, *Token) error         { return ErrUnsupported }
func (l *Loop) Take(*Token, Handler, syscall.RawConn) bool       { return false }
func (l *Loop) Rearm(Token, Handler) bool                        { return false }
func (l *Loop) Release(Token, syscall.RawConn)                   {}
func (l *Loop) Forget(tok *Token)                                { *tok = 0 }
func (l *Loop) Now() time.Time                                   { return time.Now() }

// Supported says whether this system has event loops (NewPoller works).
const Supported = false

// Poller has no loops here.
type Poller struct{}

// NewPoller returns ErrUnsupported: callers relay with goroutines.
func NewPoller(int, func(*Loop) any) (*Poller, error) { return nil, ErrUnsupported }

func (p *Poller) Shards() int         { return 0 }
func (p *Poller) Pick() *Loop         { return nil }
func (p *Poller) Shard(int) *Loop     { return nil }
func (p *Poller) Registered() int     { return 0 }
func (p *Poller) Close(func(Handler)) {}

// Default returns ErrUnsupported.
func Default() (*Poller, error) { return nil, ErrUnsupported }

// Waiter is where a goroutine would wait for its Conn; unused here.
type Waiter struct{}

func (w *Waiter) Ready(*Loop, Event) {}

// Conn is never made here: DialTCP leaves every dial to net's dialer.
type Conn struct{}

// DialTCP reports ok false: net's dialer takes over.
func DialTCP(*Conn, *Waiter, string, time.Time) (ok bool, err error) { return false, nil }

// Dial reports ok false: net's dialer takes over.
func Dial(string, netip.AddrPort, time.Time) (c *Conn, ok bool, err error) { return nil, false, nil }

func (c *Conn) Read([]byte) (int, error)          { return 0, os.ErrClosed }
func (c *Conn) Write([]byte) (int, error)         { return 0, os.ErrClosed }
func (c *Conn) WriteNow([]byte) int               { return 0 }
func (c *Conn) WriteNow2(a, b []byte) int         { return 0 }
func (c *Conn) Close() error                      { return os.ErrClosed }
func (c *Conn) Shutdown()                         {}
func (c *Conn) Unregister()                       {}
func (c *Conn) Park(*func()) error                { return ErrUnsupported }
func (c *Conn) Unpark() bool                      { return false }
func (c *Conn) Empty() bool                       { return false }
func (c *Conn) Quiet() bool                       { return false }
func (c *Conn) CloseWrite() error                 { return os.ErrClosed }
func (c *Conn) SetNoDelay(bool) error             { return os.ErrClosed }
func (c *Conn) SetKeepAlive(bool) error           { return os.ErrClosed }
func (c *Conn) ReadFrom(io.Reader) (int64, error) { return 0, os.ErrClosed }
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	return nil, ErrUnsupported
}

func (c *Conn) ReadNow([]byte, int64) (int, error) { return 0, os.ErrClosed }

func (c *Conn) WaitReadable() error { return os.ErrClosed }

func (c *Conn) SetDeadline(time.Time) error      { return nil }
func (c *Conn) SetReadDeadline(time.Time) error  { return nil }
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }
func (c *Conn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *Conn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *Conn) RemoteAddrPort() netip.AddrPort   { return netip.AddrPort{} }
func (c *Conn) LocalAddrPort() netip.AddrPort    { return netip.AddrPort{} }

var _ net.Conn = (*Conn)(nil)

// Acceptor is never made here: listeners accept through net.
type Acceptor struct{}

// NewAcceptor returns ErrUnsupported: the caller accepts through net.
func NewAcceptor(*net.TCPListener) (*Acceptor, error) { return nil, ErrUnsupported }

func (a *Acceptor) Accept() (*Conn, error) { return nil, ErrUnsupported }
func (a *Acceptor) Close() error           { return nil }
