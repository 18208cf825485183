//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetTransparent sets IP_TRANSPARENT (IPV6_TRANSPARENT for an IPv6
// socket) on a socket before it binds, so that it may bind a foreign
// address, as nginx's "proxy_bind ... transparent" does
// (ngx_event_connect_set_transparent). It is a net.Dialer Control
// function. The option needs CAP_NET_ADMIN; without it the error says so.
func SetTransparent(network, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		level, opt, name := unix.SOL_IP, unix.IP_TRANSPARENT, "IP_TRANSPARENT"
		if network == "tcp6" {
			level, opt, name = unix.SOL_IPV6, unix.IPV6_TRANSPARENT, "IPV6_TRANSPARENT"
		}
		if e := unix.SetsockoptInt(int(fd), level, opt, 1); e != nil {
			serr = fmt.Errorf("setsockopt(%s) failed: %w", name, e)
			if errors.Is(e, unix.EPERM) {
				serr = fmt.Errorf("%w: \"proxy_bind ... transparent\" needs the CAP_NET_ADMIN capability (run wsgate as root, or grant it: setcap cap_net_admin+ep wsgate)", serr)
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
