package tunnel

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/ws"
)

// waitReadable blocks until conn has bytes to read, without reading them.
func waitReadable(conn net.Conn) error {
	rc, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return err
	}
	return rc.Read(func(fd uintptr) bool {
		return netpoll.Peek(fd) != netpoll.PeekEmpty
	})
}

// TestCloseThenReset: the upstream answers the client's Close and then
// resets its connection instead of closing it with a FIN. The closing
// handshake is complete, so the tunnel must end at once, closing the
// client's connection, not at ReadTimeout or CloseTimeout (nginx closes
// both sockets on the upstream's reset). The reset comes in two orders:
// right after the upstream's Close (SO_LINGER 0), and in answer to a data
// frame the client sent behind its Close (the upstream closed with the
// frame unread, which sends a reset).
func TestCloseThenReset(t *testing.T) {
	tests := []struct {
		desc string
		// afterClose is what the client sends behind its Close, in the
		// same write.
		afterClose []byte
	}{
		{desc: "reset after the upstream's close"},
		{desc: "reset for a frame after the client's close",
			afterClose: frame(ws.OpText, true, true, []byte("after close"))},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.desc, func(t *testing.T) {
				t.Parallel()
				ln := listen(t)
				go func() {
					u, err := ln.Accept()
					if err != nil {
						return
					}
					defer u.Close()
					u.SetDeadline(time.Now().Add(20 * time.Second))
					// Read exactly the Close: anything behind it stays
					// unread in the socket.
					code, _, err := readClose(u)
					if err != nil {
						return
					}
					u.Write(frame(ws.OpClose, true, false, closeBody(code)))
					if tt.afterClose != nil {
						// close(2) with unread bytes sends a reset.
						waitReadable(u)
						return
					}
					u.(*net.TCPConn).SetLinger(0)
				}()
				opts := m.opts
				// Neither timer may be what ends the tunnel.
				opts.ReadTimeout = time.Minute
				opts.CloseTimeout = time.Minute
				p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
				c := dialRaw(t, p.addr, false)
				start := time.Now()
				c.conn.Write(append(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)), tt.afterClose...))
				c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				code, _, err := readClose(c.r)
				if err != nil || code != ws.CloseNormal {
					t.Fatalf("client got close %d, %v; want %d", code, err, ws.CloseNormal)
				}
				// The client keeps its end open: the proxy must close it.
				if n, err := c.r.Read(make([]byte, 1)); !isEnd(err) {
					t.Fatalf("client read %d, %v after %v; want its connection closed", n, err, time.Since(start))
				}
				t.Logf("client's connection closed %v after its Close", time.Since(start))
				res := p.result(t)
				want := CauseClient
				if !m.opts.FrameAware {
					// A byte relay knows no Close: the reset ended it.
					want = CauseUpstream
				}
				if res.ClosedBy != want {
					t.Fatalf("ClosedBy = %v; want %v", res.ClosedBy, want)
				}
				if m.opts.FrameAware && res.CloseCode != ws.CloseNormal {
					t.Fatalf("CloseCode = %d; want %d", res.CloseCode, ws.CloseNormal)
				}
			})
		}
	}
}

