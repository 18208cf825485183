package tunnel

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"wsgate/internal/ws"
)

// TestRequestDuringStaleInterrupt: a close request that comes while a
// copier is clearing a stale read interrupt is acted on, not lost with the
// interrupt it set: the upstream gets its Close at once, not when
// CloseTimeout ends the tunnel with no Close at all. The hook makes the
// request between the copier's check of its requests and its clearing of
// the deadline, the window a loaded machine opens.
func TestRequestDuringStaleInterrupt(t *testing.T) {
	upLn := listen(t)
	upCode := make(chan uint16, 1)
	upConn := make(chan net.Conn, 1)
	go func() {
		u, err := upLn.Accept()
		if err != nil {
			return
		}
		upConn <- u
		u.SetReadDeadline(time.Now().Add(30 * time.Second))
		code, h, err := readClose(u)
		if err != nil || !h.Masked {
			code = 0
		}
		upCode <- code
	}()
	clientLn := listen(t)
	client, err := net.Dial("tcp", clientLn.Addr().String())
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	pc, err := clientLn.Accept()
	if err != nil {
		t.Fatalf("accepting: %v", err)
	}
	pu, err := net.Dial("tcp", upLn.Addr().String())
	if err != nil {
		t.Fatalf("dialing upstream: %v", err)
	}
	u := <-upConn
	t.Cleanup(func() { u.Close() })

	reg := NewRegistry()
	h := reg.Add(Info{Route: "/ws/"})
	var once sync.Once
	results := make(chan Result, 1)
	// CloseTimeout is far beyond the test's bounds: only the copiers
	// acting on the request send the Closes in time.
	opts := Options{FrameAware: true, Handle: h, CloseTimeout: time.Hour, ParkAfter: -1,
		staleHook: func() {
			once.Do(func() { h.Close(CauseReload, ws.CloseServiceRestart, "reload") })
		}}
	Start(context.Background(), pc, pu, nil, nil, opts, func(r Result) { results <- r })
	t.Cleanup(func() { pc.Close(); pu.Close() })
	// A stale interrupt of the client → upstream copier: a deadline in
	// the past with no request behind it.
	pc.SetReadDeadline(longAgo)

	select {
	case code := <-upCode:
		if code != ws.CloseServiceRestart {
			t.Fatalf("upstream got close %d; want %d, masked", code, ws.CloseServiceRestart)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("upstream got no close within 10s; want %d (the request was lost)", ws.CloseServiceRestart)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, _, err := readClose(client); err != nil || code != ws.CloseServiceRestart {
		t.Fatalf("client got close %d, %v; want %d", code, err, ws.CloseServiceRestart)
	}
	client.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseServiceRestart)))
	u.Write(frame(ws.OpClose, true, false, closeBody(ws.CloseServiceRestart)))
	select {
	case res := <-results:
		if res.ClosedBy != CauseReload || res.CloseCode != ws.CloseServiceRestart {
			t.Fatalf("got %v %d; want reload %d", res.ClosedBy, res.CloseCode, ws.CloseServiceRestart)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("tunnel did not end within 10s of the closing handshake")
	}
}
