// Command soak runs wsgate for a while under mixed HTTP and WebSocket
// traffic, reloading it every few seconds and restarting some of its
// backends, and reports what was lost:
//
//	go run ./bench/soak -duration 10m
//
// wsgate runs as a child process (this program re-executed with -serve),
// so that its goroutines, descriptors and resident memory are its own. The
// child serves four routes:
//
//	/ws/     WebSocket echo backend that never restarts
//	/wsr/    WebSocket echo backend restarted every -restart-every
//	/http/   HTTP backend that never restarts
//	/httpr/  HTTP backend restarted every -restart-every
//	/extra/  WebSocket route that every other reload removes (ws_drain_window 0)
//
// Tunnels on /wsr/ and /extra/ are closed by design (backend restart: Close
// 1014; route removed by reload: Close 1012) and their clients reconnect.
// Tunnels on /ws/ and requests to /http/ must never fail: every message sent
// on them must come back. The exit status is 1 when one did not.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wsgate/bench/internal/procstat"
	"wsgate/internal/server"
)

// options are the flags.
type options struct {
	duration, reloadEvery, restartEvery, interval time.Duration
	wsClients, httpClients                        int
	serve                                         string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 2*time.Minute, "how long to run the traffic")
	flag.DurationVar(&o.reloadEvery, "reload-every", 10*time.Second, "time between reloads")
	flag.DurationVar(&o.restartEvery, "restart-every", 30*time.Second, "time between restarts of the /wsr/ and /httpr/ backends")
	flag.DurationVar(&o.interval, "interval", 50*time.Millisecond, "pause between two messages of one client")
	flag.IntVar(&o.wsClients, "ws", 64, "WebSocket clients on /ws/ (plus a quarter as many each on /wsr/ and /extra/)")
	flag.IntVar(&o.httpClients, "http", 8, "HTTP clients (half on /http/, half on /httpr/)")
	flag.StringVar(&o.serve, "serve", "", "serve this configuration as the wsgate child (internal)")
	flag.Parse()
	if o.serve != "" {
		os.Exit(serveChild(o.serve))
	}
	os.Exit(run(o))
}

