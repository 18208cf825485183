//go:build linux

package netpoll

import (
	"net"
	"testing"
)

// TestTCPInfo reads TCP_INFO of a loopback connection ($tcpinfo_*): the
// kernel has a congestion window and a receive space for any connected
// socket, and a connection that is not TCP has none.
func TestTCPInfo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, cwnd, space, ok := TCPInfo(c)
	if !ok || cwnd == 0 || space == 0 {
		t.Errorf("TCPInfo = cwnd %d, rcv_space %d, ok %v; want both set", cwnd, space, ok)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, _, _, _, ok := TCPInfo(a); ok {
		t.Error("TCPInfo of a pipe reports ok")
	}
}
