package metrics

import (
	"math"
	"sync/atomic"
)

// hist is a histogram of atomic buckets: observe is a few loads and two
// atomic adds, with no lock and no allocation, so that it can sit on a
// tunnel's path for every message. Values are integers in the unit of
// its bounds (bytes, nanoseconds).
type hist struct {
	bounds []uint64        // upper bounds, inclusive, ascending
	counts []atomic.Uint64 // counts[i] for values in (bounds[i-1], bounds[i]]; the last is +Inf
	sum    atomic.Uint64
}

func newHist(bounds []uint64) *hist {
	return &hist{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// observe counts v.
func (h *hist) observe(v uint64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// read returns the count, the sum (scaled by scale) and the cumulative
// bucket counts keyed by upper bound (scaled), as
// prometheus.NewConstHistogram takes them.
func (h *hist) read(scale float64) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(h.bounds))
	for i, b := range h.bounds {
		count += h.counts[i].Load()
		buckets[float64(b)*scale] = count
	}
	count += h.counts[len(h.bounds)].Load()
	return count, float64(h.sum.Load()) * scale, buckets
}

// Bucket bounds.
var (
	// sizeBounds are the message size buckets in bytes: powers of 4 from
	// 64 B to 16 MiB.
	sizeBounds = []uint64{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20}
	// sessionBounds are the tunnel duration buckets in nanoseconds: from
	// a second to a day.
	sessionBounds = secondsBounds(0.1, 1, 10, 60, 300, 1800, 3600, 4*3600, 24*3600)
	// headerBounds are the upstream header time buckets in nanoseconds
	// (Prometheus' default buckets, 5 ms to 10 s).
	// rttBounds are the ping round-trip buckets in nanoseconds: 1 ms to
	// 10 s.
	rttBounds    = secondsBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
	headerBounds = secondsBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)

func secondsBounds(s ...float64) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[i] = uint64(math.Round(v * 1e9))
	}
	return out
}
