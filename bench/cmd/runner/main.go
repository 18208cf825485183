// Command runner runs wsgate's benchmark: cases a–r (see bench/cmd/load)
// against direct (no proxy), nginx, nginx with 64 KiB proxy buffers (case b
// only), HAProxy and wsgate, interleaved and repeated, with the proxy pinned
// to core 0 and the load generator and echo backend to core 1. It prints a
// Markdown table of medians, appends it to RESULTS.md and writes every run
// as a JSON line to YYYY-MM-DD.jsonl in the results directory.
//
// nginx and wsgate read the same configuration file: the seed tutorial's
// server block on loopback ports.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// options are the runner's flags.
type options struct {
	repo, results, bin string
	cases, targets     []string
	reps               int
	dur, warm          time.Duration
	idle               int
	nice               int
	quick              bool
	cores              int
}

func main() {
	var o options
	var cases, targets string
	flag.StringVar(&o.repo, "repo", ".", "repository root, where ./cmd/wsgate is built")
	flag.StringVar(&o.results, "results", "bench/results", "directory of RESULTS.md and the JSON lines")
	flag.StringVar(&o.bin, "bin", "", "directory holding the echo and load binaries (default: this binary's directory)")
	flag.StringVar(&cases, "cases", "a,b,c,d,e,f,g,h,i", "cases to run")
	flag.StringVar(&targets, "targets", "direct,nginx,nginx-tuned,haproxy,wsgate,wsgate-metrics,wsgate-ws,wsgate-h3", "targets to run")
	flag.IntVar(&o.reps, "reps", 3, "interleaved repetitions")
	flag.DurationVar(&o.dur, "dur", 5*time.Second, "measured window per run")
	flag.DurationVar(&o.warm, "warm", 500*time.Millisecond, "warm-up per run")
	flag.IntVar(&o.idle, "idle", 9500, "idle WebSockets held in cases d, q and r (capped by the fd limit)")
	flag.IntVar(&o.nice, "nice", 0, "run proxy, load generator and echo backend under nice -n N (negative needs root; lessens noise on a shared machine)")
	flag.BoolVar(&o.quick, "quick", false, "smoke run: 1 repetition, 1 s windows, 2,000 idle WebSockets")
	flag.IntVar(&o.cores, "cores", 1, "above 1: nothing pinned, every process free on all cores; nginx runs a master and this many workers (worker_processes), HAProxy this many threads (nbthread), wsgate and the Go programs GOMAXPROCS this")
	flag.Parse()
	if o.quick {
		o.reps, o.dur, o.warm, o.idle = 1, time.Second, 300*time.Millisecond, 2000
	}
	o.cases = split(cases)
	o.targets = split(targets)
	if o.bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(os.Stderr, "runner: %v\n", err)
			os.Exit(1)
		}
		o.bin = filepath.Dir(exe)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	r := &runner{o: o, log: log, procs: map[int]*exec.Cmd{}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		log.Warn("stopping on signal", "signal", s)
		r.killAll()
		os.Exit(130)
	}()
	err := r.run()
	r.killAll()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner: %v\n", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// runner owns every process it starts, by PID.
type runner struct {
	o     options
	log   *slog.Logger
	mu    sync.Mutex
	procs map[int]*exec.Cmd
	work  string
	ports ports
	pin   bool
	unav  map[string]string // target → reason it cannot run
	echo  *proc
	// nofile is the fd limit the proxies inherit.
	nofile int
	// lock is the machine lock's file (lockMachine).
	lock *os.File
}

type ports struct{ ws, app, proxy, haproxy, tls int }

// proc is a started process and its exit, observed once.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stderr string // path of the file holding its stderr
}

// wrap prefixes argv with nice and taskset as configured; both exec the
// program, so its PID is the one started.
func (r *runner) wrap(core int, argv []string) []string {
	if r.o.nice != 0 {
		argv = append([]string{"nice", "-n", fmt.Sprint(r.o.nice)}, argv...)
	}
	if r.pin {
		argv = append([]string{"taskset", "-c", fmt.Sprint(core)}, argv...)
	}
	return argv
}

