package tunnel

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"wsgate/internal/ws"
)

// frameAwareModes are the frame-aware relay modes: goroutines, parked,
// served by the event loop.
var frameAwareModes = []int{2, 4, 6}

// rawBackend accepts one connection at a time and reports every frame it
// reads (unmasked). It answers a Ping with a Pong when pong is set, and a
// Close with the same code, then closes the connection.
type rawBackend struct {
	addr   string
	frames chan wireFrame
}

type wireFrame struct {
	h ws.Header
	p []byte
}

func startRawBackend(t *testing.T, pong bool) *rawBackend {
	t.Helper()
	ln := listen(t)
	b := &rawBackend{addr: ln.Addr().String(), frames: make(chan wireFrame, 256)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufioReader(c)
				for {
					h, p, err := readFrame(r)
					if err != nil {
						return
					}
					b.frames <- wireFrame{h, p}
					switch {
					case h.Opcode == ws.OpPing && pong:
						c.Write(frame(ws.OpPong, true, false, p))
					case h.Opcode == ws.OpClose:
						c.Write(frame(ws.OpClose, true, false, p))
						return
					}
				}
			}(c)
		}
	}()
	return b
}

// next returns the backend's next frame.
func (b *rawBackend) next(t *testing.T) wireFrame {
	t.Helper()
	select {
	case f := <-b.frames:
		return f
	case <-time.After(10 * time.Second):
		t.Fatalf("backend got no frame within 10s")
		return wireFrame{}
	}
}

// TestPingsConsumed: the client gets wsgate's Pings and answers them; the
// answers never reach the upstream, while the client's own Ping, an
// unsolicited Pong and its data pass in order; the round-trip time is
// measured.
func TestPingsConsumed(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			b := startRawBackend(t, false)
			opts := m.opts
			opts.Ping = PingOptions{Interval: 20 * time.Millisecond, Timeout: 10 * time.Second, Client: true}
			p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
			c := dialRaw(t, p.addr, false)
			for n := 0; n < 3; n++ {
				h, payload, err := readFrame(c.r)
				if err != nil {
					t.Fatalf("reading wsgate's Ping: %v", err)
				}
				if h.Opcode != ws.OpPing || h.Masked || len(payload) != pingPayloadLen {
					t.Fatalf("got %v masked=%v with %d bytes; want an unmasked Ping of %d", h.Opcode, h.Masked, len(payload), pingPayloadLen)
				}
				// The Pong split in two writes: the gate withholds it to its end.
				f := frame(ws.OpPong, true, true, payload)
				c.conn.Write(f[:3])
				c.conn.Write(f[3:])
				c.conn.Write(frame(ws.OpText, true, true, []byte{'m', byte('0' + n)}))
			}
			c.conn.Write(frame(ws.OpPing, true, true, []byte("own")))
			c.conn.Write(frame(ws.OpPong, true, true, []byte("unsolicited-pong")))
			c.conn.Write(frame(ws.OpClose, true, true, append(closeBody(1000), "bye"...)))
			want := []struct {
				op ws.Opcode
				p  string
			}{{ws.OpText, "m0"}, {ws.OpText, "m1"}, {ws.OpText, "m2"}, {ws.OpPing, "own"}, {ws.OpPong, "unsolicited-pong"}, {ws.OpClose, "\x03\xe8bye"}}
			for _, w := range want {
				f := b.next(t)
				if f.h.Opcode != w.op || string(f.p) != w.p {
					t.Fatalf("backend got %v %q; want %v %q", f.h.Opcode, f.p, w.op, w.p)
				}
			}
			res := p.result(t)
			if res.ClientRTT <= 0 || res.UpstreamRTT != 0 {
				t.Errorf("got ClientRTT %v, UpstreamRTT %v; want a client RTT only", res.ClientRTT, res.UpstreamRTT)
			}
			if res.ClosedBy != CauseClient || res.CloseCode != 1000 || res.CloseFrom != CauseClient || res.CloseReason != "bye" || res.EndReason() != "close" {
				t.Errorf("got ClosedBy %v, Close %d %q from %v, end reason %q; want the client's 1000 \"bye\", close",
					res.ClosedBy, res.CloseCode, res.CloseReason, res.CloseFrom, res.EndReason())
			}
		})
	}
}

