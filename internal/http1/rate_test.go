package http1

import (
	"testing"
	"time"
)

// TestPacer checks limit_rate's arithmetic against nginx's write filter
// on a fake clock: how long a response of size bytes, written as nginx
// writes it (all that may go out at once), is held back in all; the
// first second's allowance (rate plus limit_rate_after) goes out at
// once, and the last write waits for nothing.
func TestPacer(t *testing.T) {
	tests := []struct {
		name              string
		rate, after, size int64
		wantWait          time.Duration // total time held back
	}{
		// nginx-tests limit_rate.t: 30000 bytes at 12k after 256 take
		// between 1 and 2 s ("data::[12]").
		{"12k after 256", 12 << 10, 256, 30000, 2000 * time.Millisecond},
		{"within the first second", 12 << 10, 0, 12 << 10, 0},
		{"after covers it all", 1 << 10, 40 << 10, 30000, 0},
		{"1k for 3k", 1 << 10, 0, 3 << 10, 2000 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Unix(1_000_000, 0)
			now := start
			var waited time.Duration
			p := pacer{rate: tt.rate, after: tt.after, startSec: start.Unix(),
				now:   func() time.Time { return now },
				sleep: func(d time.Duration) { now = now.Add(d); waited += d },
			}
			for left := tt.size; left > 0; {
				k := p.allow(left)
				if k <= 0 {
					t.Fatalf("allow gave %d", k)
				}
				p.wrote(k)
				left -= k
			}
			if waited < tt.wantWait-50*time.Millisecond || waited > tt.wantWait+50*time.Millisecond {
				t.Fatalf("held back %v; want about %v", waited, tt.wantWait)
			}
		})
	}
}
