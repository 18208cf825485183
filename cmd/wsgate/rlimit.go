package main

import (
	"log/slog"
	"syscall"
)

// raiseNofile raises the open-file soft limit to n (worker_rlimit_nofile),
// or to the hard limit when n is 0: every tunnel holds two descriptors.
func raiseNofile(n uint64, log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(lim.Max)
	if n > 0 && n < want {
		want = n
	}
	if want <= uint64(lim.Cur) {
		return
	}
	setLimit(&lim.Cur, want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("raising the open file limit", "want", want, "err", err)
	}
}

// setLimit sets an rlimit field, whose type is uint64 on Linux and darwin
// and int64 on the BSDs.
func setLimit[T int64 | uint64](field *T, v uint64) { *field = T(v) }
