package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// hostMem is what the kernel holds for sockets, machine-wide: the slab
// caches (Slab in /proc/meminfo), the ones a socket takes objects from
// (/proc/slabinfo, readable by root only), and the TCP buffers' pages
// (/proc/net/sockstat "TCP: ... mem", in pages). None of it is in any
// process's VmRSS. On loopback every connection's two ends are on this
// machine, so the figures cover the clients' and the backend's sockets as
// well as the proxy's; Slab also counts whatever else the machine
// allocated meanwhile.
type hostMem struct {
	slabKiB   int64
	tcpMemKiB int64
	caches    map[string]int64 // bytes in use in each of socketCaches; nil without /proc/slabinfo
}

// socketCaches are the slab caches an open TCP socket takes an object
// from: the socket (TCP), its inode and dentry in sockfs, its struct file,
// and its entry in an epoll set.
var socketCaches = []string{"TCP", "sock_inode_cache", "dentry", "filp", "eventpoll_epi"}

// readSlabinfo returns the bytes in use (active objects × object size) of
// each of socketCaches.
func readSlabinfo() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(socketCaches))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// name <active_objs> <num_objs> <objsize> ...
		if len(f) < 4 || !slices.Contains(socketCaches, f[0]) {
			continue
		}
		active, err1 := strconv.ParseInt(f[1], 10, 64)
		size, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("/proc/slabinfo: %q", line)
		}
		out[f[0]] = active * size
	}
	return out, nil
}

func readHostMem() (hostMem, error) {
	var m hostMem
	m.caches, _ = readSlabinfo() // root only; the rest stands without it
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

// perConnKiB is the memory a held WebSocket takes on this machine, all
// told: the proxy's RSS (2–3 KiB), the kernel's four sockets on loopback
// (about 20 KiB) and the echo backend's goroutine and buffers; measured
// about 36 KiB at 100,000, rounded up.
const perConnKiB = 48

// checkMemory refuses a run whose connections would not fit in
// MemAvailable with 1 GiB to spare.
func checkMemory(conns int) error {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return err
	}
	avail, err := field(string(b), "MemAvailable:")
	if err != nil {
		return fmt.Errorf("/proc/meminfo: %w", err)
	}
	if need := int64(conns)*perConnKiB + 1<<20; avail < need {
		return fmt.Errorf("%d connections need about %d MiB and 1 GiB to spare; %d MiB available", conns, int64(conns)*perConnKiB>>10, avail>>10)
	}
	return nil
}
