package proxy

import (
	"net"
	"testing"

	"wsgate/internal/exchange"
)

// TestConnReusesLocal checks that a serving goroutine's next connection
// gets the proxy state its last one had, with that connection's own
// addresses and socket and nothing of the last one's client watch, and
// that without a Local each connection gets its own.
func TestConnReusesLocal(t *testing.T) {
	h := &Handler{}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var local Local
	first := h.Conn(&exchange.Conn{NetConn: a, RemoteAddr: "192.0.2.1", RemotePort: "1000", LocalAddr: "127.0.0.1", LocalPort: "80"}, &local).(*clientConn)
	first.gone, first.buf = true, append(first.buf, "GET / HTTP/1.1\r\n"...)
	second := h.Conn(&exchange.Conn{NetConn: b, TLS: true, RemoteAddr: "192.0.2.2", RemotePort: "2000", LocalAddr: "127.0.0.1", LocalPort: "443"}, &local).(*clientConn)
	if second != first {
		t.Fatalf("got a new clientConn for the next connection; want the Local's")
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"nc", second.nc, net.Conn(b)},
		{"tls", second.tls, true},
		{"remoteAddr", second.remoteAddr, "192.0.2.2"},
		{"remotePort", second.remotePort, "2000"},
		{"localPort", second.localPort, "443"},
		{"port", second.port, 0},
		{"gone", second.gone, false},
		{"rawConn", second.rawConn == nil, true},
		{"work", second.work, &local},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, tc.got, tc.want)
		}
	}
	if second.watchDone == nil || second.watchFn == nil || second.composeFn == nil || second.composeUpFn == nil {
		t.Errorf("the reused clientConn lost its channel or bound methods")
	}
	if x, y := h.Conn(&exchange.Conn{NetConn: a}, nil), h.Conn(&exchange.Conn{NetConn: b}, nil); x == y {
		t.Errorf("two connections without a Local share one clientConn")
	}
}
