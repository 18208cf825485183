// Command scale measures what a proxy holds per idle connection at scale,
// and for wsgate the CPU of its own Pings over all of them: the figures
// behind "100,000 idle WebSockets" and "idle HTTP connections" in the
// README's performance section. It is a measurement, not a test: it starts
// the echo backend and one proxy by PID, opens the connections, reads the
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
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/bench/internal/procstat"
	"wsgate/bench/internal/wsframe"
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
        listen 127.0.0.1:%d;
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
	Proxy, Mode     string
	Conns           int     // connections asked for
	NoFile          uint64  // RLIMIT_NOFILE the proxy ran with
	Open            int     // connections open when RSS was read
	SetupSeconds    float64 // time to open them
	RSSBeforeKiB    int64
	RSSAfterKiB     int64
	KiBPerConn      float64
	PingInterval    string  `json:",omitempty"`
	Rounds          int     `json:",omitempty"`
	CPUSecondsRound float64 `json:",omitempty"` // proxy CPU (user+sys) per ping round over all tunnels
	UsPerPing       float64 `json:",omitempty"` // the same per tunnel
	IdleCPUPerSec   float64 // proxy CPU seconds per second while idle (no Pings), or with Pings
	Errors          int64
	FirstError      string `json:",omitempty"`
}

type options struct {
	proxy, mode, wsgate, nginx, echo, work string
	directives                             string
	conns, srcs, rounds, parallel          int
	ping, settle                           time.Duration
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
	flag.DurationVar(&o.ping, "ping", 0, "wsgate's ws_ping_interval to the upstream side (ws mode; 0: no Pings)")
	flag.StringVar(&o.directives, "directives", "", "more wsgate directives for location /ws/, e.g. \"ws_max_message_size 1m both; ws_max_frame_size 64k both;\" (ws mode)")
	flag.IntVar(&o.rounds, "rounds", 3, "ping rounds measured (or, without -ping, idle seconds measured)")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "idle time before reading RSS")
	flag.Parse()
	res, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// procs are the processes scale started, stopped by PID at the end.
type procs struct{ list []*exec.Cmd }

