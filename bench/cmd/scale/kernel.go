package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// hostMem is what the kernel holds for sockets, machine-wide: the slab
// caches (Slab in /proc/meminfo: the TCP socket, its inode, file, dentry
// and epoll entry) and the TCP buffers' pages (/proc/net/sockstat "TCP:
// ... mem", in pages). Neither is in any process's VmRSS. On loopback
// every connection's two ends are on this machine, so the figures cover
// the clients' and the backend's sockets as well as the proxy's.
type hostMem struct {
	slabKiB   int64
	tcpMemKiB int64
}

func readHostMem() (hostMem, error) {
	var m hostMem
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, err
	}
	if m.slabKiB, err = field(string(b), "Slab:"); err != nil {
		return m, fmt.Errorf("/proc/meminfo: %w", err)
	}
	b, err = os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "TCP:"); ok {
			pages, err := field(rest, "mem")
			if err != nil {
				return m, fmt.Errorf("/proc/net/sockstat: %w", err)
			}
			m.tcpMemKiB = pages * int64(os.Getpagesize()) / 1024
			return m, nil
		}
	}
	return m, fmt.Errorf("/proc/net/sockstat: no TCP line")
}

// field returns the number after name in text ("Slab:   123 kB", "mem 4").
func field(text, name string) (int64, error) {
	f := strings.Fields(text)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == name {
			return strconv.ParseInt(f[i+1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %q", name)
}

// fdCount is how many descriptors process pid has open.
func fdCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}
