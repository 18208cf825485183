// Command scale measures what a proxy holds per idle connection at scale,
// and for wsgate the CPU of its own Pings over all of them: the figures
// behind "100,000 idle WebSockets" and "idle HTTP connections" in the
// README's performance section. It is a measurement, not a test: it starts
// the echo backend and the proxy by PID, opens the connections, reads the
// proxy's VmRSS and CPU from /proc, prints one JSON line and stops what it
// started.
//
//	ws              -conns WebSockets through /ws/, one 128 B echo each,
//	                then idle; with -ping wsgate sends its own Pings to the
//	                backend side of every tunnel (ws_ping_interval TIME
//	                upstream) and the CPU of -rounds rounds is measured;
//	                -directives adds wsgate directives to /ws/ (limits)
//	http-fresh      -conns connections that send nothing (before a first
//	                request: a slowloris-style flood)
//	http-keepalive  -conns connections that sit idle after one GET
//
// Clients come from 127.0.0.2 upward (-srcs addresses) so that ephemeral
// ports do not run out; the proxy binds its upstream side to the client's
// address too (proxy_bind $remote_addr), for the same reason. The fd limit
// is raised, as far as fs.nr_open allows, to what the connections need.
// Needs root (or CAP_SYS_RESOURCE) above the hard limit.
//
// The hard limit is per process. With -procs N (wsgate only) scale holds
// more connections than one process may, as nginx does with several worker
// processes each under its own limit: N wsgate processes read the same
// configuration with "listen ... reuseport" and the kernel spreads the
// connections over them; the echo backend runs as several processes sharing
// its ports the same way, and the clients as several processes (scale
// re-executed with -client-worker), opened one after another at -rate
// connections a second. The proxy figures are summed over its processes,
// and the kernel's socket memory (slab and TCP buffer pages, machine-wide:
// on loopback every socket of a connection is on this machine) is read
// before and after.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgate/bench/internal/procstat"
)

// conf is the configuration both proxies read: /ws/ as the seed tutorial
// proxies it, plus proxy_bind; / answered by the proxy itself.
const conf = `worker_processes 1;

events {
    worker_connections %d;
}

http {
    access_log off;
    keepalive_timeout 600s;
    client_header_timeout 600s;

    server {
        listen 127.0.0.1:%d%s;
        server_name example.com;

        location /ws/ {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 86400;
            proxy_bind $remote_addr;%s
        }

        location / {
            return 204;
        }
    }
}
`

// Result is the JSON line scale prints.
type Result struct {
	Proxy, Mode      string
	Conns            int     // connections asked for
	NoFile           uint64  // RLIMIT_NOFILE each process ran with
	Procs            int     `json:",omitempty"` // proxy processes, when more than one
	EchoProcs        int     `json:",omitempty"` // echo backend processes, when more than one
	ClientProcs      int     `json:",omitempty"` // client processes, when more than one
	Open             int     // connections open when RSS was read
	ProxyFDsMin      int     `json:",omitempty"` // descriptors of the least and the most loaded proxy process then
	ProxyFDsMax      int     `json:",omitempty"`
	SetupSeconds     float64 // time to open them
	RSSBeforeKiB     int64   // summed over the proxy's processes
	RSSAfterKiB      int64
	KiBPerConn       float64
	SlabKiBPerConn   float64 // the kernel's slab growth per connection, machine-wide (every socket of it on loopback)
	TCPMemKiBPerConn float64 // the kernel's TCP buffer pages per connection, machine-wide
	// SlabCacheKiBPerConn is the growth per connection of each slab cache a
	// socket takes an object from, machine-wide: dentry may include entries
	// made meanwhile by whatever reads /proc.
	SlabCacheKiBPerConn map[string]float64 `json:",omitempty"`
	PingInterval        string             `json:",omitempty"`
	Rounds              int                `json:",omitempty"`
	CPUSecondsRound     float64            `json:",omitempty"` // proxy CPU (user+sys) per ping round over all tunnels
	UsPerPing           float64            `json:",omitempty"` // the same per tunnel
	Pings               int64              `json:",omitempty"` // Pings the echo backend answered meanwhile
	PingsPerRound       float64            `json:",omitempty"` // the same per tunnel and round: about 1 when the rounds ran on time
	IdleCPUPerSec       float64            // proxy CPU seconds per second while idle (no Pings), or with Pings
	Errors              int64
	FirstError          string `json:",omitempty"`
}