// TestPingUpstream: the upstream answers wsgate's masked Pings; the client
// never sees them or their Pongs.
func TestPingUpstream(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			b := startRawBackend(t, true)
			opts := m.opts
			opts.Ping = PingOptions{Interval: 20 * time.Millisecond, Upstream: true}
			p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
			c := dialRaw(t, p.addr, false)
			for n := 0; n < 2; n++ {
				f := b.next(t)
				if f.h.Opcode != ws.OpPing || !f.h.Masked || len(f.p) != pingPayloadLen {
					t.Fatalf("backend got %v masked=%v; want a masked Ping", f.h.Opcode, f.h.Masked)
				}
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
			code, _, err := readClose(c.r)
			if err != nil || code != 1000 {
				t.Fatalf("got Close %d, %v; want the backend's 1000 and no Pong before it", code, err)
			}
			res := p.result(t)
			if res.UpstreamRTT <= 0 {
				t.Errorf("got UpstreamRTT %v; want it measured", res.UpstreamRTT)
			}
		})
	}
}

// TestDeadClient: a client that stops answering wsgate's Pings has its
// socket closed, with no Close to it, and the upstream gets Close 1001.
func TestDeadClient(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			b := startRawBackend(t, false)
			opts := m.opts
			opts.Ping = PingOptions{Interval: 20 * time.Millisecond, Timeout: 60 * time.Millisecond, Client: true}
			p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
			c := dialRaw(t, p.addr, false)
			c.conn.Write(frame(ws.OpText, true, true, []byte("hello")))
			if f := b.next(t); string(f.p) != "hello" {
				t.Fatalf("backend got %q; want hello", f.p)
			}
			// The client reads but never answers.
			pings := 0
			for {
				h, _, err := readFrame(c.r)
				if err != nil {
					break
				}
				if h.Opcode != ws.OpPing {
					t.Fatalf("client got %v; want Pings, then its socket closed", h.Opcode)
				}
				pings++
			}
			if pings == 0 {
				t.Errorf("client got no Ping before its socket was closed")
			}
			f := b.next(t)
			if f.h.Opcode != ws.OpClose || !bytes.Equal(f.p[:2], closeBody(1001)) {
				t.Fatalf("backend got %v %q; want Close 1001", f.h.Opcode, f.p)
			}
			res := p.result(t)
			if res.ClosedBy != CausePing || res.CloseCode != 1001 || res.CloseFrom != CauseNone || res.EndReason() != "ping" {
				t.Errorf("got ClosedBy %v code %d from %v, end reason %q; want ping, wsgate's 1001", res.ClosedBy, res.CloseCode, res.CloseFrom, res.EndReason())
			}
		})
	}
}

