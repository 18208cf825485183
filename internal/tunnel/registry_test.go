package tunnel

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// TestShutdownSpread: a graceful stop spreads its Close requests over each
// tunnel's DrainWindow (ws_drain_window), cut to maxSpread; a window of 0,
// or a maxSpread of 0 (the fast stop), asks at once; when ctx ends before
// the spread, the rest are asked at once.
func TestShutdownSpread(t *testing.T) {
	const hour = time.Hour
	tests := []struct {
		desc      string
		windows   []time.Duration // one group of n tunnels per DrainWindow
		n         int
		maxSpread time.Duration
		bound     time.Duration // Shutdown's context
		wantErr   error
		// spread: the closes of group 0 are paced over this window: the
		// k-th of n to arrive comes no sooner than k·spread/n after
		// Shutdown began (a slow machine only delays them).
		spread time.Duration
		// prompt: the closes of group 0 must all arrive before Shutdown
		// returns, although another group is still being paced.
		prompt bool
	}{
		{desc: "each tunnel's window", windows: []time.Duration{2 * time.Second}, n: 40,
			maxSpread: hour, bound: 30 * time.Second, spread: 2 * time.Second},
		{desc: "window cut to maxSpread", windows: []time.Duration{hour}, n: 40,
			maxSpread: time.Second, bound: 30 * time.Second, spread: time.Second},
		{desc: "window 0 at once, the rest at the bound", windows: []time.Duration{0, hour}, n: 20,
			maxSpread: hour, bound: 3 * time.Second, wantErr: context.DeadlineExceeded, prompt: true},
		{desc: "fast stop", windows: []time.Duration{hour}, n: 20,
			maxSpread: 0, bound: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			backend, _ := echoBackend(t)
			reg := NewRegistry()
			var groups [][]*rawClient
			for _, w := range tt.windows {
				p := startProxy(t, proxyConfig{backend: backend, handshake: true, reg: reg, drain: w,
					opts: Options{FrameAware: true, CloseTimeout: time.Second}})
				g := make([]*rawClient, tt.n)
				for i := range g {
					g[i] = dialRaw(t, p.addr, true)
				}
				groups = append(groups, g)
			}
			total := tt.n * len(tt.windows)
			if !proxytest.Poll(10*time.Second, func() bool { return reg.Len() >= total }) {
				t.Fatalf("registry holds %d tunnels; want %d", reg.Len(), total)
			}

			type arrival struct {
				group int
				at    time.Time
				code  uint16
				err   error
			}
			arrivals := make(chan arrival, total)
			for gi, g := range groups {
				for _, c := range g {
					go func() {
						c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
						code, _, err := readClose(c.r)
						a := arrival{group: gi, at: time.Now(), code: code, err: err}
						if err == nil {
							c.conn.Write(frame(ws.OpClose, true, true, closeBody(code)))
						}
						arrivals <- a
					}()
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), tt.bound)
			defer cancel()
			start := time.Now()
			err := reg.Shutdown(ctx, ws.CloseGoingAway, tt.maxSpread)
			returned := time.Now()
			if !errors.Is(err, tt.wantErr) {
				// The goroutines say where the tunnels left are stuck.
				buf := make([]byte, 1<<20)
				t.Fatalf("Shutdown: got %v; want %v; %d tunnels left, %d directions parked\n%s",
					err, tt.wantErr, reg.Len(), reg.Parked(), buf[:runtime.Stack(buf, true)])
			}

			var first []time.Duration
			for range total {
				a := <-arrivals
				if a.err != nil || a.code != ws.CloseGoingAway {
					t.Fatalf("client of group %d: got close %d, %v; want %d", a.group, a.code, a.err, ws.CloseGoingAway)
				}
				if a.group == 0 {
					first = append(first, a.at.Sub(start))
				}
			}
			slices.Sort(first)
			p10, p90 := first[len(first)/10], first[len(first)*9/10]
			t.Logf("group 0: first close %v, p10 %v, p90 %v, last %v; Shutdown returned after %v",
				first[0], p10, p90, first[len(first)-1], returned.Sub(start))
			if tt.spread > 0 {
				if err := proxytest.Paced(first, tt.spread); err != nil {
					t.Errorf("closes not spread over %v: %v", tt.spread, err)
				}
			}
			if tt.prompt && start.Add(first[len(first)-1]).After(returned) {
				t.Errorf("last close of the window-0 group arrived %v after the start, after Shutdown returned (%v); want all at once",
					first[len(first)-1], returned.Sub(start))
			}
			if !proxytest.Poll(10*time.Second, func() bool { return reg.Len() == 0 }) {
				t.Fatalf("registry holds %d tunnels after the closes; want 0", reg.Len())
			}
		})
	}
}

// TestShutdownExpiredEndsTunnels: when Shutdown returns at its context's
// end, in the middle of its spread, it closes the Parker while tunnels are
// parked or in an event loop with no close request yet, and the pacer
// asks them at once; every tunnel still ends: its close request is acted
// on, or CloseTimeout ends it, with goroutines of its own. The clients
// answer nothing, so that the tunnels outlive Shutdown.
func TestShutdownExpiredEndsTunnels(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	tests := []struct {
		desc string
		opts Options
	}{
		{desc: "parked", opts: Options{FrameAware: true, ParkAfter: time.Millisecond}},
		{desc: "parked relay", opts: Options{ParkAfter: time.Millisecond}},
		{desc: "loop", opts: Options{FrameAware: true, Loop: true}},
		{desc: "loop relay", opts: Options{Loop: true}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			backend, _ := echoBackend(t)
			reg := NewRegistry()
			opts := tt.opts
			opts.CloseTimeout = 500 * time.Millisecond
			p := startProxy(t, proxyConfig{backend: backend, handshake: true, reg: reg, opts: opts, drain: time.Hour})
			const n = 20
			for range n {
				dialRaw(t, p.addr, true)
			}
			if !proxytest.Poll(10*time.Second, func() bool { return reg.Len() >= n && reg.Parked() >= 2*n }) {
				t.Fatalf("registry holds %d tunnels, %d directions parked; want %d, %d", reg.Len(), reg.Parked(), n, 2*n)
			}
			// The context ends early in the hour's spread: the Parker is
			// closed while most tunnels have had no request yet, and the
			// pacer asks them as Shutdown returns.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if err := reg.Shutdown(ctx, ws.CloseGoingAway, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Shutdown: got %v; want %v", err, context.DeadlineExceeded)
			}
			if got := reg.Parked(); got != 0 {
				t.Fatalf("%d directions parked after Shutdown closed the Parker; want 0", got)
			}
			if !proxytest.Poll(20*time.Second, func() bool { return reg.Len() == 0 }) {
				t.Fatalf("registry holds %d tunnels 20s after Shutdown; want 0", reg.Len())
			}
			for range n {
				if res := p.result(t); res.ClosedBy != CauseShutdown {
					t.Fatalf("ClosedBy = %v; want shutdown", res.ClosedBy)
				}
			}
		})
	}
}