func (p *procs) start(work, name string, argv ...string) (*exec.Cmd, error) {
	f, err := os.Create(filepath.Join(work, name+".stderr"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p.list = append(p.list, cmd)
	return cmd, nil
}

// stop sends SIGTERM to each process started, then SIGKILL after 10 s.
func (p *procs) stop() {
	for _, cmd := range p.list {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
}

func run(o options) (*Result, error) {
	if err := lockMachine(); err != nil {
		return nil, err
	}
	limit, err := raiseNoFile(uint64(2*o.conns + 4096))
	if err != nil {
		return nil, err
	}
	res := &Result{Proxy: o.proxy, Mode: o.mode, Conns: o.conns, NoFile: limit}
	// The proxy holds two sockets per WebSocket (one per HTTP connection)
	// and a few more for its listeners and logs.
	per := uint64(1)
	if o.mode == "ws" {
		per = 2
	}
	if max := int((limit - 200) / per); o.conns > max {
		fmt.Fprintf(os.Stderr, "scale: RLIMIT_NOFILE %d (the hard limit, not raisable without CAP_SYS_RESOURCE) caps the connections at %d\n", limit, max)
		o.conns = max
	}
	if o.work == "" {
		w, err := os.MkdirTemp("", "wsgate-scale-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(w)
		o.work = w
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
	text := fmt.Sprintf(conf, 2*o.conns+1024, proxyPort, wsPort, extra)
	if err := os.WriteFile(filepath.Join(o.work, "conf", "nginx.conf"), []byte(text), 0o644); err != nil {
		return nil, err
	}
	var ps procs
	defer ps.stop()
	if _, err := ps.start(o.work, "echo", o.echo, "-ws", fmt.Sprintf("127.0.0.1:%d", wsPort), "-http", fmt.Sprintf("127.0.0.1:%d", httpPort)); err != nil {
		return nil, err
	}
	var proxy *exec.Cmd
	switch o.proxy {
	case "wsgate":
		proxy, err = ps.start(o.work, "wsgate", o.wsgate, "-p", o.work, "-c", "conf/nginx.conf")
	case "nginx":
		proxy, err = ps.start(o.work, "nginx", o.nginx, "-p", o.work, "-c", "conf/nginx.conf", "-e", "stderr",
			"-g", "daemon off; master_process off; pid "+filepath.Join(o.work, "nginx.pid")+";")
	default:
		return nil, fmt.Errorf("unknown -proxy %q", o.proxy)
	}
	if err != nil {
		return nil, err
	}
	for _, port := range []int{wsPort, proxyPort} {
		if err := waitPort(port, 10*time.Second); err != nil {
			return nil, fmt.Errorf("port %d: %w", port, err)
		}
	}
	pid := proxy.Process.Pid
	c := &client{addr: fmt.Sprintf("127.0.0.1:%d", proxyPort), srcs: o.srcs, mode: o.mode}
	// Warm the proxy's pools and lazily built state first.
	closeAll(c.openAll(64, o.parallel))
	time.Sleep(300 * time.Millisecond)
	if res.RSSBeforeKiB, err = procstat.RSSKiB(pid); err != nil {
		return nil, err
	}
	t0 := time.Now()
	conns := c.openAll(o.conns, o.parallel)
	res.SetupSeconds = time.Since(t0).Seconds()
	res.Open = len(conns)
	time.Sleep(o.settle)
	if res.RSSAfterKiB, err = procstat.RSSKiB(pid); err != nil {
		return nil, err
	}
	if res.Open > 0 {
		res.KiBPerConn = float64(res.RSSAfterKiB-res.RSSBeforeKiB) / float64(res.Open)
	}
	// CPU while the connections sit: -rounds ping rounds (every tunnel
	// pings once per interval, whatever its phase), or -rounds seconds.
	window := time.Duration(o.rounds) * time.Second
	if o.ping > 0 {
		window = time.Duration(o.rounds) * o.ping
		res.PingInterval, res.Rounds = o.ping.String(), o.rounds
	}
	cpu0, err := procstat.CPU(pid)
	if err != nil {
		return nil, err
	}
	time.Sleep(window)
	cpu1, err := procstat.CPU(pid)
	if err != nil {
		return nil, err
	}
	res.IdleCPUPerSec = (cpu1 - cpu0).Seconds() / window.Seconds()
	if o.ping > 0 && res.Open > 0 {
		res.CPUSecondsRound = (cpu1 - cpu0).Seconds() / float64(o.rounds)
		res.UsPerPing = res.CPUSecondsRound * 1e6 / float64(res.Open)
	}
	res.Errors = c.errs.Load()
	if s, ok := c.firstErr.Load().(string); ok {
		res.FirstError = s
	}
	closeAll(conns)
	return res, nil
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

// client opens the idle connections of one mode.
type client struct {
	addr     string
	srcs     int
	mode     string
	next     atomic.Uint32
	errs     atomic.Int64
	firstErr atomic.Value // string
}

var (
	clientMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	handshake  = "GET /ws/ HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	getRequest = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
)

func (c *client) fail(err error) {
	c.errs.Add(1)
	c.firstErr.CompareAndSwap(nil, err.Error())
}

// open makes one idle connection of c's mode.
func (c *client) open() (net.Conn, error) {
	n := c.next.Add(1) % uint32(c.srcs)
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n))}}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(conn, 512)
	switch c.mode {
	case "http-fresh":
	case "http-keepalive":
		if _, err := io.WriteString(conn, getRequest); err != nil {
			return nil, err
		}
		resp, err := wsframe.ReadResponseHead(br)
		if err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
		if resp.Status != 204 || resp.Close {
			return nil, fmt.Errorf("GET / answered %d (close %v); want 204, kept alive", resp.Status, resp.Close)
		}
	case "ws":
		if _, err := io.WriteString(conn, handshake); err != nil {
			return nil, err
		}
		resp, err := wsframe.ReadResponseHead(br)
		if err != nil {
			return nil, fmt.Errorf("reading handshake response: %w", err)
		}
		if resp.Status != 101 {
			return nil, fmt.Errorf("handshake answered %d; want 101", resp.Status)
		}
		msg := make([]byte, 128)
		if _, err := conn.Write(wsframe.AppendFrame(nil, wsframe.OpText, msg, &clientMask)); err != nil {
			return nil, err
		}
		h, err := wsframe.ReadHeader(br)
		if err == nil {
			_, err = br.Discard(int(h.Length))
		}
		if err != nil {
			return nil, fmt.Errorf("reading echo: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown -mode %q", c.mode)
	}
	conn.SetDeadline(time.Time{})
	ok = true
	return conn, nil
}

// openAll opens n connections, parallel at a time; the ones that failed
// are counted and left out.
func (c *client) openAll(n, parallel int) []net.Conn {
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, err := c.open()
			if err != nil {
				c.fail(err)
				return
			}
			conns[i] = conn
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, conn := range conns {
		if conn != nil {
			out = append(out, conn)
		}
	}
	return out
}

func closeAll(conns []net.Conn) {
	for _, conn := range conns {
		conn.Close()
	}
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
