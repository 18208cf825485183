package proxy

import (
	"io"
	"net"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// heldCount is an exchange.Holder that counts its releases.
type heldCount struct{ released int }

func (h *heldCount) Detach() func() { return func() {} }
func (h *heldCount) Release()       { h.released++ }

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestReadHeadWatchesHeld: the client of a request that holds limit_conn
// counts is watched from the start of the wait for the upstream's answer,
// not after clientWatchDelay, so that a client that closes frees its
// count at once, as nginx notices the close with the event
// (ngx_http_upstream_check_broken_connection); nginx-tests limit_conn.t
// found the count still held just after the close. Other requests are
// watched only when the upstream keeps them waiting: an answer already
// there costs no watch.
func TestReadHeadWatchesHeld(t *testing.T) {
	lc := &config.LocConf{ProxyReadTimeout: time.Minute, ProxyBufferSize: 4096}
	for _, tc := range []struct {
		name  string
		held  exchange.Holder
		watch bool
	}{
		{"not holding", nil, false},
		{"holding limit_conn counts", &heldCount{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, served := tcpPair(t)
			up, upPeer := tcpPair(t)
			c := (&Handler{}).Conn(&exchange.Conn{NetConn: served}, nil).(*clientConn)
			// The answer is there before wsgate reads it.
			io.WriteString(upPeer, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			a := &attempt{conn: up}
			var resp http1.Response
			watching, err := c.readHead(a, &resp, lc, &exchange.Request{Held: tc.held})
			if err != nil || resp.Status != 200 {
				t.Fatalf("readHead: %d, %v; want 200", resp.Status, err)
			}
			if watching != tc.watch {
				t.Errorf("watching: got %v; want %v", watching, tc.watch)
			}
			if watching && c.unwatchClient() {
				t.Error("the client, still there, was found gone")
			}
		})
	}
}

// TestWatchReleasesHeld: a client that closes while the upstream works
// gives back its request's limit_conn counts from the watch, at once, as
// nginx frees them on the close's event; not when the request has ended.
func TestWatchReleasesHeld(t *testing.T) {
	client, served := tcpPair(t)
	up, _ := tcpPair(t)
	c := (&Handler{}).Conn(&exchange.Conn{NetConn: served}, nil).(*clientConn)
	held := &heldCount{}
	lc := &config.LocConf{ProxyReadTimeout: time.Minute, ProxyBufferSize: 4096}
	// The upstream never answers; the client goes away.
	client.Close()
	var resp http1.Response
	watching, err := c.readHead(&attempt{conn: up}, &resp, lc, &exchange.Request{Held: held})
	if err == nil {
		t.Fatalf("readHead: got %d; want the upstream read ended by the watch", resp.Status)
	}
	if !watching || !c.unwatchClient() {
		t.Fatalf("watching %v; want the watch to find the client gone", watching)
	}
	if held.released != 1 {
		t.Errorf("released %d times; want once, by the watch", held.released)
	}
}
