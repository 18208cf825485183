package tunnel

import (
	"math/rand/v2"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// checkHeap fails unless dl's heap is ordered and every tunnel in it
// knows its index.
func checkHeap(t *testing.T, dl *deadlines) {
	t.Helper()
	for i, tu := range dl.heap {
		if int(tu.slot) != i || tu.when == 0 {
			t.Fatalf("heap[%d]: slot %d, when %d", i, tu.slot, tu.when)
		}
		if i > 0 && dl.heap[(i-1)/2].when > tu.when {
			t.Fatalf("heap[%d] due before its parent", i)
		}
	}
}

func TestDeadlinesHeap(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		cancel   int // every cancel-th tunnel is cancelled
		resched  int // every resched-th one is scheduled again
		wantLeft int
	}{
		{name: "schedule only", n: 100, wantLeft: 100},
		{name: "cancel half", n: 100, cancel: 2, wantLeft: 50},
		{name: "reschedule a third", n: 99, resched: 3, wantLeft: 99},
		{name: "cancel all", n: 7, cancel: 1, wantLeft: 0},
		{name: "crowd shrinks", n: 1000, cancel: 1, wantLeft: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dl deadlines
			defer func() {
				if dl.timer != nil {
					dl.timer.Stop()
				}
			}()
			ts := make([]*tunnel, tt.n)
			for i := range ts {
				ts[i] = &tunnel{}
				dl.schedule(ts[i], time.Hour+time.Duration(rand.IntN(1000))*time.Second)
				checkHeap(t, &dl)
			}
			for i, tu := range ts {
				if tt.resched > 0 && i%tt.resched == 0 {
					dl.schedule(tu, time.Hour+time.Duration(rand.IntN(1000))*time.Second)
				}
				if tt.cancel > 0 && i%tt.cancel == 0 {
					dl.cancel(tu)
					dl.cancel(tu) // a second cancel is a no-op
					if tu.when != 0 {
						t.Fatalf("tunnel %d still scheduled after cancel", i)
					}
				}
				checkHeap(t, &dl)
			}
			if len(dl.heap) != tt.wantLeft {
				t.Fatalf("%d scheduled, want %d", len(dl.heap), tt.wantLeft)
			}
		})
	}
}

// TestDeadlinesFire checks that due schedules leave the heap (their onIdle
// runs) while later ones stay.
func TestDeadlinesFire(t *testing.T) {
	var dl deadlines
	late := &tunnel{}
	dl.schedule(late, time.Hour)
	for range 10 {
		dl.schedule(&tunnel{}, time.Millisecond)
	}
	proxytest.Eventually(t, 10*time.Second, func() bool {
		dl.mu.Lock()
		defer dl.mu.Unlock()
		return len(dl.heap) == 1 && dl.heap[0] == late
	}, "the due schedules did not fire")
	dl.cancel(late)
	dl.timer.Stop()
}
