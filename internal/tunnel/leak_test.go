package tunnel

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting fds: %v", err)
	}
	return len(ents)
}

// rawEcho echoes every connection until EOF.
func rawEcho(t testing.TB) string {
	ln := listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestNoLeaks opens and closes 10,000 tunnels (1,000 with -short) in bounded
// batches through every mode; goroutines and open fds return to baseline.
func TestNoLeaks(t *testing.T) {
	total := 10000
	if testing.Short() {
		total = 1000
	}
	const batch = 100
	backend := rawEcho(t)
	reg := NewRegistry()
	pool := NewBufferPool(0)
	proxies := make([]*proxy, len(modes))
	for i, m := range modes {
		opts := m.opts
		opts.Pool = pool
		opts.ReadTimeout = 5 * time.Second
		opts.CloseTimeout = time.Second
		proxies[i] = startProxy(t, proxyConfig{backend: backend, reg: reg, opts: opts})
	}
	settle := func() (int, int) {
		// The splice path's pipes are cached by the runtime in a sync.Pool
		// and closed by the garbage collector; collect before counting.
		runtime.GC()
		runtime.GC()
		return runtime.NumGoroutine(), openFDs(t)
	}
	// Warm up the pools and listeners once before measuring.
	oneTunnel(t, proxies[0].addr)
	proxies[0].result(t)
	// The baseline is a count that holds still: goroutines of the warm-up
	// may still be ending.
	baseG, baseFD := settle()
	proxytest.Poll(5*time.Second, func() bool {
		g, fd := settle()
		stable := g == baseG && fd == baseFD
		baseG, baseFD = g, fd
		return stable
	})

	for done := 0; done < total; done += batch {
		var wg sync.WaitGroup
		for i := 0; i < batch; i++ {
			p := proxies[(done+i)%len(proxies)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				oneTunnel(t, p.addr)
			}()
		}
		wg.Wait()
		for i := 0; i < batch; i++ {
			proxies[(done+i)%len(proxies)].result(t)
		}
	}
	var g, fd int
	proxytest.Poll(10*time.Second, func() bool {
		g, fd = settle()
		return g <= baseG+5 && fd <= baseFD+10
	})
	if g > baseG+5 || fd > baseFD+10 {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Fatalf("after %d tunnels: %d goroutines, %d fds; want at most %d, %d\n%s", total, g, fd, baseG+5, baseFD+10, buf[:n])
	}
	if reg.Len() != 0 {
		t.Fatalf("registry holds %d tunnels; want 0", reg.Len())
	}
}

// oneTunnel sends one masked frame through the proxy at addr to the raw
// echo, reads it back and closes.
func oneTunnel(t testing.TB, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Errorf("dialing: %v", err)
		return
	}
	defer c.Close()
	msg := frame(1, true, true, []byte("ping"))
	c.Write(msg)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Errorf("reading echo: %v", err)
	}
}

// TestContextCancel: cancelling Run's context ends the tunnel as a shutdown.
func TestContextCancel(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			backend := rawEcho(t)
			ln := listen(t)
			ctx, cancel := context.WithCancel(context.Background())
			results := make(chan Result, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				u, err := net.Dial("tcp", backend)
				if err != nil {
					c.Close()
					return
				}
				opts := m.opts
				opts.CloseTimeout = 500 * time.Millisecond
				results <- Run(ctx, c, u, nil, nil, opts)
			}()
			c := dialRaw(t, ln.Addr().String(), false)
			c.conn.Write(frame(1, true, true, []byte("x")))
			time.Sleep(50 * time.Millisecond) // the case: a cancel while the tunnel runs, not before it starts
			cancel()
			select {
			case res := <-results:
				if res.ClosedBy != CauseShutdown {
					t.Fatalf("ClosedBy = %v; want shutdown", res.ClosedBy)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Run did not return after cancel")
			}
		})
	}
}
