package wse2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
)

// chgLoc is a location whose tunnels a reload closes when it is removed or
// changed; {{WS}} is filled in by the caller.
func chgLoc(backend, extra string) string {
	return "location /chg/ { proxy_pass http://" + backend + "; ws_drain_window 1s; " + extra + " }"
}

// dialMany opens n coder/websocket clients to url.
func dialMany(t *testing.T, url string, n int) []*websocket.Conn {
	t.Helper()
	conns := make([]*websocket.Conn, n)
	var mu sync.Mutex
	var firstErr error
	parallelDo(n, 32, func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("dialing tunnel %d: %w", i, err)
			}
			mu.Unlock()
			return
		}
		c.SetReadLimit(1 << 20)
		conns[i] = c
	})
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	})
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return conns
}

// echoOnce sends msg on c and checks the echo.
func echoOnce(ctx context.Context, c *websocket.Conn, msg []byte) error {
	if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %d B; want %d B equal", len(got), len(msg))
	}
	return nil
}

// churnResult is how a tunnel that kept a message in flight ended.
type churnResult struct {
	code   websocket.StatusCode
	at     time.Duration
	echoes int
	err    error
}

// churn keeps a 32 KiB message in flight on c (write, read the echo,
// again) until a read fails, and reports the Close code seen.
func churn(ctx context.Context, c *websocket.Conn, start time.Time, seed int) churnResult {
	msg := payload(32<<10, byte(seed))
	var r churnResult
	for {
		werr := c.Write(ctx, websocket.MessageBinary, msg)
		_, got, err := c.Read(ctx)
		if err != nil {
			r.at = time.Since(start)
			r.code = websocket.CloseStatus(err)
			if r.code == -1 {
				r.err = errors.Join(werr, err)
			}
			return r
		}
		if !bytes.Equal(got, msg) {
			r.err = fmt.Errorf("message %d corrupted: got %d B", r.echoes, len(got))
			return r
		}
		r.echoes++
	}
}

// awaitClose reads c until a read fails and reports the Close code seen.
func awaitClose(ctx context.Context, c *websocket.Conn, start time.Time) churnResult {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			r := churnResult{at: time.Since(start), code: websocket.CloseStatus(err)}
			if r.code == -1 {
				r.err = err
			}
			return r
		}
	}
}

// churnEvery: every churnEvery-th tunnel on the changed route keeps a
// message in flight (churn), the others wait for their Close. A thousand
// tunnels echoing 32 KiB as fast as they can keep a 2-core machine (with
// -race) busy for seconds past CloseTimeout, which then rightly ends a
// tunnel still mid-frame without a Close: the test would assert the
// machine's speed.
const churnEvery = 10

