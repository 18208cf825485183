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
