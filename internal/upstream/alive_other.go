//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package upstream

import (
	"net"
	"syscall"
)

// probe cannot peek at a socket here; a dead connection shows up as an
// error on the first write or read, which the proxy treats as an upstream
// error.
type probe struct {
	conn net.Conn // the connection it checks
}

func newProbe(c net.Conn) *probe { return &probe{conn: c} }

func (*probe) alive() bool { return true }

// raw is nil: there is no socket to hand out.
func (*probe) raw() syscall.RawConn { return nil }
