package tunnel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// testParker parks the tunnels of the parked modes. Its goroutine and
// epoll fd are made before any test counts goroutines or fds.
var testParker = NewParker()

func init() {
	if err := testParker.init(); err != nil && netpoll.Supported {
		panic(err)
	}
}

// modes are the relay modes every test runs in. The parked ones park both
// directions whenever nothing moves, so that every read of a test follows
// a park and a resume.
var modes = []struct {
	name string
	opts Options
}{
	{name: "userspace", opts: Options{}},
	{name: "splice", opts: Options{Splice: true}},
	{name: "frame-aware", opts: Options{FrameAware: true}},
	{name: "userspace-parked", opts: Options{Parker: testParker, parkNow: true}},
	{name: "frame-aware-parked", opts: Options{FrameAware: true, Parker: testParker, parkNow: true}},
	{name: "userspace-loop", opts: Options{Parker: testParker, Loop: true}},
	{name: "frame-aware-loop", opts: Options{FrameAware: true, Parker: testParker, Loop: true}},
}

// relayModes are the modes that are not frame-aware.
func relayModes() []int { return []int{0, 1, 3, 5} }

// TestMessageSizes sends messages of edge sizes through the tunnel to a
// coder/websocket echo backend, with a client writing frames by hand.
func TestMessageSizes(t *testing.T) {
	sizes := []int{0, 125, 126, 65535, 65536, 16 << 20}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			backend, closes := echoBackend(t)
			p := startProxy(t, proxyConfig{backend: backend, handshake: true, opts: m.opts})
			c := dialRaw(t, p.addr, true)
			var sent int64
			for _, n := range sizes {
				msg := patterned(n)
				f := frame(ws.OpBinary, true, true, msg)
				sent += int64(len(f))
				go c.conn.Write(f)
				h, got, err := readFrame(c.r)
				if err != nil {
					t.Fatalf("reading echo of %d bytes: %v", n, err)
				}
				if h.Opcode != ws.OpBinary || h.Masked {
					t.Fatalf("echo header %+v; want unmasked binary", h)
				}
				equalMsg(t, got, msg)
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)))
			code, _, err := readClose(c.r)
			if err != nil || code != ws.CloseNormal {
				t.Fatalf("close reply %d, %v; want %d", code, err, ws.CloseNormal)
			}
			c.conn.Close()
			res := p.result(t)
			if res.FromClient != sent+8 { // + the masked Close with its code
				t.Fatalf("FromClient = %d; want %d", res.FromClient, sent+8)
			}
			if got := <-closes; got != websocket.StatusNormalClosure {
				t.Fatalf("backend saw close %v; want %v", got, websocket.StatusNormalClosure)
			}
			if m.opts.FrameAware {
				if res.MessagesFromClient != uint64(len(sizes)) || res.MessagesFromUpstream != uint64(len(sizes)) {
					t.Fatalf("messages %d/%d; want %d each way", res.MessagesFromClient, res.MessagesFromUpstream, len(sizes))
				}
				if res.CloseCode != ws.CloseNormal || res.ClosedBy != CauseClient {
					t.Fatalf("close code %d by %v; want %d by client", res.CloseCode, res.ClosedBy, ws.CloseNormal)
				}
			}
			if res.Spliced != m.opts.Splice {
				t.Fatalf("Spliced = %v; want %v", res.Spliced, m.opts.Splice)
			}
		})
	}
}

// TestBufferedFirst: bytes already read past both handshakes reach the peers
// before anything read later, in order.
func TestBufferedFirst(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			backend, _ := echoBackend(t)
			first := frame(ws.OpText, true, true, []byte("pipelined"))
			p := startProxy(t, proxyConfig{backend: backend, handshake: true, opts: m.opts})
			c := dialRaw(t, p.addr, false)
			// Handshake and the first frame in one write: the proxy reads the
			// frame into its buffer with the head.
			req := "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
			c.conn.Write(append([]byte(req), first...))
			c.conn.Write(frame(ws.OpText, true, true, []byte("second")))
			head, err := readHead(c.r)
			if err != nil || !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
				t.Fatalf("handshake answer %q, %v; want 101", head, err)
			}
			for _, want := range []string{"pipelined", "second"} {
				_, got, err := readFrame(c.r)
				if err != nil || string(got) != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
			}
		})
	}
}

