package tunnel

import (
	"context"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// waitParked waits until p holds at least n parked directions.
func waitParked(t *testing.T, p *Parker, n int) {
	t.Helper()
	if !proxytest.Poll(5*time.Second, func() bool { return p.Parked() >= n }) {
		t.Fatalf("got %d parked directions; want %d", p.Parked(), n)
	}
}

// TestPark: an idle frame-aware tunnel parks both directions, wakes for a
// message either way, and obeys a close request, an idle timeout and a
// shutdown while parked, with the same Close frames as a running tunnel.
func TestPark(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	tests := []struct {
		desc     string
		timeout  time.Duration
		end      func(reg *Registry)
		code     uint16
		causeEnd Cause
	}{
		{desc: "reload", end: func(reg *Registry) {
			reg.CloseWhere(func(Info) bool { return true }, ws.CloseServiceRestart, "reload", 0)
		}, code: ws.CloseServiceRestart, causeEnd: CauseReload},
		{desc: "idle timeout", timeout: 700 * time.Millisecond, code: ws.CloseGoingAway, causeEnd: CauseTimeout},
		{desc: "shutdown", end: func(reg *Registry) {
			go reg.Shutdown(context.Background(), ws.CloseGoingAway, 0)
		}, code: ws.CloseGoingAway, causeEnd: CauseShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			backend, _ := echoBackend(t)
			reg := NewRegistry()
			parker := NewParker()
			p := startProxy(t, proxyConfig{backend: backend, handshake: true, reg: reg,
				opts: Options{FrameAware: true, Parker: parker, ParkAfter: 50 * time.Millisecond,
					ReadTimeout: tt.timeout, CloseTimeout: 2 * time.Second}})
			c := dialRaw(t, p.addr, true)
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i := range 3 {
				waitParked(t, parker, 2)
				msg := patterned(100 + i)
				c.conn.Write(frame(ws.OpText, true, true, msg))
				h, got, err := readFrame(c.r)
				if err != nil || h.Opcode != ws.OpText {
					t.Fatalf("echo %d: got %+v, %v; want a text frame", i, h, err)
				}
				equalMsg(t, got, msg)
			}
			waitParked(t, parker, 2)
			if tt.end != nil {
				tt.end(reg)
			}
			code, h, err := readClose(c.r)
			if err != nil || code != tt.code || h.Masked {
				t.Fatalf("got close %d (masked %v), %v; want unmasked %d", code, h.Masked, err, tt.code)
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(code)))
			res := p.result(t)
			if res.ClosedBy != tt.causeEnd || res.CloseCode != tt.code {
				t.Fatalf("got %v %d; want %v %d", res.ClosedBy, res.CloseCode, tt.causeEnd, tt.code)
			}
			if res.MessagesFromClient != 3 || res.MessagesFromUpstream != 3 {
				t.Fatalf("counted %d/%d messages; want 3/3", res.MessagesFromClient, res.MessagesFromUpstream)
			}
			if n := parker.Parked(); n != 0 {
				t.Fatalf("%d directions still parked after the end; want 0", n)
			}
		})
	}
}

// TestParkerClose: closing a Parker resumes the directions it held, in
// the event-loop mode and the parked one alike; their tunnels go on
// relaying with goroutines of their own, and the Parker holds nothing.
func TestParkerClose(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	for _, loop := range []bool{false, true} {
		name := "parked"
		if loop {
			name = "loop"
		}
		t.Run(name, func(t *testing.T) {
			backend, _ := echoBackend(t)
			parker := NewParker()
			p := startProxy(t, proxyConfig{backend: backend, handshake: true,
				opts: Options{FrameAware: true, Parker: parker, Loop: loop, ParkAfter: 50 * time.Millisecond}})
			c := dialRaw(t, p.addr, true)
			c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			echo := func(i int) {
				t.Helper()
				msg := patterned(50 + i)
				c.conn.Write(frame(ws.OpBinary, true, true, msg))
				h, got, err := readFrame(c.r)
				if err != nil || h.Opcode != ws.OpBinary {
					t.Fatalf("echo %d: got %+v, %v; want a binary frame", i, h, err)
				}
				equalMsg(t, got, msg)
			}
			echo(0)
			waitParked(t, parker, 2)
			parker.Close()
			if n := parker.Parked(); n != 0 {
				t.Fatalf("got %d parked directions after Close; want 0", n)
			}
			for i := 1; i < 4; i++ {
				echo(i)
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(ws.CloseNormal)))
			if code, _, err := readClose(c.r); err != nil || code != ws.CloseNormal {
				t.Fatalf("got close %d, %v; want %d", code, err, ws.CloseNormal)
			}
			res := p.result(t)
			if res.MessagesFromClient != 4 || res.MessagesFromUpstream != 4 || res.CloseCode != ws.CloseNormal {
				t.Fatalf("got %d/%d messages, close %d; want 4/4, %d", res.MessagesFromClient, res.MessagesFromUpstream, res.CloseCode, ws.CloseNormal)
			}
		})
	}
}

// TestTunnelsSpreadOverShards: the tunnels of a Parker with two shards
// are served by both loops, half on each, and each tunnel's two
// directions on the same one.
func TestTunnelsSpreadOverShards(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	backend, _ := echoBackend(t)
	parker := &Parker{shards: 2}
	defer parker.Close()
	p := startProxy(t, proxyConfig{backend: backend, handshake: true,
		opts: Options{FrameAware: true, Parker: parker, Loop: true}})
	const tunnels = 4
	for i := range tunnels {
		c := dialRaw(t, p.addr, true)
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		msg := patterned(10 + i)
		c.conn.Write(frame(ws.OpBinary, true, true, msg))
		h, got, err := readFrame(c.r)
		if err != nil || h.Opcode != ws.OpBinary {
			t.Fatalf("echo %d: got %+v, %v; want a binary frame", i, h, err)
		}
		equalMsg(t, got, msg)
	}
	waitParked(t, parker, 2*tunnels)
	if n := parker.poll.Shards(); n != 2 {
		t.Fatalf("got %d shards; want 2", n)
	}
	for i := range 2 {
		if n := parker.poll.Shard(i).Registered(); n != tunnels {
			t.Errorf("shard %d holds %d directions; want %d (half the tunnels, both directions)", i, n, tunnels)
		}
	}
}
