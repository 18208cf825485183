package main

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Memory trimming. Go's collector lets the heap grow to twice what is live
// before collecting (GOGC=100) and returns freed pages to the OS slowly.
// After a burst of connections, say 10,000 WebSockets opened and then idle,
// the handshakes' garbage and stacks stay resident for minutes, which is
// about as much again as the idle tunnels themselves hold. A proxy that
// holds many idle connections pays that for nothing, so wsgate collects
// and returns free pages at once when allocation has paused after a burst.
// While traffic allocates, nothing is forced: the collector's own pacing
// is the right one then.

// Trimming thresholds.
const (
	trimEvery = time.Second // how often the heap is looked at
	// trimQuiet: allocation below this many bytes in one interval counts
	// as paused. A relayed message allocates nothing, so a busy tunnel
	// process can be "paused" too; trimming then costs one collection.
	trimQuiet = 1 << 20
	// trimMin: trim only when at least this much, and at least a quarter
	// of the live heap, could be returned.
	trimMin = 4 << 20
	// trimGap: at most one trim this often.
	trimGap = 5 * time.Second
)

// heapSample is what the trimmer reads from runtime/metrics.
type heapSample struct {
	allocs uint64 // cumulative bytes allocated on the heap
	live   uint64 // heap live after the last collection
	held   uint64 // heap objects, dead ones included, and free pages not yet released
}

var heapMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
}

// newSamples returns the samples readHeap fills.
func newSamples() []metrics.Sample {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	return s
}

func readHeap(s []metrics.Sample) heapSample {
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return heapSample{allocs: v(0), live: v(1), held: v(2) + v(3)}
}

// shouldTrim reports whether, going from prev to cur, allocation paused
// with enough of the held heap beyond what is live to be worth returning,
// and enough was allocated since the last trim (at trimmed) for the
// collection to be worth its cost: at least a quarter of the live heap, so
// that forced collections never cost more than GOGC=25 would.
func shouldTrim(prev, cur heapSample, trimmed uint64) bool {
	if cur.allocs-prev.allocs >= trimQuiet {
		return false
	}
	if since := cur.allocs - trimmed; since < trimMin || since < cur.live/4 {
		return false
	}
	if cur.held <= cur.live {
		return false
	}
	spare := cur.held - cur.live
	return spare >= trimMin && spare >= cur.live/4
}

// trimMemory runs for the life of the process.
func trimMemory() {
	s := newSamples()
	prev := readHeap(s)
	var last time.Time
	var trimmed uint64 // allocs at the last trim
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for range t.C {
		cur := readHeap(s)
		if shouldTrim(prev, cur, trimmed) && time.Since(last) >= trimGap {
			debug.FreeOSMemory()
			last = time.Now()
			cur = readHeap(s)
			trimmed = cur.allocs
		}
		prev = cur
	}
}
