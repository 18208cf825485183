// Package listen owns wsgate's listening sockets. A Set keeps sockets
// across reloads, reconciled by address: an address present before and
// after a reload keeps its socket (no connection is refused while the
// configuration changes), new addresses are opened before anything is
// closed, and removed ones are handed back to the caller to close once the
// new configuration is live.
package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Want describes one listening socket, from the listen directive.
type Want struct {
	Addr      string // "0.0.0.0:80", "[::]:443", "127.0.0.1:8080", "unix:/run/wsgate.sock", "quic:0.0.0.0:443"
	ReusePort bool   // listen ... reuseport (SO_REUSEPORT)
	Backlog   int    // listen ... backlog=N; 0 means nginx's default, 511
	IPv6Only  bool   // listen [::]:80 ipv6only=on (nginx's default for [::])
}

// soReusePort is SO_REUSEPORT on Linux, which package syscall does not name.
const soReusePort = 0xf

// DefaultBacklog is nginx's NGX_LISTEN_BACKLOG on Linux.
const DefaultBacklog = 511

// Listener is one open socket and what it was opened for. A UDP socket
// ("listen ... quic") is Packet, and its Listener only closes it and
// names its address: it accepts nothing.
type Listener struct {
	net.Listener
	Want   Want
	Packet net.PacketConn
}

// quicPrefix starts the address of a UDP socket (config.QUICPrefix).
const quicPrefix = "quic:"

// Set is the process's listening sockets. The zero value is empty and ready.
type Set struct {
	mu sync.Mutex
	ls map[string]*Listener
}

// Reconcile makes the set match want. Sockets whose address is unchanged are
// kept; missing ones are opened. If any open fails, everything opened by this
// call is closed again, the set is unchanged, and all bind errors are
// returned together. On success the sockets no longer wanted are removed
// from the set and returned: the caller closes them after it has switched
// to the new configuration.
func (s *Set) Reconcile(want []Want) (added, removed []*Listener, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ls == nil {
		s.ls = make(map[string]*Listener)
	}
	keep := make(map[string]bool, len(want))
	var errs []error
	for _, w := range want {
		if keep[w.Addr] {
			continue
		}
		keep[w.Addr] = true
		if _, ok := s.ls[w.Addr]; ok {
			continue
		}
		l, err := Open(w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, l)
	}
	if len(errs) > 0 {
		for _, l := range added {
			l.Close()
		}
		return nil, nil, errors.Join(errs...)
	}
	for _, l := range added {
		s.ls[l.Want.Addr] = l
	}
	for addr, l := range s.ls {
		if !keep[addr] {
			removed = append(removed, l)
			delete(s.ls, addr)
		}
	}
	return added, removed, nil
}

// All returns the open listeners, ordered by address.
func (s *Set) All() []*Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Listener, 0, len(s.ls))
	for _, l := range s.ls {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Want.Addr < out[j].Want.Addr })
	return out
}

// CloseAll closes every socket and empties the set.
func (s *Set) CloseAll() { s.CloseWhere(func(*Listener) bool { return true }) }

// CloseWhere closes the sockets f picks and removes them from the set: a
// graceful stop closes the TCP ones first, and the UDP ones, which carry
// the open QUIC connections, once those have ended.
func (s *Set) CloseWhere(f func(*Listener) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, l := range s.ls {
		if f(l) {
			l.Close()
			delete(s.ls, addr)
		}
	}
}

