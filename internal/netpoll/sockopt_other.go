//go:build !linux

package netpoll

import (
	"errors"
	"syscall"
)

// SetTransparent is IP_TRANSPARENT, which only Linux has.
func SetTransparent(network, _ string, rc syscall.RawConn) error {
	return errors.New("\"proxy_bind ... transparent\" needs IP_TRANSPARENT, which only Linux has")
}
