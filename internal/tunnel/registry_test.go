package tunnel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

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
				t.Fatalf("Shutdown: got %v; want %v", err, tt.wantErr)
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
				if err := paced(first, tt.spread); err != nil {
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

// paced checks that arrivals (since the pacing began, sorted) are paced
// over window: the k-th of n comes no sooner than k·window/n, when the
// pacer asks the k-th tunnel at the earliest (spreadCloses). Arrivals can
// only come later than their requests, so a loaded machine cannot fail
// this check; requests made at once, not paced, do.
func paced(arrivals []time.Duration, window time.Duration) error {
	step := window / time.Duration(len(arrivals))
	for k, at := range arrivals {
		if want := time.Duration(k) * step; at < want {
			return fmt.Errorf("close %d of %d arrived %v after the start; want no sooner than %v", k+1, len(arrivals), at, want)
		}
	}
	return nil
}