// Open creates one listening TCP or UNIX-domain socket with nginx's options. Errors read
// like nginx's: "bind 0.0.0.0:80: permission denied". Accepted connections
// get no TCP keepalive (nginx's so_keepalive is off by default), which
// spares four setsockopt calls per connection.
func Open(w Want) (*Listener, error) {
	if path, ok := strings.CutPrefix(w.Addr, "unix:"); ok {
		return openUnix(w, path)
	}
	addr, udp := strings.CutPrefix(w.Addr, quicPrefix)
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		if ap, err = resolveHost(addr); err != nil {
			return nil, err
		}
	}
	network := "tcp4"
	if !ap.Addr().Is4() {
		network = "tcp6"
	}
	if udp {
		network = "udp" + network[3:]
	}
	var optErr error
	lc := net.ListenConfig{
		KeepAlive: -1,
		Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				if w.ReusePort {
					if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1); err != nil {
						optErr = fmt.Errorf("setsockopt(SO_REUSEPORT) %s: %w", w.Addr, errno(err))
						return
					}
				}
				if network == "tcp6" || network == "udp6" {
					v := 0
					if w.IPv6Only {
						v = 1
					}
					if err := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, v); err != nil {
						optErr = fmt.Errorf("setsockopt(IPV6_V6ONLY) %s: %w", w.Addr, errno(err))
					}
				}
			})
		},
	}
	if udp {
		pc, err := lc.ListenPacket(context.Background(), network, ap.String())
		if optErr != nil {
			if pc != nil {
				pc.Close()
			}
			return nil, optErr
		}
		if err != nil {
			return nil, bindError(w, err)
		}
		return &Listener{Listener: packetListener{pc}, Want: w, Packet: pc}, nil
	}
	l, err := lc.Listen(context.Background(), network, ap.String())
	if optErr != nil {
		if l != nil {
			l.Close()
		}
		return nil, optErr
	}
	if err != nil {
		return nil, bindError(w, err)
	}
	rl, err := relisten(l, w)
	if err != nil {
		return nil, err
	}
	rl.Listener = rawTCP(l)
	return rl, nil
}

// bindError words a failed listen as nginx does.
func bindError(w Want, err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return fmt.Errorf("%s %s: %w", se.Syscall, w.Addr, errno(se.Err))
	}
	return fmt.Errorf("listen %s: %w", w.Addr, err)
}

// packetListener is a UDP socket as a net.Listener: Close and Addr are
// the socket's, Accept fails.
type packetListener struct{ pc net.PacketConn }

func (p packetListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (p packetListener) Close() error              { return p.pc.Close() }
func (p packetListener) Addr() net.Addr            { return p.pc.LocalAddr() }

// resolveHost turns "host:port" with a host name ("listen
// localhost:8080") into its first address, an IPv4 one when there is one,
// as Go's listener takes it. nginx resolves the name when it reads the
// configuration and listens on every address; wsgate listens on one (the
// README says so).
func resolveHost(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen %s: invalid address: %w", addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen %s: invalid port", addr)
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("listen %s: host not found", addr)
	}
	ip := ips[0]
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a
			break
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// openUnix creates the UNIX-domain socket "listen unix:path" names, as
// ngx_open_listening_sockets does: bind fails on a file that exists
// (nginx does not remove it either), and the socket is made writable by
// everyone (chmod 0666), so that clients of any user can connect. Closing
// the listener removes the file, as nginx does when it exits.
func openUnix(w Want, path string) (*Listener, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s %s: %w", se.Syscall, w.Addr, errno(se.Err))
		}
		return nil, fmt.Errorf("listen %s: %w", w.Addr, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod %s: %w", w.Addr, err)
	}
	return relisten(l, w)
}

// relisten sets nginx's backlog on l: Go listens with the system's
// maximum, and listen(2) again sets nginx's (backlog=, default 511).
func relisten(l net.Listener, w Want) (*Listener, error) {
	backlog := w.Backlog
	if backlog <= 0 {
		backlog = DefaultBacklog
	}
	sc, ok := l.(syscall.Conn)
	if !ok {
		return &Listener{Listener: l, Want: w}, nil
	}
	rc, err := sc.SyscallConn()
	if err == nil {
		var lerr error
		err = rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), backlog) })
		if err == nil {
			err = lerr
		}
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("listen %s: %w", w.Addr, errno(err))
	}
	return &Listener{Listener: l, Want: w}, nil
}

// errno turns a syscall.Errno into its plain text ("permission denied"),
// which is how nginx words bind failures.
func errno(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return errors.New(e.Error())
	}
	return err
}
