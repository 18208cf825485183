//go:build !linux

package netpoll

import "net"

// TCPInfo reports ok false: TCP_INFO is read on Linux only.
func TCPInfo(conn net.Conn) (rtt, rttvar, sndCwnd, rcvSpace uint32, ok bool) {
	return 0, 0, 0, 0, false
}