// TestUpstreamBufferedFirst: bytes the upstream sent right behind its 101
// are given to Run as upstreamBuf and arrive first.
func TestUpstreamBufferedFirst(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ln := listen(t)
			go func() {
				u, err := ln.Accept()
				if err != nil {
					return
				}
				defer u.Close()
				readHead(bufioReader(u))
				resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + ws.AcceptKey(testKey) + "\r\n\r\n"
				u.Write(append([]byte(resp), frame(ws.OpText, true, false, []byte("hello"))...))
				time.Sleep(50 * time.Millisecond) // the case: "world" comes apart, after the buffered "hello"
				u.Write(frame(ws.OpText, true, false, []byte("world")))
				io.Copy(io.Discard, u)
			}()
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), handshake: true, opts: m.opts})
			c := dialRaw(t, p.addr, true)
			for _, want := range []string{"hello", "world"} {
				_, got, err := readFrame(c.r)
				if err != nil || string(got) != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
			}
		})
	}
}

// TestHalfClose: a FIN from the client reaches the upstream, which keeps
// sending until it ends; the client reads everything, then EOF.
func TestHalfClose(t *testing.T) {
	for _, i := range relayModes() { // frame-aware mode treats a FIN without Close as the client gone
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			ln := listen(t)
			go func() {
				u, err := ln.Accept()
				if err != nil {
					return
				}
				defer u.Close()
				got, _ := io.ReadAll(u)           // until the client's FIN
				time.Sleep(50 * time.Millisecond) // the case: the upstream still sends well after the FIN
				u.Write(append([]byte("echo:"), got...))
				u.Write([]byte(":bye"))
			}()
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: m.opts})
			c := dialRaw(t, p.addr, false)
			c.conn.Write([]byte("request"))
			c.conn.(*net.TCPConn).CloseWrite()
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c.r)
			if err != nil || string(got) != "echo:request:bye" {
				t.Fatalf("got %q, %v; want %q", got, err, "echo:request:bye")
			}
			res := p.result(t)
			if res.ClosedBy != CauseClient || res.FromClient != 7 || res.FromUpstream != 16 {
				t.Fatalf("got %v, %d, %d; want client, 7, 16", res.ClosedBy, res.FromClient, res.FromUpstream)
			}
		})
	}
}

// sink accepts one connection and reads it until closed, reporting when.
func sink(t testing.TB) (addr string, closed chan time.Time) {
	ln := listen(t)
	closed = make(chan time.Time, 1)
	go func() {
		u, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, u)
		closed <- time.Now()
		u.Close()
	}()
	return ln.Addr().String(), closed
}