// TestLimits: messages and frames just below a limit pass; the first above
// it ends the tunnel at a frame boundary with 1009 (1008 for a rate) to the
// sender and 1001 to the upstream, which never sees any byte of it.
func TestLimits(t *testing.T) {
	cases := []struct {
		desc   string
		lim    Limits
		frames [][]byte // client frames; the last one breaks the limit
		code   uint16
		msgs   uint64 // data messages relayed
	}{
		{desc: "message just below, then above", lim: Limits{MaxMessage: 1000},
			frames: [][]byte{frame(ws.OpBinary, true, true, patterned(1000)), frame(ws.OpBinary, true, true, patterned(1001))}, code: 1009, msgs: 1},
		{desc: "fragmented message above", lim: Limits{MaxMessage: 1000},
			frames: [][]byte{frame(ws.OpText, false, true, patterned(600)), frame(ws.OpPing, true, true, nil), frame(ws.OpContinuation, true, true, patterned(401))}, code: 1009, msgs: 0},
		{desc: "frame just below, then above", lim: Limits{MaxFrame: 70000},
			frames: [][]byte{frame(ws.OpBinary, true, true, patterned(70000)), frame(ws.OpBinary, true, true, patterned(70001))}, code: 1009, msgs: 1},
		{desc: "first frame above", lim: Limits{MaxFrame: 10},
			frames: [][]byte{frame(ws.OpText, true, true, patterned(11))}, code: 1009},
		{desc: "rate", lim: Limits{Rate: 0.001, Burst: 2},
			frames: [][]byte{frame(ws.OpText, true, true, []byte("a")), frame(ws.OpText, true, true, []byte("b")), frame(ws.OpText, true, true, []byte("c"))}, code: 1008, msgs: 2},
	}
	for _, tc := range cases {
		for _, i := range frameAwareModes {
			m := modes[i]
			t.Run(tc.desc+"/"+m.name, func(t *testing.T) {
				b := startRawBackend(t, false)
				opts := m.opts
				opts.ClientLimits = tc.lim
				p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
				c := dialRaw(t, p.addr, false)
				for _, f := range tc.frames {
					c.conn.Write(f)
				}
				for _, f := range tc.frames[:len(tc.frames)-1] {
					h, _, _ := ws.ParseHeader(f)
					got := b.next(t)
					if got.h.Opcode != h.Opcode || got.h.Length != h.Length {
						t.Fatalf("backend got %v of %d; want %v of %d", got.h.Opcode, got.h.Length, h.Opcode, h.Length)
					}
				}
				if got := b.next(t); got.h.Opcode != ws.OpClose || !bytes.Equal(got.p[:2], closeBody(1001)) {
					t.Fatalf("backend got %v of %d; want Close 1001", got.h.Opcode, got.h.Length)
				}
				code, _, err := readClose(c.r)
				if err != nil || code != tc.code {
					t.Fatalf("client got Close %d, %v; want %d", code, err, tc.code)
				}
				c.conn.Write(frame(ws.OpClose, true, true, closeBody(tc.code)))
				res := p.result(t)
				if res.MessagesFromClient != tc.msgs {
					t.Errorf("got %d messages from the client; want %d relayed", res.MessagesFromClient, tc.msgs)
				}
				if res.ClosedBy != CauseLimit || res.CloseCode != tc.code || res.CloseReason == "" || res.EndReason() != "limit" {
					t.Errorf("got ClosedBy %v, Close %d %q, end reason %q; want limit %d with a reason", res.ClosedBy, res.CloseCode, res.CloseReason, res.EndReason(), tc.code)
				}
			})
		}
	}
}

// TestRateDrop: with drop, a message over the rate is dropped whole and
// the tunnel goes on.
func TestRateDrop(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			b := startRawBackend(t, false)
			opts := m.opts
			opts.ClientLimits = Limits{Rate: 0.001, Burst: 1, Drop: true}
			p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
			c := dialRaw(t, p.addr, false)
			c.conn.Write(frame(ws.OpText, true, true, []byte("kept")))
			c.conn.Write(frame(ws.OpText, false, true, []byte("dro")))
			c.conn.Write(frame(ws.OpPing, true, true, []byte("p")))
			c.conn.Write(frame(ws.OpContinuation, true, true, []byte("pped")))
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
			for _, want := range []ws.Opcode{ws.OpText, ws.OpPing, ws.OpClose} {
				if got := b.next(t); got.h.Opcode != want {
					t.Fatalf("backend got %v %q; want %v", got.h.Opcode, got.p, want)
				}
			}
			if res := p.result(t); res.ClosedBy != CauseClient || res.MessagesFromClient != 1 {
				t.Errorf("got ClosedBy %v, %d messages; want client, 1 relayed", res.ClosedBy, res.MessagesFromClient)
			}
		})
	}
}

