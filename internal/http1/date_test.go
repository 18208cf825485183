package http1

import (
	"testing"
	"time"
)

func TestAppendHTTPDate(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		want string
	}{
		{"utc", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), "Mon, 02 Jan 2006 15:04:05 GMT"},
		{"zone converted", time.Date(2006, 1, 2, 16, 4, 5, 0, time.FixedZone("x", 3600)), "Mon, 02 Jan 2006 15:04:05 GMT"},
		{"single digit day", time.Date(2026, 12, 7, 3, 9, 0, 999, time.UTC), "Mon, 07 Dec 2026 03:09:00 GMT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendHTTPDate(nil, tc.t)); got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestDate checks the process-wide cache: the value of the second asked
// for, and no allocation for a second already formatted.
func TestDate(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 9, 0, 0, time.UTC)
	if got, want := string(Date(now)), "Mon, 07 Dec 2026 03:09:00 GMT"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	later := now.Add(1500 * time.Millisecond)
	if got, want := string(Date(later)), "Mon, 07 Dec 2026 03:09:01 GMT"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { Date(later) }); n != 0 {
		t.Errorf("got %v allocations per call in the same second; want 0", n)
	}
}

// TestDateClock checks the Date clock's contract: it never runs ahead of
// the clock, its ticks stop once no Date is taken, and the Date taken
// after that is a fresh reading, however long the wait before it was.
func TestDateClock(t *testing.T) {
	if got, after := dateNow(), time.Now(); got.After(after) {
		t.Fatalf("got %v, after %v; want no time ahead of the clock", got, after)
	}
	deadline := time.Now().Add(10 * time.Second)
	for dateClock.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the Date clock still ticks with no Date taken")
		}
		time.Sleep(dateTick)
	}
	before := time.Now()
	if got := dateNow(); got.Before(before) {
		t.Errorf("first Date after the ticks stopped: got %v; want a reading at or after %v", got, before)
	}
	if !dateClock.running.Load() {
		t.Errorf("the Date clock does not tick after a Date was taken")
	}
}
