// Package procstat reads a process's CPU time and resident memory from
// Linux's /proc, as proc(5) documents them.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux ABI Go supports.
const clockTick = 10 * time.Millisecond

// CPU returns utime+stime of process pid, summed over all its threads
// (fields 14 and 15 of /proc/PID/stat), with 10 ms resolution.
func CPU(pid int) (time.Duration, error) {
	u, s, err := CPUSplit(pid)
	return u + s, err
}

// CPUSplit returns utime and stime of process pid separately: time in the
// process's own code and time in the kernel on its behalf.
func CPUSplit(pid int) (user, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading stat of %d: %w", pid, err)
	}
	// The command name (field 2) may contain spaces; fields resume after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parsing stat of %d: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("parsing stat of %d: %d fields", pid, len(f))
	}
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("parsing stat of %d: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut) * clockTick, time.Duration(st) * clockTick, nil
}

// TreeCPUSplit is CPUSplit of pid plus that of its child processes (found
// by their parent in /proc/*/stat): nginx's master and its workers when it
// runs with worker_processes above 1. Children that exited are not
// counted.
func TreeCPUSplit(pid int) (user, sys time.Duration, err error) {
	user, sys, err = CPUSplit(pid)
	if err != nil {
		return 0, 0, err
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, cerr := strconv.Atoi(e.Name())
		if cerr != nil || child == pid || parent(child) != pid {
			continue
		}
		if u, s, cerr := CPUSplit(child); cerr == nil {
			user, sys = user+u, sys+s
		}
	}
	return user, sys, nil
}

// parent returns the parent PID of pid (field 4 of /proc/PID/stat), 0
// when it cannot be read.
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// RSSKiB returns VmRSS of process pid in KiB, from /proc/PID/status.
func RSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading status of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("parsing status of %d: no VmRSS", pid)
}
