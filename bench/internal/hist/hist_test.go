package hist

import (
	"testing"
	"time"
)

func TestQuantileWithinPrecision(t *testing.T) {
	tests := []struct {
		name string
		vals []time.Duration
		q    float64
		want time.Duration
	}{
		{"exact small", []time.Duration{5, 7, 9}, 0.5, 7},
		{"one value", []time.Duration{123456 * time.Nanosecond}, 0.99, 123456},
		{"uniform p99", uniform(1, 10000), 0.99, 9900 * time.Microsecond},
		{"uniform p50", uniform(1, 10000), 0.5, 5000 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.vals {
				h.Record(v)
			}
			got := h.Quantile(tt.q)
			lo, hi := float64(tt.want)*0.98, float64(tt.want)*1.02
			if float64(got) < lo || float64(got) > hi {
				t.Errorf("Quantile(%v) = %v; want %v ±2%%", tt.q, got, tt.want)
			}
		})
	}
}

func uniform(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*time.Microsecond)
	}
	return out
}

func TestIndexMonotonic(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<22; v += 7 {
		i := index(v)
		if i < prev {
			t.Fatalf("index(%d) = %d; want ≥ %d", v, i, prev)
		}
		if m := midpoint(i); float64(m) < float64(v)*0.98 || float64(m) > float64(v)*1.02+1 {
			t.Fatalf("midpoint(index(%d)) = %d; want within 2%%", v, m)
		}
		prev = i
	}
}