// isEnd reports whether err is the end of a connection (EOF or reset), not
// a read deadline.
func isEnd(err error) bool {
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestResetBeforeAnswer: one side sends a Close and resets at once,
// before the other side answers it. The survivor has the Close; its answer
// has nowhere to go, so the tunnel reads and drops it and then closes the
// survivor's connection. A survivor that never answers is closed after
// CloseTimeout, not at ReadTimeout.
func TestResetBeforeAnswer(t *testing.T) {
	tests := []struct {
		desc         string
		clientResets bool // the client sends the Close and resets; otherwise the upstream
		answer       bool // the survivor answers the Close
		want         Cause
	}{
		{desc: "upstream resets, client answers", answer: true, want: CauseUpstream},
		{desc: "upstream resets, client silent", want: CauseUpstream},
		{desc: "client resets, upstream answers", clientResets: true, answer: true, want: CauseClient},
		{desc: "client resets, upstream silent", clientResets: true, want: CauseClient},
	}
	for _, i := range []int{2, 4, 6} {
		m := modes[i]
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.desc, func(t *testing.T) {
				t.Parallel()
				ln := listen(t)
				ups := make(chan net.Conn, 1)
				go func() {
					if u, err := ln.Accept(); err == nil {
						ups <- u
					}
				}()
				opts := m.opts
				opts.ReadTimeout = time.Minute
				opts.CloseTimeout = time.Minute
				if !tt.answer {
					opts.CloseTimeout = 500 * time.Millisecond
				}
				p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
				c := dialRaw(t, p.addr, false)
				var u net.Conn
				select {
				case u = <-ups:
					t.Cleanup(func() { u.Close() })
				case <-time.After(10 * time.Second):
					t.Fatalf("the proxy did not connect to the upstream")
				}
				// A frame through the tunnel: it runs (a reset during the
				// proxy's dial would fail the dial instead).
				u.Write(frame(ws.OpText, true, false, []byte("ready")))
				c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, got, err := readFrame(c.r); err != nil || string(got) != "ready" {
					t.Fatalf("client got %q, %v; want %q", got, err, "ready")
				}
				resetter, survivor, sr := u, c.conn, io.Reader(c.r)
				if tt.clientResets {
					resetter, survivor, sr = c.conn, u, u
				}
				// A client's frames are masked (RFC 6455 5.3).
				resetter.Write(frame(ws.OpClose, true, tt.clientResets, closeBody(ws.CloseNormal)))
				resetter.(*net.TCPConn).SetLinger(0)
				resetter.Close()
				survivor.SetReadDeadline(time.Now().Add(10 * time.Second))
				code, _, err := readClose(sr)
				if err != nil || code != ws.CloseNormal {
					t.Fatalf("survivor got close %d, %v; want %d", code, err, ws.CloseNormal)
				}
				start := time.Now()
				if tt.answer {
					survivor.Write(frame(ws.OpClose, true, !tt.clientResets, closeBody(ws.CloseNormal)))
				}
				if n, err := sr.Read(make([]byte, 1)); !isEnd(err) {
					t.Fatalf("survivor read %d, %v after %v; want its connection closed", n, err, time.Since(start))
				}
				t.Logf("survivor's connection closed %v after the Close reached it", time.Since(start))
				res := p.result(t)
				if res.ClosedBy != tt.want || res.CloseCode != ws.CloseNormal {
					t.Fatalf("got %v %d; want %v %d", res.ClosedBy, res.CloseCode, tt.want, ws.CloseNormal)
				}
			})
		}
	}
}

// TestHandshakeDoneBothOpen: both Close frames have passed and neither
// peer closes its connection. Neither may send anything more (RFC 6455
// 5.5.1), so the tunnel closes both after CloseTimeout instead of holding
// them until ReadTimeout.
func TestHandshakeDoneBothOpen(t *testing.T) {
	for _, i := range []int{2, 4, 6} {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ln := listen(t)
			upEnd := make(chan error, 1)
			go func() {
				u, err := ln.Accept()
				if err != nil {
					return
				}
				defer u.Close()
				u.SetDeadline(time.Now().Add(20 * time.Second))
				code, _, err := readClose(u)
				if err != nil {
					upEnd <- err
					return
				}
				u.Write(frame(ws.OpClose, true, false, closeBody(code)))
				// The upstream keeps its end open too.
				_, err = u.Read(make([]byte, 1))
				upEnd <- err
			}()
			opts := m.opts
			opts.ReadTimeout = time.Minute
			opts.CloseTimeout = 300 * time.Millisecond
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
			c := dialRaw(t, p.addr, false)
			start := time.Now()
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)))
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			code, _, err := readClose(c.r)
			if err != nil || code != ws.CloseNormal {
				t.Fatalf("client got close %d, %v; want %d", code, err, ws.CloseNormal)
			}
			if n, err := c.r.Read(make([]byte, 1)); !isEnd(err) {
				t.Fatalf("client read %d, %v after %v; want its connection closed", n, err, time.Since(start))
			}
			if err := <-upEnd; !isEnd(err) {
				t.Fatalf("upstream read: %v; want its connection closed", err)
			}
			t.Logf("both connections closed %v after the client's Close", time.Since(start))
			res := p.result(t)
			if res.ClosedBy != CauseClient || res.CloseCode != ws.CloseNormal {
				t.Fatalf("got %v %d; want client %d", res.ClosedBy, res.CloseCode, ws.CloseNormal)
			}
		})
	}
}