// serveChild is the wsgate process: it serves conf and obeys one command a
// line on standard input ("reload", "stats", "dump": goroutine stacks to
// standard error), answering one line each on
// standard output, until standard input closes.
func serveChild(conf string) int {
	logf, err := os.Create(filepath.Join(filepath.Dir(conf), "error.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer logf.Close()
	srv, err := server.Start(server.Options{ConfPath: conf, Prefix: filepath.Dir(conf), Version: "soak",
		Log: slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting wsgate:", err)
		return 1
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "reload":
			if err := srv.Reload(); err != nil {
				fmt.Printf("err %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
				continue
			}
			fmt.Println("ok")
		case "dump":
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			os.Stderr.Write(buf[:n])
			fmt.Println("ok")
		case "stats":
			fmt.Printf("goroutines=%d tunnels=%d\n", runtime.NumGoroutine(), srv.Tunnels().Len())
		default:
			fmt.Println("err unknown command")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	return 0
}

// child is the running wsgate process seen from the driver.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	mu  sync.Mutex
}

func (c *child) ask(cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return "", err
	}
	if !c.out.Scan() {
		return "", fmt.Errorf("child gone: %v", c.out.Err())
	}
	return c.out.Text(), nil
}

// sample is the child's state at one moment.
type sample struct {
	goroutines, tunnels, fds int
	rssKiB                   int64
}

func (c *child) sample() (sample, error) {
	var s sample
	line, err := c.ask("stats")
	if err != nil {
		return s, err
	}
	if _, err := fmt.Sscanf(line, "goroutines=%d tunnels=%d", &s.goroutines, &s.tunnels); err != nil {
		return s, fmt.Errorf("parsing stats %q: %w", line, err)
	}
	pid := c.cmd.Process.Pid
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(ents)
	s.rssKiB, err = procstat.RSSKiB(pid)
	return s, err
}

func (s sample) String() string {
	return fmt.Sprintf("goroutines %d, tunnels %d, fds %d, RSS %.1f MiB", s.goroutines, s.tunnels, s.fds, float64(s.rssKiB)/1024)
}

// config renders the configuration of generation gen.
func config(addr string, b *backends, gen int) string {
	ws := func(path, up string, extra string) string {
		return fmt.Sprintf(`
        location %s {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 300s;%s
        }`, path, up, extra)
	}
	s := "events {}\nhttp {\n    access_log off;\n    server {\n        listen " + addr + ";"
	s += ws("/ws/", b.wsStable.addr, "")
	s += ws("/wsr/", b.wsRestart.addr, "")
	s += fmt.Sprintf("\n        location /http/ { proxy_pass http://%s; }", b.httpStable.addr)
	s += fmt.Sprintf("\n        location /httpr/ { proxy_pass http://%s; }", b.httpRestart.addr)
	if gen%2 == 0 {
		s += ws("/extra/", b.wsStable.addr, fmt.Sprintf("\n            proxy_set_header X-Generation %d;\n            ws_drain_window 0;", gen))
	}
	return s + "\n    }\n}\n"
}

func run(o options) int {
	dir, err := os.MkdirTemp("", "wsgate-soak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	b, err := startBackends()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting backends:", err)
		return 1
	}
	defer b.stop()

	addr, err := freeAddr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	conf := filepath.Join(dir, "nginx.conf")
	gen := 0
	if err := os.WriteFile(conf, []byte(config(addr, b, gen)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command(self, "-serve", conf)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "starting wsgate:", err)
		return 1
	}
	ch := &child{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	defer func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	if err := waitListening(addr, 10*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	idle, err := ch.sample()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// Traffic.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	st := &stats{}
	routes := []struct {
		path   string
		n      int
		stable bool
	}{
		{"/ws/", o.wsClients, true},
		{"/wsr/", max(1, o.wsClients/4), false},
		{"/extra/", max(1, o.wsClients/4), false},
	}
	for _, r := range routes {
		for i := 0; i < r.n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wsClient(ctx, addr, r.path, i, r.stable, o.interval, st)
			}()
		}
	}
	for i := 0; i < o.httpClients; i++ {
		wg.Add(1)
		path, stable := "/http/", true
		if i%2 == 1 {
			path, stable = "/httpr/", false
		}
		go func() {
			defer wg.Done()
			httpClient(ctx, addr, path, stable, o.interval, st)
		}()
	}
	time.Sleep(2 * time.Second)
	start, err := ch.sample()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Printf("soak: %v, reload every %v, backend restart every %v, %d+%d+%d WebSocket and %d HTTP clients\n",
		o.duration, o.reloadEvery, o.restartEvery, routes[0].n, routes[1].n, routes[2].n, o.httpClients)
	fmt.Printf("idle:  %v\nstart: %v\n", idle, start)

	reloads, reloadErrs, restarts := 0, 0, 0
	peak := start
	tick := time.NewTicker(time.Second)
	end := time.Now().Add(o.duration)
	nextReload := time.Now().Add(o.reloadEvery)
	nextRestart := time.Now().Add(o.restartEvery)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		if !now.Before(nextReload) {
			nextReload = now.Add(o.reloadEvery)
			gen++
			os.WriteFile(conf, []byte(config(addr, b, gen)), 0o644)
			reloads++
			if r, err := ch.ask("reload"); err != nil || r != "ok" {
				reloadErrs++
				fmt.Printf("reload %d: %q %v\n", gen, r, err)
			}
		}
		if !now.Before(nextRestart) {
			nextRestart = now.Add(o.restartEvery)
			restarts++
			if err := b.restart(500 * time.Millisecond); err != nil {
				fmt.Printf("restarting backends: %v\n", err)
			}
		}
		if now.Second()%5 == 0 {
			if s, err := ch.sample(); err == nil && s.rssKiB > peak.rssKiB {
				peak = s
			}
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	// A WebSocket dial that got an ordinary response (a 502 while /wsr/'s
	// backend restarts) leaves its connection idle in the default
	// transport, held open by this side.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()

	// Let the child settle: closing handshakes, idle keepalive connections.
	var final sample
	stopped := time.Now()
	deadline := stopped.Add(20 * time.Second)
	for {
		final, err = ch.sample()
		if err != nil || (final.tunnels == 0 && final.goroutines <= idle.goroutines && final.fds <= idle.fds) || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Printf("peak:  RSS %.1f MiB\nend:   %v (%.1f s after the traffic stopped)\n", float64(peak.rssKiB)/1024, final, time.Since(stopped).Seconds())
	fmt.Printf("reloads %d (%d failed), backend restarts %d\n", reloads, reloadErrs, restarts)
	ok := st.report(os.Stdout)
	if lines, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
		fmt.Printf("wsgate warnings and errors logged: %d lines\n", strings.Count(string(lines), "\n"))
	}
	if reloadErrs > 0 || final.tunnels != 0 {
		ok = false
	}
	if final.goroutines > idle.goroutines || final.fds > idle.fds {
		fmt.Println("wsgate's goroutines at the end (on standard error):")
		ch.ask("dump")
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)); err == nil {
			for _, e := range ents {
				target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, e.Name()))
				fmt.Fprintf(os.Stderr, "fd %s -> %s\n", e.Name(), target)
			}
		}
	}
	if final.goroutines > idle.goroutines+2 || final.fds > idle.fds+2 {
		fmt.Println("wsgate did not return to its idle goroutines and descriptors")
		ok = false
	}
	if !ok {
		fmt.Println("FAIL")
		return 1
	}
	fmt.Println("PASS")
	return 0
}