type options struct {
	proxy, mode, wsgate, nginx, echo, work string
	directives                             string
	conns, srcs, rounds, parallel          int
	procs, clientMax, rate                 int
	ping, settle                           time.Duration

	// -client-worker: scale as one client process of a run with -procs.
	clientWorker bool
	addr         string
	srcOffset    int
}

func main() {
	var o options
	flag.StringVar(&o.proxy, "proxy", "wsgate", "wsgate or nginx")
	flag.StringVar(&o.mode, "mode", "ws", "ws, http-fresh or http-keepalive")
	flag.StringVar(&o.wsgate, "wsgate", "wsgate", "wsgate binary")
	flag.StringVar(&o.nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&o.echo, "echo", "echo", "the benchmark's echo backend binary (bench/cmd/echo)")
	flag.StringVar(&o.work, "work", "", "directory for the configuration and logs (default: a new temporary one)")
	flag.IntVar(&o.conns, "conns", 100000, "connections to hold")
	flag.IntVar(&o.srcs, "srcs", 64, "client source addresses, from 127.0.0.2 upward")
	flag.IntVar(&o.parallel, "parallel", 64, "connections opened at once")
	flag.IntVar(&o.procs, "procs", 1, "wsgate processes sharing the listening port (listen ... reuseport); above 1 the echo backend and the clients run as several processes too")
	flag.IntVar(&o.clientMax, "client-conns", 16000, "connections per client process (with -procs above 1)")
	flag.IntVar(&o.rate, "rate", 0, "connections opened a second at most (0: 5,000 with -procs above 1, else bounded by -parallel only)")
	flag.DurationVar(&o.ping, "ping", 0, "wsgate's ws_ping_interval to the upstream side (ws mode; 0: no Pings)")
	flag.StringVar(&o.directives, "directives", "", "more wsgate directives for location /ws/, e.g. \"ws_max_message_size 1m both; ws_max_frame_size 64k both;\" (ws mode)")
	flag.IntVar(&o.rounds, "rounds", 3, "ping rounds measured (or, without -ping, idle seconds measured)")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "idle time before reading RSS")
	flag.BoolVar(&o.clientWorker, "client-worker", false, "run as a client process of a run with -procs (scale starts these itself)")
	flag.StringVar(&o.addr, "addr", "", "the proxy's address (-client-worker)")
	flag.IntVar(&o.srcOffset, "src-offset", 0, "the first connection's place in the round of source addresses (-client-worker)")
	flag.Parse()
	if o.clientWorker {
		if err := clientWorker(o); err != nil {
			fmt.Fprintf(os.Stderr, "scale client: %v\n", err)
			os.Exit(1)
		}
		return
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func run(o options) (*Result, error) {
	if o.procs > 1 && o.proxy != "wsgate" {
		return nil, fmt.Errorf("-procs applies to wsgate only")
	}
	if err := lockMachine(); err != nil {
		return nil, err
	}
	// The proxy holds two sockets per WebSocket (one per HTTP connection)
	// and a few more for its listeners and logs.
	per := 1
	if o.mode == "ws" {
		per = 2
	}
	limit, err := raiseNoFile(uint64(2*o.conns + 4096))
	if err != nil {
		return nil, err
	}
	res := &Result{Proxy: o.proxy, Mode: o.mode, Conns: o.conns, NoFile: limit}
	if most := capacity(max(o.procs, 1), limit, per); o.conns > most {
		fmt.Fprintf(os.Stderr, "scale: RLIMIT_NOFILE %d (the hard limit, not raisable without CAP_SYS_RESOURCE) caps the connections of %d proxy processes at %d\n", limit, max(o.procs, 1), most)
		o.conns = most
	}
	if err := checkMemory(o.conns); err != nil {
		return nil, err
	}
	pl := makePlan(o.conns, o.procs, limit, o.clientMax)
	if pl.proxies > 1 {
		res.Procs, res.EchoProcs = pl.proxies, pl.echoes
		if o.rate == 0 {
			o.rate = 5000
		}
	}
	if len(pl.clients) > 1 {
		res.ClientProcs = len(pl.clients)
	}
	temp := "" // the work directory when scale made it, removed at the end
	if o.work == "" {
		w, err := os.MkdirTemp("", "wsgate-scale-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(w)
		o.work, temp = w, w
	}
	for _, d := range []string{"conf", "logs"} {
		if err := os.MkdirAll(filepath.Join(o.work, d), 0o755); err != nil {
			return nil, err
		}
	}
	wsPort, httpPort, proxyPort := freePort(), freePort(), freePort()
	extra := ""
	if o.ping > 0 {
		if o.proxy != "wsgate" || o.mode != "ws" {
			return nil, fmt.Errorf("-ping applies to wsgate in ws mode only")
		}
		extra = fmt.Sprintf("\n            ws_ping_interval %dms upstream;\n            ws_pong_timeout 60s;", o.ping.Milliseconds())
	}
	if o.directives != "" {
		if o.proxy != "wsgate" || o.mode != "ws" {
			return nil, fmt.Errorf("-directives applies to wsgate in ws mode only")
		}
		extra += "\n            " + o.directives
	}
	reuse := ""
	if pl.proxies > 1 {
		reuse = " reuseport"
	}
	text := fmt.Sprintf(conf, 2*o.conns+1024, proxyPort, reuse, wsPort, extra)
	if err := os.WriteFile(filepath.Join(o.work, "conf", "nginx.conf"), []byte(text), 0o644); err != nil {
		return nil, err
	}
	ps := &procs{}
	defer ps.stop()
	ps.stopOnSignal(func() {
		if temp != "" {
			os.RemoveAll(temp)
		}
	})
	wsAddr, httpAddr := fmt.Sprintf("127.0.0.1:%d", wsPort), fmt.Sprintf("127.0.0.1:%d", httpPort)
	var echoes []named
	for i := range pl.echoes {
		name, argv := "echo", []string{o.echo, "-ws", wsAddr, "-http", httpAddr}
		if pl.echoes > 1 {
			name, argv = fmt.Sprintf("echo.%d", i), append(argv, "-reuseport")
		}
		e, err := ps.start(o.work, name, argv...)
		if err != nil {
			return nil, err
		}
		if err := waitOutput(o.work, name, "ready", 10*time.Second); err != nil {
			return nil, err
		}
		echoes = append(echoes, named{e, name})
	}
	var pids []int
	switch {
	case o.proxy == "wsgate" && pl.proxies > 1:
		// One configuration, as nginx's workers share theirs; each process
		// its own pid file.
		for i := range pl.proxies {
			name := fmt.Sprintf("wsgate.%d", i)
			p, err := ps.start(o.work, name, o.wsgate, "-p", o.work, "-c", "conf/nginx.conf", "-g", fmt.Sprintf("pid logs/%s.pid;", name))
			if err != nil {
				return nil, err
			}
			if err := waitOutput(o.work, name, "wsgate started", 10*time.Second); err != nil {
				return nil, err
			}
			pids = append(pids, p.Process.Pid)
		}
	case o.proxy == "wsgate":
		p, err := ps.start(o.work, "wsgate", o.wsgate, "-p", o.work, "-c", "conf/nginx.conf")
		if err != nil {
			return nil, err
		}
		pids = append(pids, p.Process.Pid)
	case o.proxy == "nginx":
		p, err := ps.start(o.work, "nginx", o.nginx, "-p", o.work, "-c", "conf/nginx.conf", "-e", "stderr",
			"-g", "daemon off; master_process off; pid "+filepath.Join(o.work, "nginx.pid")+";")
		if err != nil {
			return nil, err
		}
		pids = append(pids, p.Process.Pid)
	default:
		return nil, fmt.Errorf("unknown -proxy %q", o.proxy)
	}
	for _, port := range []int{wsPort, proxyPort} {
		if err := waitPort(port, 10*time.Second); err != nil {
			return nil, fmt.Errorf("port %d: %w", port, err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", proxyPort)
	c := &client{addr: addr, srcs: o.srcs, mode: o.mode}
	// Warm the proxy's pools and lazily built state first, in every
	// process.
	closeAll(c.openAll(64*pl.proxies, o.parallel, 0))
	time.Sleep(300 * time.Millisecond)
	if res.RSSBeforeKiB, err = sumRSS(pids); err != nil {
		return nil, err
	}
	host0, err := readHostMem()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var conns []net.Conn
	if len(pl.clients) == 1 {
		conns = c.openAll(o.conns, o.parallel, o.rate)
		res.Open = len(conns)
		res.Errors = c.errs.Load()
		if s, ok := c.firstErr.Load().(string); ok {
			res.FirstError = s
		}
	} else {
		rep, err := openInChildren(ps, o, addr, pl.clients)
		if err != nil {
			return nil, err
		}
		res.Open, res.Errors, res.FirstError = rep.Open, rep.Errors, rep.FirstError
	}
	res.SetupSeconds = time.Since(t0).Seconds()
	time.Sleep(o.settle)
	if res.RSSAfterKiB, err = sumRSS(pids); err != nil {
		return nil, err
	}
	host1, err := readHostMem()
	if err != nil {
		return nil, err
	}
	if pl.proxies > 1 {
		res.ProxyFDsMin, res.ProxyFDsMax = fdRange(pids)
	}
	if res.Open > 0 {
		n := float64(res.Open)
		res.KiBPerConn = float64(res.RSSAfterKiB-res.RSSBeforeKiB) / n
		res.SlabKiBPerConn = float64(host1.slabKiB-host0.slabKiB) / n
		res.TCPMemKiBPerConn = float64(host1.tcpMemKiB-host0.tcpMemKiB) / n
		if host0.caches != nil && host1.caches != nil {
			res.SlabCacheKiBPerConn = make(map[string]float64)
			for name, b := range host1.caches {
				res.SlabCacheKiBPerConn[name] = float64(b-host0.caches[name]) / 1024 / n
			}
		}
	}
	// CPU while the connections sit: -rounds ping rounds (every tunnel
	// pings once per interval, whatever its phase), or -rounds seconds.
	window := time.Duration(o.rounds) * time.Second
	if o.ping > 0 {
		window = time.Duration(o.rounds) * o.ping
		res.PingInterval, res.Rounds = o.ping.String(), o.rounds
	}
	var pings0, pings1 int64
	if o.ping > 0 {
		if pings0, err = echoPings(o.work, echoes); err != nil {
			return nil, err
		}
	}
	cpu0, err := sumCPU(pids)
	if err != nil {
		return nil, err
	}
	time.Sleep(window)
	cpu1, err := sumCPU(pids)
	if err != nil {
		return nil, err
	}
	if o.ping > 0 {
		if pings1, err = echoPings(o.work, echoes); err != nil {
			return nil, err
		}
		res.Pings = pings1 - pings0
	}
	res.IdleCPUPerSec = (cpu1 - cpu0).Seconds() / window.Seconds()
	if o.ping > 0 && res.Open > 0 {
		res.CPUSecondsRound = (cpu1 - cpu0).Seconds() / float64(o.rounds)
		res.UsPerPing = res.CPUSecondsRound * 1e6 / float64(res.Open)
		res.PingsPerRound = float64(res.Pings) / float64(o.rounds) / float64(res.Open)
	}
	closeAll(conns)
	return res, nil
}

// sumRSS is the VmRSS of the processes pids, summed.
func sumRSS(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		kib, err := procstat.RSSKiB(pid)
		if err != nil {
			return 0, err
		}
		sum += kib
	}
	return sum, nil
}

// sumCPU is the CPU time (user and system) of the processes pids, summed.
func sumCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		d, err := procstat.CPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// fdRange is the fewest and the most descriptors any of pids has open.
func fdRange(pids []int) (lo, hi int) {
	for i, pid := range pids {
		n := fdCount(pid)
		if i == 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return lo, hi
}

// lockMachine takes the benchmark runner's machine lock (released when the
// process exits): another run's load would be measured with this one's.
func lockMachine() error {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "wsgate-bench.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	lockFile = f // not closed by its finalizer while the run goes on
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
}

// lockFile holds the machine lock until the process exits.
var lockFile *os.File

// raiseNoFile lifts RLIMIT_NOFILE to want, as far as fs.nr_open and the
// hard limit allow (above the hard limit only with CAP_SYS_RESOURCE); the
// proxy and the backend inherit it. It returns the soft limit in effect.
func raiseNoFile(want uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && want > n {
			want = n
		}
	}
	if l.Cur >= want {
		return l.Cur, nil
	}
	if l.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return want, nil
		}
	}
	l.Cur = min(want, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raising RLIMIT_NOFILE to %d: %w", l.Cur, err)
	}
	return l.Cur, nil
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("listening on a free loopback port: %v", err))
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
