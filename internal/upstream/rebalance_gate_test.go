package upstream_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestGateRebalance: 1,000 tunnels on two peers, a third peer added in
// DNS, and ws_rebalance moves the excess (Close 1012, the clients
// reconnect, least_conn places them) until the spread is within the
// threshold; every tunnel that was not closed with 1012 got the echo of
// every message it sent.
func TestGateRebalance(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 tunnels")
	}
	const tunnels = 1000
	port := sharedPort(t)
	peers := []*peerBackend{startPeer(t, "127.0.0.2", port), startPeer(t, "127.0.0.3", port), startPeer(t, "127.0.0.4", port)}
	zone := newZone(1)
	zone.setA("be.test", "127.0.0.2", "127.0.0.3")
	ns := proxytest.NewDNS(t, zone.handle)
	var errlog proxytest.SyncBuffer
	conf := strings.NewReplacer("{{dns}}", ns.Addr.String(), "{{port}}", strconv.Itoa(port)).Replace(`
access_log off;
resolver {{dns}} ipv6=off;
upstream u {
  zone u 64k;
  least_conn;
  server be.test:{{port}} resolve max_fails=0;
  ws_rebalance threshold=20% rate=200/s;
}
server { listen {{listen}} backlog=4096;
  location / { proxy_pass http://u; proxy_read_timeout 600s; proxy_send_timeout 600s; }
}`)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{Log: &errlog})
	proxytest.Eventually(t, 10*time.Second, func() bool { return seenIDs(g.Addr, 4) == "127.0.0.2,127.0.0.3" }, "the first answer never reached the pool")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg        sync.WaitGroup
		moved     atomic.Int64 // tunnels closed with 1012
		echoed    atomic.Int64 // messages echoed
		failMu    sync.Mutex
		failures  []string
		connected = make(chan struct{}, tunnels)
		dialSlots = make(chan struct{}, 32)
	)
	fail := func(format string, args ...any) {
		failMu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		failMu.Unlock()
	}
	for i := range tunnels {
		wg.Go(func() {
			first := true
			for seq := 0; ctx.Err() == nil; {
				dialSlots <- struct{}{}
				c, err := dialWS(ctx, g.Addr, "/ws/"+strconv.Itoa(i))
				<-dialSlots
				if err != nil {
					if ctx.Err() == nil {
						fail("client %d: dialing: %v", i, err)
					}
					return
				}
				if first {
					connected <- struct{}{}
					first = false
				}
				tick := time.NewTicker(500 * time.Millisecond)
				for ctx.Err() == nil {
					msg := fmt.Sprintf("c%d-%d", i, seq)
					err := echo(ctx, c, msg)
					if err == nil {
						seq++
						echoed.Add(1)
						select {
						case <-tick.C:
						case <-ctx.Done():
						}
						continue
					}
					if closedWith(err) == 1012 {
						moved.Add(1)
						break // reconnect
					}
					if ctx.Err() == nil {
						fail("client %d: message %d lost: %v", i, seq, err)
					}
					tick.Stop()
					c.CloseNow()
					return
				}
				tick.Stop()
				if ctx.Err() != nil {
					c.Close(1000, "")
					return
				}
				c.CloseNow()
			}
		})
	}
	for range tunnels {
		select {
		case <-connected:
		case <-time.After(60 * time.Second):
			cancel()
			wg.Wait()
			t.Fatalf("the tunnels never all opened: %v", failures)
		}
	}
	open := func() []int64 {
		return []int64{peers[0].open.Load(), peers[1].open.Load(), peers[2].open.Load()}
	}
	proxytest.Eventually(t, 30*time.Second, func() bool { o := open(); return o[0]+o[1] == tunnels }, "the tunnels are not all on the two peers")
	before := open()

	start := time.Now()
	zone.setA("be.test", "127.0.0.2", "127.0.0.3", "127.0.0.4")
	even := func() bool {
		o := open()
		mean := float64(o[0]+o[1]+o[2]) / 3
		for _, n := range o {
			if float64(n) > mean*1.2 || float64(n) < mean*0.8 {
				return false
			}
		}
		return true
	}
	var took time.Duration
	if !proxytest.Poll(60*time.Second, even) {
		spread := open()
		cancel()
		wg.Wait()
		t.Fatalf("spread %v never within 20%% of the mean; %d tunnels moved; failures: %v\nlog:\n%s", spread, moved.Load(), failures, errlog.String())
	}
	took = time.Since(start)
	// Messages flow on the new spread (two rounds of every client), then
	// the clients stop.
	flowed := echoed.Load() + 2*tunnels
	proxytest.Eventually(t, 30*time.Second, func() bool { return echoed.Load() >= flowed }, "messages stopped flowing after the rebalance")
	after := open()
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	t.Logf("spread %v -> %v in %v; %d tunnels moved with 1012; %d messages echoed", before, after, took.Round(10*time.Millisecond), moved.Load(), echoed.Load())
	if len(failures) > 0 {
		t.Fatalf("%d tunnels lost a message or failed; first: %s", len(failures), failures[0])
	}
	if moved.Load() == 0 {
		t.Fatal("no tunnel was moved")
	}
	// rate=200/s: a slow machine only makes it slower.
	if max := int64(200*elapsed.Seconds()) + 1; moved.Load() > max {
		t.Errorf("%d tunnels closed in %v; rate=200/s allows %d", moved.Load(), elapsed, max)
	}
}
