package main

import (
	"runtime"
	"testing"
)

func TestShouldTrim(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name      string
		prev, cur heapSample
		trimmed   uint64
		want      bool
	}{
		{"quiet after a burst", heapSample{allocs: 100 * mib}, heapSample{allocs: 100*mib + 1000, live: 20 * mib, held: 50 * mib}, 0, true},
		{"still allocating", heapSample{allocs: 100 * mib}, heapSample{allocs: 102 * mib, live: 20 * mib, held: 50 * mib}, 0, false},
		{"little to return", heapSample{allocs: 100 * mib}, heapSample{allocs: 100 * mib, live: 20 * mib, held: 23 * mib}, 0, false},
		{"under a quarter of live", heapSample{allocs: 100 * mib}, heapSample{allocs: 100 * mib, live: 200 * mib, held: 240 * mib}, 0, false},
		{"nothing allocated since the last trim", heapSample{allocs: 100 * mib}, heapSample{allocs: 100 * mib, live: 20 * mib, held: 50 * mib}, 99 * mib, false},
		{"less than a quarter of live allocated since", heapSample{allocs: 100 * mib}, heapSample{allocs: 100 * mib, live: 80 * mib, held: 150 * mib}, 90 * mib, false},
		{"held below live", heapSample{}, heapSample{allocs: 10 * mib, live: 20 * mib, held: 10 * mib}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shouldTrim(tt.prev, tt.cur, tt.trimmed); got != tt.want {
				t.Errorf("shouldTrim(%+v, %+v, %d) = %v; want %v", tt.prev, tt.cur, tt.trimmed, got, tt.want)
			}
		})
	}
}

// TestReadHeap checks that the metrics the trimmer reads exist in this Go
// version: a renamed metric would read as 0 and the trimmer never act.
func TestReadHeap(t *testing.T) {
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.GC()
	h := readHeap(newSamples())
	if h.allocs < 4<<20 || h.live < 4<<20 || h.held < h.live/2 {
		t.Errorf("readHeap = %+v; want allocs and live over 4 MiB, held near live", h)
	}
	runtime.KeepAlive(keep)
}