// TestIdleTimeout: ReadTimeout ends a silent tunnel about its value after
// the last byte, not before, and traffic in either direction re-arms it
// (nginx: ngx_http_upstream_process_upgraded re-arms proxy_read_timeout on
// every event).
func TestIdleTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	for _, i := range relayModes() {
		m := modes[i]
		for _, traffic := range []string{"none", "client", "upstream"} {
			t.Run(m.name+"/"+traffic, func(t *testing.T) {
				// pulse writes a byte every timeout/5, ten times, and reports
				// the time of its last write and the longest gap it saw.
				type pulseResult struct {
					last   time.Time
					maxGap time.Duration
					err    error
				}
				pulse := func(w io.Writer, start time.Time) pulseResult {
					r := pulseResult{last: start}
					for i := 0; i < 10; i++ {
						time.Sleep(timeout / 5) // the pace is the case: traffic well within the timeout
						now := time.Now()
						r.maxGap = max(r.maxGap, now.Sub(r.last))
						if _, err := w.Write([]byte("x")); err != nil {
							r.err = err
							return r
						}
						r.last = now
					}
					return r
				}
				pulses := make(chan pulseResult, 1)
				ln := listen(t)
				go func() {
					u, err := ln.Accept()
					if err != nil {
						return
					}
					defer u.Close()
					if traffic == "upstream" {
						pulses <- pulse(u, time.Now())
					}
					io.Copy(io.Discard, u)
				}()
				opts := m.opts
				opts.ReadTimeout = timeout
				p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
				c := dialRaw(t, p.addr, false)
				start := time.Now()
				readDone := make(chan time.Time, 1)
				go func() {
					c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
					io.Copy(io.Discard, c.r)
					readDone <- time.Now()
				}()
				pr := pulseResult{last: start}
				switch traffic {
				case "client":
					pr = pulse(c.conn, start)
				case "upstream":
					pr = <-pulses
				}
				closed := <-readDone
				res := p.result(t)
				if pr.maxGap > timeout*4/5 {
					t.Skipf("a %v pause between writes (scheduler stall); cannot judge the re-arm", pr.maxGap)
				}
				if pr.err != nil {
					t.Fatalf("write failed: %v (tunnel closed by %v after %v while traffic flowed)", pr.err, res.ClosedBy, res.Duration)
				}
				idle := closed.Sub(pr.last)
				// The upper bound is loose (a loaded machine delays
				// the timer and the reader), yet far below the
				// reader's 20 s deadline, where a timer that never
				// fired would show.
				if idle < timeout-50*time.Millisecond || idle > timeout+10*time.Second {
					t.Fatalf("tunnel closed %v after the last byte; want about %v", idle, timeout)
				}
				if res.ClosedBy != CauseTimeout {
					t.Fatalf("ClosedBy = %v; want timeout", res.ClosedBy)
				}
			})
		}
	}
}

// TestIdleTimeoutCloseFrames: in frame-aware mode an idle timeout sends
// Close 1001 to both sides: unmasked to the client, masked to the upstream.
func TestIdleTimeoutCloseFrames(t *testing.T) {
	backend, closes := echoBackend(t)
	p := startProxy(t, proxyConfig{backend: backend, handshake: true,
		opts: Options{FrameAware: true, ReadTimeout: 300 * time.Millisecond}})
	c := dialRaw(t, p.addr, true)
	start := time.Now()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	code, h, err := readClose(c.r)
	if err != nil || code != ws.CloseGoingAway || h.Masked {
		t.Fatalf("client got close %d masked=%v, %v; want %d unmasked", code, h.Masked, err, ws.CloseGoingAway)
	}
	if e := time.Since(start); e < 250*time.Millisecond {
		t.Fatalf("close after %v; want at least 250ms", e)
	}
	c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseGoingAway)))
	select {
	case got := <-closes:
		if got != websocket.StatusGoingAway {
			t.Fatalf("backend got close %v; want %v", got, websocket.StatusGoingAway)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("backend saw no close")
	}
	res := p.result(t)
	if res.ClosedBy != CauseTimeout || res.CloseCode != ws.CloseGoingAway {
		t.Fatalf("got %v %d; want timeout %d", res.ClosedBy, res.CloseCode, ws.CloseGoingAway)
	}
}

