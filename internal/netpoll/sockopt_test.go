//go:build linux

package netpoll

import (
	"net"
	"strings"
	"testing"
)

// TestSetTransparent: a dialer with SetTransparent connects from the
// address it binds when the process may set IP_TRANSPARENT
// (CAP_NET_ADMIN); without the capability the error names it.
func TestSetTransparent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Control: SetTransparent}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		if !strings.Contains(err.Error(), "IP_TRANSPARENT") || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
			t.Errorf("got %v; want an error that names IP_TRANSPARENT and CAP_NET_ADMIN", err)
		}
		return
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
		t.Errorf("connected from %s; want 127.0.0.2", got)
	}
}