// stats are the traffic counters.
type stats struct {
	mu sync.Mutex
	// Stable routes: every message must come back.
	wsSent, wsRecv, wsUnexpected atomic.Int64
	// By-design routes.
	wsDesignSent, wsDesignRecv, wsDesignClosed, wsDesignLostInFlight atomic.Int64
	closeCodes                                                       map[string]int
	httpOK, httpFail, httpDesignOK, httpDesignFail                   atomic.Int64
	firstErrs                                                        []string
}

func (s *stats) note(what string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.firstErrs) < 10 {
		s.firstErrs = append(s.firstErrs, fmt.Sprintf("%s: %v", what, err))
	}
}

func (s *stats) closed(route string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeCodes == nil {
		s.closeCodes = map[string]int{}
	}
	code := websocket.CloseStatus(err)
	key := fmt.Sprintf("%s %d", route, code)
	if code == -1 {
		key = route + " no Close"
	}
	s.closeCodes[key]++
}

func (s *stats) report(w io.Writer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "stable WebSocket (/ws/): sent %d, received %d, unexpected closes %d\n", s.wsSent.Load(), s.wsRecv.Load(), s.wsUnexpected.Load())
	fmt.Fprintf(w, "closed-by-design WebSocket (/wsr/, /extra/): sent %d, received %d, tunnels closed %d (%d messages in flight at the close)\n",
		s.wsDesignSent.Load(), s.wsDesignRecv.Load(), s.wsDesignClosed.Load(), s.wsDesignLostInFlight.Load())
	for k, v := range s.closeCodes {
		fmt.Fprintf(w, "  close %s: %d\n", k, v)
	}
	fmt.Fprintf(w, "stable HTTP (/http/): ok %d, failed %d\n", s.httpOK.Load(), s.httpFail.Load())
	fmt.Fprintf(w, "restarting HTTP (/httpr/): ok %d, failed %d (while its backend was down)\n", s.httpDesignOK.Load(), s.httpDesignFail.Load())
	for _, e := range s.firstErrs {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	return s.wsSent.Load() == s.wsRecv.Load() && s.wsUnexpected.Load() == 0 && s.httpFail.Load() == 0 && s.wsSent.Load() > 0
}

// wsClient keeps one WebSocket client busy on path until ctx ends: a
// message, its echo, a pause. A closed tunnel is reconnected.
func wsClient(ctx context.Context, addr, path string, id int, stable bool, interval time.Duration, st *stats) {
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, _, err := websocket.Dial(dctx, "ws://"+addr+path+fmt.Sprint(id), nil)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if stable {
				st.wsUnexpected.Add(1)
				st.note("dialing "+path, err)
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		err = echoLoop(ctx, c, id, stable, interval, st)
		if ctx.Err() != nil && err == nil {
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		c.CloseNow()
		if stable {
			st.wsUnexpected.Add(1)
			st.note("tunnel on "+path, err)
		} else {
			st.wsDesignClosed.Add(1)
			st.closed(path, err)
		}
	}
}

// echoLoop sends and checks messages until ctx ends (nil) or the tunnel
// fails (its error).
func echoLoop(ctx context.Context, c *websocket.Conn, id int, stable bool, interval time.Duration, st *stats) error {
	sent, recv := &st.wsSent, &st.wsRecv
	if !stable {
		sent, recv = &st.wsDesignSent, &st.wsDesignRecv
	}
	for n := 0; ctx.Err() == nil; n++ {
		msg := fmt.Sprintf("client %d message %d", id, n)
		// Each exchange gets its own bound, not ctx: ending the run must
		// not cut a message in flight.
		ectx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := c.Write(ectx, websocket.MessageText, []byte(msg))
		if err != nil {
			cancel()
			return err
		}
		sent.Add(1)
		_, p, err := c.Read(ectx)
		cancel()
		if err != nil {
			if !stable {
				st.wsDesignLostInFlight.Add(1)
			}
			return err
		}
		if string(p) != msg {
			return fmt.Errorf("got %q; want %q", p, msg)
		}
		recv.Add(1)
		sleep(ctx, interval)
	}
	return nil
}

// httpClient sends GETs to path until ctx ends.
func httpClient(ctx context.Context, addr, path string, stable bool, interval time.Duration, st *stats) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for n := 0; ctx.Err() == nil; n++ {
		if n%20 == 0 {
			tr.CloseIdleConnections() // a new connection now and then
		}
		resp, err := cl.Get(fmt.Sprintf("http://%s%s%d", addr, path, n))
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		switch {
		case err == nil && stable:
			st.httpOK.Add(1)
		case err == nil:
			st.httpDesignOK.Add(1)
		case stable:
			st.httpFail.Add(1)
			st.note("GET "+path, err)
		default:
			st.httpDesignFail.Add(1)
		}
		sleep(ctx, interval)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wsgate not listening on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
