package proxytest

import (
	"testing"
	"time"
)

// Poll intervals: the first check is immediate, then the wait between
// checks doubles from pollMin up to pollMax, so that a condition that
// holds quickly is seen within a millisecond or two on an idle machine
// and a slow one costs a few checks per second on a loaded one.
const (
	pollMin = time.Millisecond
	pollMax = 20 * time.Millisecond
)

// Poll calls cond until it returns true or timeout has passed, and reports
// whether it returned true. cond is always called at least once, and once
// more after the bound has passed, so a timeout of 0 is a single check.
// Poll does not touch a testing.T: goroutines other than the test's may
// use it.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := pollMin
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
		wait = min(2*wait, pollMax)
	}
}

// Eventually waits, as Poll does, up to timeout for cond to return true,
// and ends the test with t.Fatalf(format, args...) when it has not. The
// bound is a limit for a broken build, not a measurement: pick it well
// above what the condition takes on a loaded machine (seconds, not
// milliseconds). args are evaluated once, before the wait: for a message
// with the values seen at the end, use Poll and t.Fatalf. Like t.Fatalf
// it must be called from the test's goroutine.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf(format, args...)
	}
}

// Consistently checks cond, as Poll does, for the whole of d and ends the
// test with t.Fatalf(format, args...) the first time it returns false. It
// is for assertions of absence ("nothing reached the backend"), where no
// event can be waited for: d is then part of what the test asserts, and
// the failure comes as soon as the unwanted event is seen.
func Consistently(t testing.TB, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if Poll(d, func() bool { return !cond() }) {
		t.Fatalf(format, args...)
	}
}
