package upstream_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
)

// TestSlowStart: a peer with slow_start gets a share of the picks that
// grows with the time since it came up, and all of its weight's share
// once the time has passed; the other peer keeps its full weight.
func TestSlowStart(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Unix(1000, 0).UnixNano())
	reg := upstream.NewRegistry(upstream.Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	u := &config.Upstream{Name: "u", DrainWindow: -1, Servers: []config.UpstreamServer{
		{Addr: "127.0.0.2:80", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second},
		{Addr: "127.0.0.3:80", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, SlowStart: 10 * time.Second},
	}}
	set, err := reg.Build(context.Background(), []*config.Upstream{u}, nil, func(context.Context, string) ([]netip.Addr, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	pool := set.Pool("u")
	tests := []struct {
		after    time.Duration
		wantSlow int // picks of the slow peer out of 110
	}{
		{after: time.Second, wantSlow: 10},      // 10% of the weight: 10 of 110
		{after: 5 * time.Second, wantSlow: 37},  // 50%: 36.7 of 110
		{after: 10 * time.Second, wantSlow: 55}, // all of it
		{after: time.Hour, wantSlow: 55},
	}
	for _, tc := range tests {
		now.Store(time.Unix(1000, 0).Add(tc.after).UnixNano())
		slow := 0
		for range 110 {
			l, err := pool.Pick(upstream.PickKey{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if l.Peer().Name == "127.0.0.3:80" {
				slow++
			}
			l.Done(upstream.Success)
		}
		if d := slow - tc.wantSlow; d < -1 || d > 1 {
			t.Errorf("after %v: the slow-starting peer got %d of 110 picks; want %d±1", tc.after, slow, tc.wantSlow)
		}
	}
}
