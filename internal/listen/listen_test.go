package listen

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/netpoll"
)

func TestReconcileKeepsSocketsByAddress(t *testing.T) {
	var s Set
	defer s.CloseAll()
	added, removed, err := s.Reconcile([]Want{{Addr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || len(removed) != 0 {
		t.Fatalf("got %d added, %d removed; want 1, 0", len(added), len(removed))
	}
	addr := added[0].Addr().String()
	// Port 0 picks a port; reconcile again on the concrete address so the
	// socket is found by the key it was opened with.
	first := added[0]
	added, removed, err = s.Reconcile([]Want{{Addr: "127.0.0.1:0"}, {Addr: "127.0.0.2:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].Want.Addr != "127.0.0.2:0" || len(removed) != 0 {
		t.Fatalf("got added %v removed %v; want only 127.0.0.2:0 added", added, removed)
	}
	if first.Addr().String() != addr {
		t.Fatalf("kept listener moved: got %s; want %s", first.Addr(), addr)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("kept listener refused a connection: %v", err)
	}
	c.Close()
	_, removed, err = s.Reconcile([]Want{{Addr: "127.0.0.2:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != first {
		t.Fatalf("got removed %v; want the 127.0.0.1 listener", removed)
	}
	removed[0].Close()
}

func TestReconcileFailureOpensNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var s Set
	defer s.CloseAll()
	_, _, err = s.Reconcile([]Want{{Addr: "127.0.0.3:0"}, {Addr: busy.Addr().String()}})
	if err == nil {
		t.Fatal("got no error binding a busy address")
	}
	want := "bind " + busy.Addr().String() + ": address already in use"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q; want it to contain %q", err, want)
	}
	if n := len(s.All()); n != 0 {
		t.Fatalf("got %d listeners after a failed reconcile; want 0", n)
	}
}

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		desc string
		want Want
	}{
		{"ipv4 with backlog", Want{Addr: "127.0.0.1:0", Backlog: 16}},
		{"reuseport", Want{Addr: "127.0.0.1:0", ReusePort: true}},
		{"ipv6 only", Want{Addr: "[::1]:0", IPv6Only: true}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l, err := Open(tt.want)
			if err != nil {
				if strings.Contains(tt.want.Addr, "::1") && strings.Contains(err.Error(), "cannot assign") {
					t.Skip("no IPv6 loopback here")
				}
				t.Fatal(err)
			}
			defer l.Close()
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}

func TestOpenBadAddress(t *testing.T) {
	_, err := Open(Want{Addr: "nonsense"})
	if err == nil || !strings.Contains(err.Error(), "invalid address") {
		t.Fatalf("got %v; want an invalid address error", err)
	}
}

func TestAcceptedConnsHaveNoKeepalive(t *testing.T) {
	l, err := Open(Want{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, ac := connect(t, l)
	rc, err := ac.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v, nd int
	var gerr error
	rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		nd, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	})
	if gerr != nil {
		t.Fatal(gerr)
	}
	if v != 0 {
		t.Fatalf("got SO_KEEPALIVE %d on an accepted connection; want 0 (nginx's so_keepalive off)", v)
	}
	if nd == 0 {
		t.Fatalf("got TCP_NODELAY 0 on an accepted connection; want it set, as net's")
	}
}

// TestRawAccept: where there are event loops, a TCP listener's
// connections are raw sockets (netpoll.Conn, outside Go's poller) that
// carry bytes and name both ends, and a Close of the listener ends an
// Accept that waits.
func TestRawAccept(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: connections come from net")
	}
	l, err := Open(Want{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c, ac := connect(t, l)
	if _, ok := ac.(*netpoll.Conn); !ok {
		t.Fatalf("accepted a %T; want a *netpoll.Conn", ac)
	}
	if got, want := ac.RemoteAddr().String(), c.LocalAddr().String(); got != want {
		t.Errorf("remote %s; want %s", got, want)
	}
	if got, want := ac.LocalAddr().String(), l.Addr().String(); got != want {
		t.Errorf("local %s; want %s", got, want)
	}
	c.Write([]byte("hi"))
	ac.SetReadDeadline(time.Now().Add(20 * time.Second))
	b := make([]byte, 2)
	if _, err := io.ReadFull(ac, b); err != nil || string(b) != "hi" {
		t.Fatalf("got %q, %v; want \"hi\"", b, err)
	}
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("accept after close: got %v; want net.ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("accept still waits after the listener's Close")
	}
	// The socket is closed: nothing accepts any more.
	if c2, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second); err == nil {
		c2.Close()
		t.Errorf("a connect to the closed listener's address succeeded")
	}
}

// TestOpenUnixAndHostName: "listen unix:path" makes a socket file anyone
// may connect to (0666), which bind refuses to replace while it exists
// and Close removes; "listen localhost:port" listens on the name's
// (first, IPv4) address.
func TestOpenUnixAndHostName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "front.sock")
	l, err := Open(Want{Addr: "unix:" + path})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o666 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("got %v, %v; want a socket with mode 0666", fi.Mode(), err)
	}
	if _, err := net.Dial("unix", path); err != nil {
		t.Errorf("dialing the socket: %v", err)
	}
	if _, err := Open(Want{Addr: "unix:" + path}); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("got %v opening it twice; want address already in use", err)
	}
	l.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("got %v after Close; want the socket file removed", err)
	}

	h, err := Open(Want{Addr: "localhost:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if ip := h.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("got address %v for localhost; want a loopback one", ip)
	}
}

// connect dials l and accepts the connection: the client's end and the
// accepted one, both closed at the test's end.
func connect(t *testing.T, l net.Listener) (c, ac net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ac, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ac.Close() })
	return c, ac
}
