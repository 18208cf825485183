//go:build linux

package netpoll

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// TCPInfo reads the TCP_INFO of conn's socket (getsockopt(2)): the
// smoothed round-trip time and its variance in microseconds, the
// congestion window and the receive space, as nginx's $tcpinfo_rtt,
// $tcpinfo_rttvar, $tcpinfo_snd_cwnd and $tcpinfo_rcv_space print them.
// ok is false when conn has no TCP socket (TLS wraps one: pass the raw
// connection) or the call fails.
func TCPInfo(conn net.Conn) (rtt, rttvar, sndCwnd, rcvSpace uint32, ok bool) {
	sc, isSC := conn.(syscall.Conn)
	if !isSC {
		return 0, 0, 0, 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, 0, 0, 0, false
	}
	var ti *unix.TCPInfo
	var serr error
	if err := raw.Control(func(fd uintptr) {
		ti, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || serr != nil {
		return 0, 0, 0, 0, false
	}
	return ti.Rtt, ti.Rttvar, ti.Snd_cwnd, ti.Rcv_space, true
}
