package status

import (
	"testing"
	"time"

	"wsgate/internal/metrics"
	"wsgate/internal/proxy"
)

// TestBusiest: the tunnels with the most payload bytes, busiest first,
// the older first among equals, at most n.
func TestBusiest(t *testing.T) {
	base := time.Unix(1000, 0)
	var all []*metrics.Tunnel
	for i, b := range []uint64{5, 50, 0, 50, 7, 1} {
		tn := &metrics.Tunnel{Info: proxy.Tunnel{Client: string(rune('a' + i)), Start: base.Add(time.Duration(i) * time.Second)}}
		tn.Payload[0].Store(b)
		all = append(all, tn)
	}
	tests := []struct {
		n    int
		want string
	}{{3, "bde"}, {1, "b"}, {10, "bdeafc"}}
	for _, tt := range tests {
		got := ""
		for _, tn := range busiest(all, tt.n) {
			got += tn.Info.Client
		}
		if got != tt.want {
			t.Errorf("busiest %d: got %q; want %q", tt.n, got, tt.want)
		}
	}
}