func (r *runner) start(name string, core int, argv ...string) (*proc, error) {
	argv = r.wrap(core, argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	errPath := filepath.Join(r.work, name+".stderr")
	f, err := os.OpenFile(errPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = f
	cmd.Stdout = f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), stderr: errPath}
	r.mu.Lock()
	r.procs[cmd.Process.Pid] = cmd
	r.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		f.Close()
		r.mu.Lock()
		delete(r.procs, cmd.Process.Pid)
		r.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM (a fast shutdown for nginx, HAProxy and wsgate alike),
// then SIGKILL after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.stderr)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

func (r *runner) killAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid, cmd := range r.procs {
		cmd.Process.Signal(syscall.SIGTERM)
		r.log.Info("stopped", "pid", pid)
	}
	time.Sleep(200 * time.Millisecond)
	for _, cmd := range r.procs {
		cmd.Process.Kill()
	}
}

// lockMachine serialises benchmark runs on this machine: two runs pinned
// to the same cores would measure each other. The lock is released when
// the process exits.
func (r *runner) lockMachine() error {
	path := filepath.Join(os.TempDir(), "wsgate-bench.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return fmt.Errorf("opening lock %s: %w", path, err)
	}
	// The open file holds the lock: kept in r, it is not closed by its
	// finalizer while the run goes on.
	r.lock = f
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return nil
	}
	r.log.Warn("another benchmark run holds the lock; waiting for it to finish", "lock", path)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", path, err)
	}
	return nil
}

func (r *runner) run() error {
	o := r.o
	if err := r.lockMachine(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(o.results, "tmp"), 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Join(o.results, "tmp"), "run-")
	if err != nil {
		return err
	}
	r.work, _ = filepath.Abs(work)
	r.pin = runtime.NumCPU() >= 2 && lookPath("taskset") == nil
	if !r.pin {
		r.log.Warn("not pinning: needs 2 cores and taskset")
	}
	if o.cores > 1 {
		// All cores: the proxies get o.cores workers each and share the
		// machine with the load generator and the backend.
		r.pin = false
		os.Setenv("GOMAXPROCS", fmt.Sprint(o.cores))
	}
	r.idleLimit()
	r.unav = map[string]string{}
	r.ports.ws, r.ports.app, r.ports.proxy, r.ports.haproxy, r.ports.tls = freePort(), freePort(), freePort(), freePort(), freePort()
	if err := r.writeConfigs(); err != nil {
		return err
	}
	r.checkPeers()
	r.echo, err = r.start("echo", 1, filepath.Join(o.bin, "echo"),
		"-ws", fmt.Sprintf("127.0.0.1:%d", r.ports.ws), "-http", fmt.Sprintf("127.0.0.1:%d", r.ports.app))
	if err != nil {
		return err
	}
	defer r.echo.stop()
	if err := waitPort(r.ports.ws, 5*time.Second); err != nil {
		return fmt.Errorf("starting echo backend: %w (%s)", err, r.echo.tail())
	}
	waitPort(r.ports.app, 5*time.Second)

	started := time.Now().UTC()
	machine := machineLine()
	r.log.Info("benchmark", "cases", o.cases, "targets", o.targets, "reps", o.reps, "machine", machine)
	var runs []Result
	for rep := range o.reps {
		for _, c := range o.cases {
			order := targetsFor(c, o.targets)
			if len(order) > 0 {
				k := rep % len(order)
				order = append(order[k:], order[:k]...)
			}
			for _, t := range order {
				if reason, ok := r.unav[t]; ok {
					r.log.Info("skipping", "target", t, "reason", reason)
					continue
				}
				res := r.runOne(c, t, rep)
				runs = append(runs, res)
			}
		}
	}
	return r.report(started, machine, runs)
}

