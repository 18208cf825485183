package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// procs are the processes scale started, stopped by PID at the end: by
// stop when run returns, or by the signal handler when scale is
// interrupted. Each child also gets SIGKILL if scale dies without either
// (PR_SET_PDEATHSIG).
type procs struct {
	once  sync.Once
	mu    sync.Mutex
	list  []*exec.Cmd
	pipes []io.Closer // client processes' standard input, closed by stop
	done  bool
}

// hold keeps c open until stop.
func (p *procs) hold(c io.Closer) {
	p.mu.Lock()
	p.pipes = append(p.pipes, c)
	p.mu.Unlock()
}

// start runs argv with its standard output and error in work/name.stderr.
func (p *procs) start(work, name string, argv ...string) (*exec.Cmd, error) {
	f, err := os.Create(filepath.Join(work, name+".stderr"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := p.run(cmd); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	f.Close() // the child has its own copy
	return cmd, nil
}

// run starts cmd and keeps it for stop.
func (p *procs) run(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return fmt.Errorf("stopping")
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.list = append(p.list, cmd)
	return nil
}

// stop sends SIGTERM to every process started, the last started first
// (clients, then proxies, then the backend), and SIGKILL to those still
// running 10 s later. Only its first call does anything.
func (p *procs) stop() { p.once.Do(p.stopAll) }

func (p *procs) stopAll() {
	p.mu.Lock()
	list, pipes := p.list, p.pipes
	p.done = true
	p.mu.Unlock()
	for _, c := range pipes {
		c.Close()
	}
	var wg sync.WaitGroup
	for i := len(list) - 1; i >= 0; i-- {
		cmd := list[i]
		cmd.Process.Signal(syscall.SIGTERM)
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}()
	}
	wg.Wait()
}

// stopOnSignal stops p's processes and exits when scale gets SIGINT or
// SIGTERM, so that an interrupted run leaves nothing behind.
func (p *procs) stopOnSignal(cleanup func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "scale: %v: stopping the processes started\n", s)
		p.stop()
		cleanup()
		os.Exit(1)
	}()
}

// waitOutput waits until the file name in work holds marker: an echo
// process's "ready", a wsgate's "wsgate started" (logged once its listeners
// are open). With several processes sharing a port, a connection to the
// port says only that one of them listens.
func waitOutput(work, name, marker string, limit time.Duration) error {
	path := filepath.Join(work, name+".stderr")
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(marker)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not say %q in %v: %s", name, marker, limit, lastLines(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastLines is the end of a process's output, for an error.
func lastLines(b []byte) string {
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(bytes.TrimSpace(b))
}

// named is a started process and the name of its output file.
type named struct {
	cmd  *exec.Cmd
	name string
}

// echoPings asks each echo process how many Pings it has answered
// (SIGUSR1: it prints "pings N") and returns the sum.
func echoPings(work string, echoes []named) (int64, error) {
	var sum int64
	for _, e := range echoes {
		path := filepath.Join(work, e.name+".stderr")
		b, _ := os.ReadFile(path)
		seen := bytes.Count(b, []byte("pings "))
		if err := e.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			return 0, err
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ = os.ReadFile(path)
			if bytes.Count(b, []byte("pings ")) > seen && bytes.HasSuffix(b, []byte("\n")) {
				break
			}
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("%s did not say its pings", e.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		line := b[bytes.LastIndex(b, []byte("pings "))+len("pings "):]
		line = line[:bytes.IndexByte(line, '\n')]
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", e.name, line, err)
		}
		sum += n
	}
	return sum, nil
}
