package http1

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
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
				k, err := p.allow(left)
				if err != nil || k <= 0 {
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

// TestPacedClientGone: a response that waits for limit_rate ends as soon
// as the client closes its side (ngx_http_test_reading), not when the wait
// is over, so the connection stops counting as active and writing then
// (stub_status, $connections_active and $connections_writing).
func TestPacedClientGone(t *testing.T) {
	body := strings.Repeat("x", 1000)
	// A file larger than the write buffer, so that it is sent, not copied.
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 100<<10)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		size  int64
		write func(w *ResponseWriter) error
	}{
		{"Write", 1000, func(w *ResponseWriter) error {
			_, err := io.WriteString(w, body)
			if err == nil {
				err = w.Flush()
			}
			return err
		}},
		{"WriteFile", 100 << 10, func(w *ResponseWriter) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = w.WriteFile(f, 0, 100<<10)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			addr, _ := startServer(t, ConnConfig{}, func(w *ResponseWriter, r *Request) {
				// 1 byte a second for a request that began a minute
				// ago: about 60 bytes go out at once, and the next
				// write waits a minute.
				w.SetRate(1, 0, time.Now().Add(-time.Minute))
				w.WriteHeader(200, "", tt.size)
				done <- tt.write(w)
			})
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				t.Fatalf("first byte: %v", err)
			}
			c.Close()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("the paced write succeeded after the client left")
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the paced write still waits after the client closed")
			}
		})
	}
}