// targetsFor drops targets that do not apply: nginx-tuned exists for the
// bulk case only, wsgate-metrics for the message cases (a, b, c),
// wsgate-ws (Pings and limits on) for them and the idle tunnels (d), direct
// has no proxy whose memory could be read, and neither the backend nor
// HAProxy serves files (cases h and j) nor reads nginx's allow, limit_req
// and add_header (case i) nor its proxy_cache (cases k and l). The TLS
// cases (m, n, o, q, r) are nginx's and wsgate's, whose shared file has the
// TLS server (HAProxy's configuration has no TLS front end); only wsgate
// carries WebSockets over HTTP/2 (o, r), and HTTP/3 (p) is the wsgate-h3
// target's alone, whose copy of the file listens with quic.
func targetsFor(c string, targets []string) []string {
	var out []string
	for _, t := range targets {
		if t == "nginx-tuned" && c != "b" || t == "wsgate-metrics" && c != "a" && c != "b" && c != "c" || t == "direct" && strings.Contains("dhijklmnoqr", c) || t == "haproxy" && strings.Contains("hijklmnoqr", c) ||
			t == "wsgate-ws" && !strings.Contains("abcd", c) || t == "nginx" && (c == "o" || c == "r") ||
			(t == "wsgate-h3") != (c == "p") {
			continue
		}
		out = append(out, t)
	}
	return out
}

// idleLimit caps cases d, q and r at what the proxy's fd limit allows: two
// sockets per proxied WebSocket plus listeners, logs and slack (r needs
// fewer, its WebSockets sharing client connections, and is held to the
// same count).
func (r *runner) idleLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	r.nofile = int(l.Cur)
	if max := int(l.Cur-200) / 2; r.o.idle > max {
		r.log.Info("capping idle connections at the fd limit", "idle", max, "nofile", l.Cur)
		r.o.idle = max
	}
}

func lookPath(name string) error {
	_, err := exec.LookPath(name)
	return err
}

// checkPeers marks targets whose programs are missing and builds wsgate.
func (r *runner) checkPeers() {
	for _, t := range r.o.targets {
		switch t {
		case "nginx", "nginx-tuned":
			if err := lookPath("nginx"); err != nil {
				r.unav[t] = "nginx not installed"
			}
		case "haproxy":
			if err := lookPath("haproxy"); err != nil {
				r.unav[t] = "haproxy not installed"
			}
		case "wsgate", "wsgate-metrics", "wsgate-ws", "wsgate-h3":
			out, err := exec.Command("go", "build", "-C", r.o.repo, "-o", filepath.Join(r.work, "wsgate"), "./cmd/wsgate").CombinedOutput()
			if err != nil {
				r.unav[t] = "build failed: " + firstLine(string(out), err)
				continue
			}
			// wsgate must check the shared file as nginx would before it serves.
			out, err = exec.Command(filepath.Join(r.work, "wsgate"), "-t", "-p", r.prefix(wsgatePrefix(t)), "-c", "conf/nginx.conf").CombinedOutput()
			if err != nil {
				r.unav[t] = "-t rejects the nginx config: " + firstLine(string(out), err)
			}
		case "direct":
		default:
			r.unav[t] = "unknown target"
		}
	}
	for t, reason := range r.unav {
		r.log.Warn("target unavailable", "target", t, "reason", reason)
	}
}

func firstLine(out string, err error) string {
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return err.Error()
}

func (r *runner) prefix(name string) string { return filepath.Join(r.work, name) }

// wsgatePrefix is the prefix a wsgate target reads its configuration
// from: nginx's own file, or for wsgate-metrics the same with a
// ws_metrics location, for wsgate-ws with wsNativeLines in /ws/.
func wsgatePrefix(t string) string {
	if t == "wsgate-metrics" || t == "wsgate-ws" || t == "wsgate-h3" {
		return t
	}
	return "nginx"
}

// startTarget starts the proxy for target t and returns it and the address
// the load generator uses; direct starts nothing.
func (r *runner) startTarget(t string) (*proc, string, error) {
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", r.ports.proxy)
	var p *proc
	var err error
	switch t {
	case "direct":
		return nil, fmt.Sprintf("127.0.0.1:%d", r.ports.ws), nil
	case "nginx", "nginx-tuned":
		pre := r.prefix(t)
		// One worker runs without a master, so that the process measured
		// is the worker; more run under a master, whose children the load
		// generator counts with it.
		master := "master_process off; "
		if r.o.cores > 1 {
			master = ""
		}
		p, err = r.start(t, 0, "nginx", "-p", pre, "-c", "conf/nginx.conf", "-e", "stderr",
			"-g", "daemon off; "+master+"pid "+filepath.Join(pre, "nginx.pid")+";")
	case "haproxy":
		proxyAddr = fmt.Sprintf("127.0.0.1:%d", r.ports.haproxy)
		p, err = r.start(t, 0, "haproxy", "-db", "-f", filepath.Join(r.work, "haproxy.cfg"))
	case "wsgate", "wsgate-metrics", "wsgate-ws", "wsgate-h3":
		p, err = r.start(t, 0, filepath.Join(r.work, "wsgate"), "-p", r.prefix(wsgatePrefix(t)), "-c", "conf/nginx.conf")
	}
	if err != nil {
		return nil, "", err
	}
	port := r.ports.proxy
	if t == "haproxy" {
		port = r.ports.haproxy
	}
	if err := waitPort(port, 5*time.Second); err != nil || p.exited() {
		p.stop()
		return nil, "", fmt.Errorf("not listening on %s: %s", proxyAddr, p.tail())
	}
	if err := probe(proxyAddr); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("probing %s: %w", proxyAddr, err)
	}
	return p, proxyAddr, nil
}

