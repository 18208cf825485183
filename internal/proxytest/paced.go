package proxytest

import (
	"fmt"
	"slices"
	"time"
)

// Paced checks that arrivals are paced over window as wsgate's pacer
// paces its Close requests (ws_drain_window: the k-th of n asked at
// k·window/n, the first at once): sorted, the k-th arrival (from 0) comes
// no sooner than k·(window/n) after the start. The start must be taken
// before the pacing begins, and each arrival after its event was seen.
// Events can only arrive later than they are sent, so a loaded machine
// cannot fail this check; events sent at once, not paced, do (unless the
// machine is too slow to see n of them within window). It returns an
// error naming the first arrival too early; arrivals is not changed.
func Paced(arrivals []time.Duration, window time.Duration) error {
	if len(arrivals) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(arrivals))
	step := window / time.Duration(len(sorted))
	for k, at := range sorted {
		if want := time.Duration(k) * step; at < want {
			return fmt.Errorf("arrival %d of %d came %v after the start; want no sooner than %v",
				k+1, len(sorted), at, want)
		}
	}
	return nil
}