// TestProgress: a running tunnel reports its bytes so far from its timer,
// pinged or not, and stops reporting once it has ended.
func TestProgress(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			b := startRawBackend(t, false)
			reports := make(chan Progress, 1024)
			opts := m.opts
			opts.Progress = func(p Progress) { reports <- p }
			opts.ProgressEvery = 10 * time.Millisecond
			p := startProxy(t, proxyConfig{backend: b.addr, opts: opts})
			c := dialRaw(t, p.addr, false)
			msg := frame(ws.OpText, true, true, []byte("counted"))
			c.conn.Write(msg)
			b.next(t)
			for deadline := time.After(10 * time.Second); ; {
				select {
				case r := <-reports:
					if r.FromClient == int64(len(msg)) && r.MessagesFromClient == 1 && r.Duration > 0 {
						goto seen
					}
				case <-deadline:
					t.Fatal("no report of the bytes relayed within 10s")
				}
			}
		seen:
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
			p.result(t)
		})
	}
}

// FuzzGatePassThrough: with a gate that consumes only wsgate's own Pongs
// and limits nothing, whatever src sends, cut into chunks anywhere, comes
// out byte for byte, framing errors included.
func FuzzGatePassThrough(f *testing.F) {
	f.Add(append(frame(ws.OpText, true, true, []byte("hello")), frame(ws.OpPong, true, true, patterned(16))...), []byte{1, 2, 3})
	f.Add(append(frame(ws.OpBinary, false, true, patterned(300)), frame(ws.OpContinuation, true, true, nil)...), []byte{7})
	f.Add([]byte{0x81, 0xff, 0xff}, []byte{1})
	f.Fuzz(func(t *testing.T, in, cuts []byte) {
		tn := &tunnel{h: &Handle{}, start: clock()}
		tn.ping = newPinger(&Options{FrameAware: true, Ping: PingOptions{Interval: time.Hour, Client: true}})
		c := &tn.copiers[clientToUpstream]
		c.t, c.dir, c.g = tn, clientToUpstream, newGate(true, Limits{})
		var got []byte
		rest := append([]byte(nil), in...)
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, int(cuts[i%len(cuts)])+1)
			}
			chunk := append([]byte(nil), rest[:n]...)
			rest = rest[n:]
			pre, out, _ := c.gatePass(chunk)
			got = append(append(got, pre...), out...)
		}
		got = append(got, c.g.held...) // a frame still withheld at the end
		if !bytes.Equal(got, in) {
			t.Fatalf("got %x; want %x", got, in)
		}
	})
}

// TestPingRTTLive: a running tunnel's round-trip time is readable from
// the registry while it lasts (the status page's view).
func TestPingRTTLive(t *testing.T) {
	b := startRawBackend(t, false)
	reg := NewRegistry()
	opts := Options{FrameAware: true, Parker: testParker, Loop: true,
		Ping: PingOptions{Interval: 10 * time.Millisecond, Timeout: 10 * time.Second, Client: true}}
	p := startProxy(t, proxyConfig{backend: b.addr, opts: opts, reg: reg})
	c := dialRaw(t, p.addr, false)
	rtt := func() (d time.Duration) {
		reg.Each(func(i Info) { d = i.ClientRTT })
		return d
	}
	for deadline := time.Now().Add(10 * time.Second); rtt() == 0; {
		h, payload, err := readFrame(c.r)
		if err != nil || h.Opcode != ws.OpPing {
			t.Fatalf("got %v, %v; want wsgate's Ping", h.Opcode, err)
		}
		c.conn.Write(frame(ws.OpPong, true, true, payload))
		if time.Now().After(deadline) {
			t.Fatal("no round-trip time in the registry within 10s")
		}
	}
	c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
	if res := p.result(t); res.ClientRTT <= 0 {
		t.Errorf("got ClientRTT %v at the end; want it", res.ClientRTT)
	}
}

