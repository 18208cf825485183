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
	want := lim.Max
	if n > 0 && n < want {
		want = n
	}
	if want <= lim.Cur {
		return
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("raising the open file limit", "want", want, "err", err)
	}
}
