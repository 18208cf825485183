package main

// The plan of a run with several processes: how many proxy, backend and
// client processes hold the connections, and how many each client process
// opens. The hard RLIMIT_NOFILE is per process, so a count of connections
// above one process's limit is spread over several, as nginx spreads its
// connections over worker processes each under its own limit.

// plan says how many processes of each kind a run starts.
type plan struct {
	proxies int   // proxy processes sharing the listening port (listen ... reuseport)
	echoes  int   // echo backend processes sharing its ports (-reuseport)
	clients []int // connections opened by each client process; one entry: opened by scale itself
}

// fill is the share of a process's descriptors a plan counts on filling
// where the kernel spreads connections over processes (SO_REUSEPORT
// hashes each connection's addresses and ports): the most loaded of
// eleven processes sharing 100,000 connections gets two or three hundred
// more than the mean (the counts' standard deviation is about 90).
const fill = 0.95

// capacity is how many connections procs proxy processes hold when each
// may open limit descriptors, per of them per connection and 200 for its
// listeners, logs and pipes; spread by the kernel when procs is above 1.
func capacity(procs int, limit uint64, per int) int {
	if limit <= 200 || per < 1 || procs < 1 {
		return 0
	}
	one := int(limit-200) / per
	if procs == 1 {
		return one
	}
	return int(float64(procs) * float64(one) * fill)
}

// makePlan plans conns connections through procs proxy processes, every
// process allowed limit descriptors. With one proxy process everything runs
// as it always has: one echo process, the clients in scale's own process.
// With more, the echo backend holds one socket per connection spread over
// enough processes, and the clients are split into processes of at most
// clientMax connections each.
func makePlan(conns, procs int, limit uint64, clientMax int) plan {
	p := plan{proxies: max(procs, 1), echoes: 1}
	if p.proxies == 1 || conns <= 0 {
		p.clients = []int{max(conns, 0)}
		return p
	}
	p.echoes = ceilDiv(conns, max(capacity(1, limit, 1)*9/10, 1))
	p.clients = split(conns, ceilDiv(conns, max(clientMax, 1)))
	return p
}

// split divides n into parts counts that differ by at most one, the larger
// first.
func split(n, parts int) []int {
	if parts < 1 {
		parts = 1
	}
	out := make([]int, parts)
	for i := range out {
		out[i] = n / parts
		if i < n%parts {
			out[i]++
		}
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