// TestPingHeldBehindFrame: a Ping due while a long frame is being written
// to the client waits for that frame's end, and the client's time to
// answer runs from when the Ping was sent: a client that is busy
// receiving a frame that takes longer than ws_pong_timeout to arrive is
// not dead. The upstream sends one frame in pieces over several pong
// timeouts; the client answers every Ping once it gets it.
func TestPingHeldBehindFrame(t *testing.T) {
	const pieces, piece = 12, 4 << 10
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			ln := listen(t)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				payload := patterned(pieces * piece)
				f := frame(ws.OpBinary, true, false, payload)
				head := len(f) - len(payload)
				c.Write(f[:head+piece])
				for k := 1; k < pieces; k++ {
					// A slow sender: the frame takes about 12 pong
					// timeouts to arrive. Pacing is the case, not a
					// wait for a condition.
					time.Sleep(20 * time.Millisecond)
					c.Write(f[head+k*piece : head+(k+1)*piece])
				}
				readClose(bufioReader(c))
				c.Write(frame(ws.OpClose, true, false, closeBody(1000)))
			}()
			opts := m.opts
			opts.Ping = PingOptions{Interval: 10 * time.Millisecond, Timeout: 20 * time.Millisecond, Client: true}
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
			c := dialRaw(t, p.addr, false)
			for {
				h, payload, err := readFrame(c.r)
				if err != nil {
					t.Fatalf("reading: %v (the client was found dead while it received a frame)", err)
				}
				if h.Opcode == ws.OpPing {
					c.conn.Write(frame(ws.OpPong, true, true, payload))
					continue
				}
				if h.Opcode != ws.OpBinary || !bytes.Equal(payload, patterned(pieces*piece)) {
					t.Fatalf("got %v of %d bytes; want the upstream's binary frame of %d", h.Opcode, len(payload), pieces*piece)
				}
				break
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
			res := p.result(t)
			if res.ClosedBy == CausePing {
				t.Errorf("got ClosedBy %v; want the client's close, not a ping timeout", res.ClosedBy)
			}
		})
	}
}

// TestLimitAwaitsClose: when the upstream breaks a limit, wsgate's Close
// 1009 to it and 1001 to the client do not complete the closing
// handshake with the client: after the upstream's side is over, the
// client's connection stays open for the client's own Close, which is
// read, and then ends with a FIN, not with a reset of an unread Close.
// The client is in the middle of a frame when the limit is broken, so
// that the 1009 waits for that frame's end, after the upstream has
// answered and closed.
func TestLimitAwaitsClose(t *testing.T) {
	for _, i := range frameAwareModes {
		m := modes[i]
		t.Run(m.name, func(t *testing.T) {
			ln := listen(t)
			backendDone := make(chan struct{})
			go func() {
				defer close(backendDone)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				c.Write(append(frame(ws.OpBinary, true, false, patterned(11)), frame(ws.OpClose, true, false, closeBody(1000))...))
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			}()
			opts := m.opts
			opts.UpstreamLimits = Limits{MaxFrame: 10}
			p := startProxy(t, proxyConfig{backend: ln.Addr().String(), opts: opts})
			c := dialRaw(t, p.addr, false)
			half := frame(ws.OpBinary, true, true, patterned(100))
			c.conn.Write(half[:50])
			code, _, err := readClose(c.r)
			if err != nil || code != 1001 {
				t.Fatalf("client got Close %d, %v; want 1001", code, err)
			}
			// The upstream's Close and FIN reach wsgate, which has nothing
			// to show for them: a pause, not a wait for a condition (if
			// wsgate is slower, the test passes without proving).
			time.Sleep(100 * time.Millisecond)
			c.conn.Write(half[50:])
			// The client's side stays open for its Close (a bounded look:
			// nothing must arrive).
			c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := c.r.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("before the client's Close, its connection: %v; want it open", err)
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1001)))
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.r.ReadByte(); err != io.EOF {
				t.Errorf("after the client's Close: %v; want EOF", err)
			}
			if res := p.result(t); res.ClosedBy != CauseLimit {
				t.Errorf("got ClosedBy %v; want limit", res.ClosedBy)
			}
			<-backendDone
		})
	}
}