// TestReloadTunnels: tunnels on an unchanged route survive a reload and
// still echo; tunnels on a removed (or changed) route each get the
// route's Close code at a frame boundary, spread over ws_drain_window,
// those with a message in flight too.
func TestReloadTunnels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		extra    string // ws_* lines of /chg/ before the reload
		after    string // /chg/ after the reload ("" removes it)
		wantCode websocket.StatusCode
	}{
		{"removed route 1012", 1000, "", "", 1012},
		{"changed route 1001", 200, "ws_reload_close_code 1001;", "ws_reload_close_code 1001; proxy_read_timeout 7s;", 1001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newCtlBackend(t)
			g := startGate(t, seedConf, map[string]string{"WS": be.Addr, "LOCS": chgLoc(be.Addr, tc.extra)})
			keep := dialMany(t, g.url("/ws/keep"), tc.n)
			drop := dialMany(t, g.url("/chg/drop"), tc.n)
			// A tunnel is registered just after its 101 is written.
			waitFor(t, fmt.Sprintf("%d live tunnels", 2*tc.n), func() bool { return g.srv.Tunnels().Len() == 2*tc.n })
			after := ""
			if tc.after != "" {
				after = chgLoc(be.Addr, tc.after)
			}
			g.rewrite(seedConf, map[string]string{"LOCS": after})

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			results := make([]churnResult, len(drop))
			var wg sync.WaitGroup
			start := time.Now()
			for i, c := range drop {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%churnEvery == 0 {
						results[i] = churn(ctx, c, start, i)
					} else {
						results[i] = awaitClose(ctx, c, start)
					}
				}()
			}
			time.Sleep(100 * time.Millisecond) // messages in flight
			reloadAt := time.Since(start)
			if err := g.srv.Reload(); err != nil {
				t.Fatalf("reload: %v", err)
			}
			wg.Wait()

			var ats []time.Duration
			echoes := 0
			for i, r := range results {
				if r.err != nil || r.code != tc.wantCode {
					t.Fatalf("tunnel %d on the changed route: got code %d, err %v; want Close %d", i, r.code, r.err, tc.wantCode)
				}
				ats = append(ats, r.at-reloadAt)
				echoes += r.echoes
			}
			sort.Slice(ats, func(i, j int) bool { return ats[i] < ats[j] })
			p10, p90, last := ats[len(ats)/10], ats[len(ats)*9/10], ats[len(ats)-1]
			t.Logf("closes after reload: first %v p10 %v p90 %v last %v; %d echoes in flight-loop", ats[0], p10, p90, last, echoes)
			if err := proxytest.Paced(ats, time.Second); err != nil {
				t.Errorf("closes not spread over ws_drain_window 1s: %v", err)
			}

			// The backend side of each closed tunnel got the same Close.
			for i := 0; i < tc.n; i++ {
				if e := be.nextEnd(t, 30*time.Second); e.Code != int(tc.wantCode) {
					t.Fatalf("backend end %d: got close code %d (%v); want %d", i, e.Code, e.Err, tc.wantCode)
				}
			}

			// Every tunnel on the unchanged route still echoes.
			var mu sync.Mutex
			var failed []string
			parallelDo(len(keep), 32, func(i int) {
				if err := echoOnce(ctx, keep[i], payload(1000, byte(i))); err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("tunnel %d: %v", i, err))
					mu.Unlock()
				}
			})
			if len(failed) > 0 {
				t.Fatalf("%d of %d tunnels on the unchanged route failed after reload; first: %s", len(failed), len(keep), failed[0])
			}
			for _, c := range keep {
				c.Close(websocket.StatusNormalClosure, "")
			}
		})
	}
}

// TestReloadConfigError: a broken configuration on reload is refused and
// the running one keeps serving, open tunnels and new handshakes alike.
func TestReloadConfigError(t *testing.T) {
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := dial(t, g.url("/ws/a"), nil)
	g.rewrite(seedConf+"\nnot_a_directive on;\n", nil)
	if err := g.srv.Reload(); err == nil {
		t.Fatal("reload of a broken configuration: got nil error; want one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := echoOnce(ctx, c, []byte("open tunnel")); err != nil {
		t.Errorf("open tunnel after a failed reload: %v", err)
	}
	c2 := dial(t, g.url("/ws/b"), nil)
	if err := echoOnce(ctx, c2, []byte("new tunnel")); err != nil {
		t.Errorf("new tunnel after a failed reload: %v", err)
	}
}

// TestGracefulShutdown: Shutdown sends every tunnel's client Close 1001,
// spread over the location's ws_drain_window: the k-th of n clients gets
// its Close no sooner than k/n of the window after Shutdown began.
func TestGracefulShutdown(t *testing.T) {
	const (
		n      = 200
		window = 2 * time.Second
	)
	be := newCtlBackend(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr, "EXTRA_WS": "ws_drain_window 2s;"})
	conns := dialMany(t, g.url("/ws/s"), n)
	waitFor(t, fmt.Sprintf("%d live tunnels", n), func() bool { return g.srv.Tunnels().Len() == n })
	codes := make([]websocket.StatusCode, n)
	ats := make([]time.Duration, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.Read(ctx)
			ats[i] = time.Since(start)
			codes[i] = websocket.CloseStatus(err)
		}()
	}
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	if err := g.srv.Shutdown(sctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	wg.Wait()
	for i, code := range codes {
		if code != websocket.StatusGoingAway {
			t.Fatalf("client %d: got close code %d; want 1001", i, code)
		}
	}
	if got := g.srv.Tunnels().Len(); got != 0 {
		t.Errorf("got %d live tunnels after shutdown; want 0", got)
	}
	slices.Sort(ats)
	p10, p90 := ats[n/10], ats[n*9/10]
	t.Logf("closes after shutdown began: first %v p10 %v p90 %v last %v", ats[0], p10, p90, ats[n-1])
	if err := proxytest.Paced(ats, window); err != nil {
		t.Errorf("closes not spread over ws_drain_window %v: %v", window, err)
	}
}
