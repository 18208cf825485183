// Package listen owns wsgate's listening sockets. A Set keeps sockets
// across reloads, reconciled by address: an address present before and
// after a reload keeps its socket (no connection is refused while the
// configuration changes), new addresses are opened before anything is
// closed, and removed ones are handed back to the caller to close once the
// new configuration is live.
package listen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"syscall"
)

// Want describes one listening socket, from the listen directive.
type Want struct {
	Addr      string // "0.0.0.0:80", "[::]:443", "127.0.0.1:8080"
	ReusePort bool   // listen ... reuseport (SO_REUSEPORT)
	Backlog   int    // listen ... backlog=N; 0 means nginx's default, 511
	IPv6Only  bool   // listen [::]:80 ipv6only=on (nginx's default for [::])
}

// soReusePort is SO_REUSEPORT on Linux, which package syscall does not name.
const soReusePort = 0xf

// DefaultBacklog is nginx's NGX_LISTEN_BACKLOG on Linux.
const DefaultBacklog = 511

// Listener is one open socket and what it was opened for.
type Listener struct {
	net.Listener
	Want Want
}

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
func (s *Set) CloseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, l := range s.ls {
		l.Close()
		delete(s.ls, addr)
	}
}

// Open creates one listening TCP socket with nginx's options. Errors read
// like nginx's: "bind 0.0.0.0:80: permission denied".
func Open(w Want) (*Listener, error) {
	ap, err := netip.ParseAddrPort(w.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: invalid address: %w", w.Addr, err)
	}
	family := syscall.AF_INET
	var sa syscall.Sockaddr
	if ap.Addr().Is4() {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", w.Addr, errno(err))
	}
	fail := func(op string, err error) (*Listener, error) {
		syscall.Close(fd)
		return nil, fmt.Errorf("%s %s: %w", op, w.Addr, errno(err))
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt(SO_REUSEADDR)", err)
	}
	if w.ReusePort {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1); err != nil {
			return fail("setsockopt(SO_REUSEPORT)", err)
		}
	}
	if family == syscall.AF_INET6 {
		v := 0
		if w.IPv6Only {
			v = 1
		}
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, v); err != nil {
			return fail("setsockopt(IPV6_V6ONLY)", err)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	backlog := w.Backlog
	if backlog <= 0 {
		backlog = DefaultBacklog
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		return fail("listen", err)
	}
	f := os.NewFile(uintptr(fd), "listen "+w.Addr)
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", w.Addr, err)
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