// runOne starts the target, runs one case with the load generator and stops
// the target. A wsgate that does not serve marks wsgate unavailable.
func (r *runner) runOne(c, t string, rep int) Result {
	res := Result{Case: c, Target: t, Rep: rep + 1}
	p, addr, err := r.startTarget(t)
	if err != nil {
		res.RunError = err.Error()
		r.log.Warn("target failed to start", "target", t, "err", err)
		if strings.HasPrefix(t, "wsgate") {
			r.unav[t] = err.Error()
		}
		return res
	}
	pid := 0
	if p != nil {
		pid = p.cmd.Process.Pid
		defer p.stop()
	}
	if strings.Contains("mnopqr", c) {
		addr = fmt.Sprintf("127.0.0.1:%d", r.ports.tls)
	}
	args := []string{filepath.Join(r.o.bin, "load"), "-case", c, "-target", t, "-addr", addr,
		"-pid", fmt.Sprint(pid), "-echopid", fmt.Sprint(r.echo.cmd.Process.Pid),
		"-dur", r.o.dur.String(), "-warm", r.o.warm.String()}
	if idleCase(c) {
		args = append(args, "-conns", fmt.Sprint(r.o.idle))
	}
	args = r.wrap(1, args)
	ctx, cancel := context.WithTimeout(context.Background(), r.o.dur+r.o.warm+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		res.RunError = err.Error()
		return res
	}
	r.mu.Lock()
	r.procs[cmd.Process.Pid] = cmd
	r.mu.Unlock()
	err = cmd.Wait()
	r.mu.Lock()
	delete(r.procs, cmd.Process.Pid)
	r.mu.Unlock()
	if err != nil {
		res.RunError = fmt.Sprintf("load: %v: %s", err, strings.TrimSpace(stderr.String()))
		return res
	}
	if err := json.Unmarshal(out.Bytes(), &res.Load); err != nil {
		res.RunError = fmt.Sprintf("decoding load output: %v", err)
		return res
	}
	if p != nil && p.exited() {
		res.RunError = "proxy exited during the run: " + p.tail()
	}
	r.log.Info("run", "rep", rep+1, "case", c, "target", t, "ops/s", int(res.Load.OpsPerSec),
		"MB/s", round1(res.Load.MBPerSec), "cpu_us/op", round1(res.Load.CPUPerOp), "sys_us/op", round1(res.Load.SysPerOp),
		"p99_us", int(res.Load.P99), "KiB/conn", round1(res.Load.KiBPerConn), "errors", res.Load.Errors)
	return res
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func machineLine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	rel := make([]byte, 0, len(uts.Release))
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	return fmt.Sprintf("nproc %d, %s, Linux %s, %s, %s, %s, load average %s",
		runtime.NumCPU(), model, rel, version("nginx", "-v"), version("haproxy", "-v"), runtime.Version(), load)
}

func version(name string, arg string) string {
	out, err := exec.Command(name, arg).CombinedOutput()
	if err != nil {
		return name + " absent"
	}
	l := strings.TrimSpace(strings.Split(string(out), "\n")[0])
	l = strings.TrimPrefix(l, "nginx version: ")
	if f := strings.Fields(l); name == "haproxy" && len(f) >= 3 {
		l = "haproxy " + f[2]
	}
	return l
}

var errNoMedian = errors.New("no runs")

func median(xs []float64) (float64, error) {
	if len(xs) == 0 {
		return 0, errNoMedian
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], nil
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, nil
}
