// Package hist is a log-linear latency histogram in the style of
// HdrHistogram: values below 128 ns are exact, larger ones fall in one of 64
// sub-buckets per power of two, so every reported quantile is within 1/64
// (about 1.6 %) of the recorded value. Record is safe for concurrent use.
package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

const (
	subBits    = 6
	subCount   = 1 << subBits // sub-buckets per power of two
	exactLimit = 2 * subCount // values below this are counted exactly
	maxShift   = 40           // 2^(40+7) ns is far beyond any benchmark
	numBuckets = exactLimit + maxShift*subCount
)

// Histogram counts durations in nanoseconds. The zero value is ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

func index(v uint64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	if shift > maxShift {
		return numBuckets - 1
	}
	return exactLimit + (shift-1)*subCount + int(v>>shift) - subCount
}

// midpoint is the value reported for bucket i: the middle of its range.
func midpoint(i int) uint64 {
	if i < exactLimit {
		return uint64(i)
	}
	shift := (i-exactLimit)/subCount + 1
	m := uint64((i-exactLimit)%subCount + subCount)
	return m<<shift + (uint64(1)<<shift)/2
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[index(uint64(v))].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of observations recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest observation recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the value at quantile q (0 < q ≤ 1), or 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	total := h.total.Load()
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= want {
			v := time.Duration(midpoint(i))
			if m := h.Max(); v > m {
				v = m
			}
			return v
		}
	}
	return h.Max()
}
