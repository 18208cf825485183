package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// epollSets counts this process's epoll descriptors: the links in
// /proc/self/fd that read anon_inode:[eventpoll].
func epollSets(t *testing.T) int {
	t.Helper()
	return openFDs(t, func(target string) bool { return target == "anon_inode:[eventpoll]" })
}

// openFDs counts this process's descriptors whose /proc/self/fd link
// target matches; the test is skipped where they cannot be listed.
func openFDs(t *testing.T, match func(target string) bool) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); match(target) {
			n++
		}
	}
	return n
}

// TestOneShotPollersClosed sends bursts of concurrent plain requests to a
// location without upstream keepalive, whose upstream connections are
// one-shot and wait in the process's event loops (netpoll.Default, a
// fixed set made once, counted in the baseline after a first request).
// Once the workers have idled out, the process must hold no more epoll
// sets than before: no worker or connection has a set of its own.
func TestOneShotPollersClosed(t *testing.T) {
	be := proxytest.NewSlow(t, 100*time.Millisecond, "")
	g := startGate(t, `server {
    listen {{listen}};
    location / { proxy_pass http://{{b}}; }
}`, map[string]string{"b": be.Addr})
	// With the collector off, only a close brings the count back, not
	// a finalizer.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	get := func() error {
		c, err := net.DialTimeout("tcp", g.addr, 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			return err
		}
		if r.Status != 200 {
			return fmt.Errorf("got status %d; want 200", r.Status)
		}
		return nil
	}
	if err := get(); err != nil {
		t.Fatalf("first request: %v", err)
	}
	base := epollSets(t)
	const bursts, clients = 3, 200
	for burst := range bursts {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := get(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("burst %d: %v", burst+1, err)
		}
	}
	// Workers wait a second for the next connection, then end.
	var n int
	proxytest.Poll(15*time.Second, func() bool {
		n = epollSets(t)
		return n <= base
	})
	if n > base {
		t.Fatalf("after %d bursts of %d requests: %d epoll sets; want at most %d, as before", bursts, clients, n, base)
	}
}