// TestUpstreamDies: an upstream that dies never leaves the client hanging:
// at a frame boundary the client gets Close 1014, mid-frame an EOF.
func TestUpstreamDies(t *testing.T) {
	tests := []struct {
		desc      string
		send      []byte
		reset     bool
		wantClose bool
	}{
		{desc: "at boundary", send: frame(ws.OpText, true, false, []byte("last")), wantClose: true},
		{desc: "mid message", send: frame(ws.OpBinary, true, false, make([]byte, 1000))[:100]},
		{desc: "mid message reset", send: frame(ws.OpBinary, true, false, make([]byte, 1000))[:100], reset: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ln := listen(t)
			go func() {
				u, err := ln.Accept()
				if err != nil {
					return
				}
				u.Write(tt.send)
				time.Sleep(50 * time.Millisecond) // the case: the end comes after the bytes, as a separate event
				if tt.reset {
					u.(*net.TCPConn).SetLinger(0)
				}
				u.Close()
			}()
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: Options{FrameAware: true}})
			c := dialRaw(t, p.addr, false)
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			code, _, err := readClose(c.r)
			if tt.wantClose {
				if err != nil || code != ws.CloseBadGateway {
					t.Fatalf("got close %d, %v; want %d", code, err, ws.CloseBadGateway)
				}
				c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseBadGateway)))
			} else if err == nil || errors.Is(err, net.ErrClosed) || isTimeout(err) {
				t.Fatalf("got close %d, %v; want EOF", code, err)
			}
			if res := p.result(t); res.ClosedBy != CauseUpstream {
				t.Fatalf("ClosedBy = %v; want upstream", res.ClosedBy)
			}
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestReloadCloseAfterFrame: a CloseWhere that arrives while a large frame
// is crossing the tunnel delivers the whole frame first, then an intact
// Close 1012 to the client, and a masked Close 1012 to the upstream.
func TestReloadCloseAfterFrame(t *testing.T) {
	ln := listen(t)
	payload := patterned(64 << 10)
	big := frame(ws.OpBinary, true, false, payload)
	upClose := make(chan ws.Header, 1)
	midway := make(chan struct{})
	go func() {
		u, err := ln.Accept()
		if err != nil {
			return
		}
		defer u.Close()
		got := make(chan ws.Header, 1)
		go func() {
			if code, h, err := readClose(u); err == nil && code == ws.CloseServiceRestart {
				got <- h
			}
		}()
		for i := 0; i < len(big); i += 4096 {
			if i == 8*4096 {
				close(midway)
			}
			u.Write(big[i:min(i+4096, len(big))])
			time.Sleep(10 * time.Millisecond) // the case: a frame arriving in pieces over time
		}
		select { // the upstream answers our Close once its frame is out
		case h := <-got:
			upClose <- h
			u.Write(frame(ws.OpClose, true, false, closeBody(ws.CloseServiceRestart)))
		case <-time.After(10 * time.Second):
		}
	}()
	reg := NewRegistry()
	// CloseTimeout far beyond the test's bounds: the tunnel must end by
	// its closing handshake.
	p := startProxy(t, proxyConfig{backend: ln.Addr().String(), reg: reg, route: "/ws/",
		opts: Options{FrameAware: true, CloseTimeout: time.Hour}})
	c := dialRaw(t, p.addr, false)
	<-midway
	if n := reg.CloseWhere(func(i Info) bool { return i.Route == "/ws/" }, ws.CloseServiceRestart, "reload", 0); n != 1 {
		t.Fatalf("CloseWhere matched %d; want 1", n)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, got, err := readFrame(c.r)
	if err != nil || h.Opcode != ws.OpBinary {
		t.Fatalf("first frame %+v, %v; want the binary frame", h, err)
	}
	equalMsg(t, got, payload)
	code, _, err := readClose(c.r)
	if err != nil || code != ws.CloseServiceRestart {
		t.Fatalf("got close %d, %v; want %d", code, err, ws.CloseServiceRestart)
	}
	c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseServiceRestart)))
	select {
	case h := <-upClose:
		if !h.Masked {
			t.Fatalf("close to upstream unmasked; want masked")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("upstream got no close")
	}
	res := p.result(t)
	if res.ClosedBy != CauseReload || res.CloseCode != ws.CloseServiceRestart {
		t.Fatalf("got %v %d; want reload %d", res.ClosedBy, res.CloseCode, ws.CloseServiceRestart)
	}
	if res.Duration >= time.Hour {
		t.Fatalf("tunnel lasted %v, ended by CloseTimeout; want it to end once both Closes were exchanged", res.Duration)
	}
	if reg.Len() != 0 {
		t.Fatalf("registry holds %d tunnels; want 0", reg.Len())
	}
}

