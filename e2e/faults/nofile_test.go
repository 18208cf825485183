package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// childEnv names the configuration a re-executed test binary serves as a
// separate wsgate process; childNofile is its RLIMIT_NOFILE.
const (
	childEnv    = "WSGATE_FAULTS_CHILD_CONF"
	childNofile = 64
)

func TestMain(m *testing.M) {
	if conf := os.Getenv(childEnv); conf != "" {
		os.Exit(runChild(conf))
	}
	if bin := os.Getenv(execEnv); bin != "" {
		os.Exit(execLimited(bin))
	}
	// The network poller's own descriptors open at first use: open them
	// before taking the baseline.
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
		}
		l.Close()
	}
	baseG, baseFD := runtime.NumGoroutine(), fdCount()
	code := m.Run()
	removeBin()
	if code == 0 {
		code = checkLeaks(baseG, baseFD)
	}
	os.Exit(code)
}

// checkLeaks runs after every test: with every wsgate and backend shut
// down, goroutines and descriptors must come back to what they were
// before the first test.
func checkLeaks(baseG, baseFD int) int {
	g, fd := 0, 0
	ok := proxytest.Poll(15*time.Second, func() bool {
		// Pooled splice pipes are closed by finalizers.
		runtime.GC()
		g, fd = runtime.NumGoroutine(), fdCount()
		return g <= baseG+2 && fd <= baseFD+2
	})
	if ok {
		return 0
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(os.Stderr, "fd %s -> %s\n", e.Name(), target)
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	fmt.Fprintf(os.Stderr, "leak after all tests: goroutines %d (before %d), fds %d (before %d)\n%s", g, baseG, fd, baseFD, buf[:n])
	return 1
}

// runChild serves conf with RLIMIT_NOFILE lowered to childNofile until its
// standard input closes.
func runChild(conf string) int {
	lim := syscall.Rlimit{Cur: childNofile, Max: childNofile}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setting RLIMIT_NOFILE:", err)
		return 1
	}
	srv, err := server.Start(server.Options{ConfPath: conf, Prefix: filepath.Dir(conf), Version: "test",
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting:", err)
		return 1
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	srv.Stop()
	return 0
}

// cpuTime returns the user+system CPU time of pid in clock ticks.
func cpuTime(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

// TestFileDescriptorExhaustion runs wsgate as a child process with
// RLIMIT_NOFILE 64 and opens WebSocket tunnels (two descriptors each) until
// it runs out. Existing tunnels must keep echoing; a new connection must be
// answered 502 (no descriptor for the upstream), closed, or left waiting in
// the listen queue (accept backs off, as nginx does) - never crash wsgate or
// spin the CPU; and once tunnels close, new ones must work again.
func TestFileDescriptorExhaustion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	dir := t.TempDir()
	g := &gate{t: t, Conf: filepath.Join(dir, "nginx.conf"), Addr: proxytest.FreeAddr(t), access: filepath.Join(dir, "access.log")}
	g.write("", wsLocations(wsb.Addr, rec.Addr))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+g.Conf)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr := &proxytest.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child: got %q, %v; want ready\n%s", line, err, stderr.String())
	}

	// Open tunnels until one cannot be had.
	var open []*wsClient
	refused := 0
	for i := 0; i < childNofile && refused < 2; i++ {
		w, outcome := tryWS(g.Addr, 2*time.Second)
		if w == nil {
			t.Logf("tunnel %d: %s", i+1, outcome)
			refused++
			continue
		}
		if err := w.echoErr(fmt.Sprint("hello ", i)); err != nil {
			t.Fatalf("tunnel %d: %v", i+1, err)
		}
		open = append(open, w)
	}
	t.Logf("%d tunnels open at RLIMIT_NOFILE %d", len(open), childNofile)
	if refused == 0 {
		t.Fatalf("opened %d tunnels; want the descriptor limit to stop some", len(open))
	}
	if len(open) < 10 {
		t.Fatalf("only %d tunnels before the limit; want at least 10", len(open))
	}

	// At the limit: CPU stays low and existing tunnels still echo.
	c0, _ := cpuTime(cmd.Process.Pid)
	time.Sleep(3 * time.Second) // the window the CPU use is measured over
	c1, _ := cpuTime(cmd.Process.Pid)
	t.Logf("child CPU over 3 s at the limit: %d ticks", c1-c0)
	if c1-c0 > 100 { // 1 s of CPU in 3 s at 100 ticks/s
		t.Fatalf("child used %d ticks of CPU in 3 s at the limit; want no busy loop", c1-c0)
	}
	for i, w := range open {
		if err := w.echoErr(fmt.Sprint("still ", i)); err != nil {
			t.Fatalf("existing tunnel %d at the limit: %v", i, err)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("child exited at the limit: %v\n%s", err, stderr.String())
	default:
	}

	// Recovery: close half and open new tunnels.
	half := len(open) / 2
	for _, w := range open[:half] {
		w.c.Close()
	}
	open = open[half:]
	for i := 0; i < half/2; i++ {
		var w *wsClient
		var outcome string
		ok := proxytest.Poll(15*time.Second, func() bool {
			w, outcome = tryWS(g.Addr, 5*time.Second)
			return w != nil
		})
		if !ok {
			t.Fatalf("new tunnel %d after closing %d: %s\n%s", i, half, outcome, lastLines(stderr.String(), 20))
		}
		if err := w.echoErr("recovered"); err != nil {
			t.Fatalf("new tunnel %d after recovery: %v", i, err)
		}
		open = append(open, w)
	}
	for _, w := range open {
		w.c.Close()
	}
}

// tryWS attempts a WebSocket handshake through addr and returns the
// client, or nil and what happened instead.
func tryWS(addr string, timeout time.Duration) (*wsClient, string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "dial: " + err.Error()
	}
	c.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c, "GET /ws/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := proxytest.ReadResponse(br, "GET")
	if err != nil {
		c.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, "no answer (queued)"
		}
		return nil, "closed: " + err.Error()
	}
	if resp.Status != 101 {
		c.Close()
		return nil, fmt.Sprintf("status %d", resp.Status)
	}
	c.SetDeadline(time.Time{})
	return &wsClient{c: c, br: br}, ""
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