// TestShutdown: Shutdown sends Close 1001 to every client and returns once
// all tunnels ended; closes of unanswered peers are bounded by CloseTimeout.
func TestShutdown(t *testing.T) {
	backend, closes := echoBackend(t)
	reg := NewRegistry()
	p := startProxy(t, proxyConfig{backend: backend, handshake: true, reg: reg,
		opts: Options{FrameAware: true, CloseTimeout: time.Second}})
	const n = 5
	clients := make([]*rawClient, n)
	for i := range clients {
		clients[i] = dialRaw(t, p.addr, true)
	}
	if !proxytest.Poll(5*time.Second, func() bool { return reg.Len() >= n }) {
		t.Fatalf("registry holds %d tunnels; want %d", reg.Len(), n)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- reg.Shutdown(ctx, ws.CloseGoingAway, 0)
	}()
	for i, c := range clients {
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		code, _, err := readClose(c.r)
		if err != nil || code != ws.CloseGoingAway {
			t.Fatalf("client %d got close %d, %v; want %d", i, code, err, ws.CloseGoingAway)
		}
		if i%2 == 0 { // half answer, half leave it to CloseTimeout
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseGoingAway)))
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i := 0; i < n; i++ {
		if res := p.result(t); res.ClosedBy != CauseShutdown {
			t.Fatalf("ClosedBy = %v; want shutdown", res.ClosedBy)
		}
	}
	for i := 0; i < n; i++ {
		if got := <-closes; got != websocket.StatusGoingAway {
			t.Fatalf("backend saw close %v; want %v", got, websocket.StatusGoingAway)
		}
	}
	if reg.Len() != 0 {
		t.Fatalf("Len = %d after Shutdown; want 0", reg.Len())
	}
}

// TestClosingHandshakeEnds: once both Close frames have passed and one side
// has closed its connection, the tunnel closes the other at once (RFC 6455
// 7.1.1: the server closes the TCP connection first) instead of waiting
// CloseTimeout for a client that keeps its end open.
func TestClosingHandshakeEnds(t *testing.T) {
	tests := []struct {
		desc        string
		clientFirst bool // the client sends the first Close; otherwise the upstream
		want        Cause
	}{
		{desc: "client closes first", clientFirst: true, want: CauseClient},
		{desc: "upstream closes first", want: CauseUpstream},
	}
	for _, i := range []int{2, 4, 6} {
		m := modes[i]
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.desc, func(t *testing.T) {
				ln := listen(t)
				go func() {
					u, err := ln.Accept()
					if err != nil {
						return
					}
					defer u.Close()
					u.SetDeadline(time.Now().Add(10 * time.Second))
					if !tt.clientFirst {
						u.Write(frame(ws.OpClose, true, false, closeBody(ws.CloseNormal)))
					}
					if _, _, err := readClose(u); err != nil {
						return
					}
					if tt.clientFirst {
						u.Write(frame(ws.OpClose, true, false, closeBody(ws.CloseNormal)))
					}
					// The upstream, as server, closes its connection first.
				}()
				opts := m.opts
				// Far beyond the test's bounds: the proxy must close
				// the client's connection on its own, not at CloseTimeout.
				opts.CloseTimeout = time.Hour
				p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
				c := dialRaw(t, p.addr, false)
				c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				start := time.Now()
				if tt.clientFirst {
					c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)))
				}
				code, _, err := readClose(c.r)
				if err != nil || code != ws.CloseNormal {
					t.Fatalf("client got close %d, %v; want %d", code, err, ws.CloseNormal)
				}
				if !tt.clientFirst {
					c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)))
				}
				// The client keeps its end open: the proxy must close it.
				if n, err := c.r.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("client read %d, %v; want EOF", n, err)
				}
				if e := time.Since(start); e >= opts.CloseTimeout {
					t.Fatalf("connection closed after %v; want before CloseTimeout (%v)", e, opts.CloseTimeout)
				}
				res := p.result(t)
				if res.ClosedBy != tt.want || res.CloseCode != ws.CloseNormal || res.Err != nil {
					t.Fatalf("got %v %d %v; want %v %d <nil>", res.ClosedBy, res.CloseCode, res.Err, tt.want, ws.CloseNormal)
				}
				if res.Duration >= opts.CloseTimeout {
					t.Fatalf("got duration %v; want under CloseTimeout (%v)", res.Duration, opts.CloseTimeout)
				}
			})
		}
	}
}
