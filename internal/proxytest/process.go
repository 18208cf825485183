package proxytest

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long a program started by a test (nginx, the
// wsgate binary) may take to listen on every address of its
// configuration.
const StartTimeout = 15 * time.Second

// Process is a program a test started, with its stdout and stderr kept
// (the first MiB) for failure messages.
type Process struct {
	cmd    *exec.Cmd
	output SyncBuffer
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
	once   sync.Once
}

// StartProcess runs name with args. The process is stopped (see Stop) by
// t.Cleanup, and its output is logged when the test failed.
func StartProcess(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	return StartCmd(t, exec.Command(name, args...))
}

// StartCmd is StartProcess for a command the test prepared (its
// environment, its directory). Its stdout and stderr, where cmd leaves
// them nil, go to Output.
func StartCmd(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	name := cmd.Path
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	p.output.Limit = 1 << 20
	if p.cmd.Stdout == nil {
		p.cmd.Stdout = &p.output
	}
	if p.cmd.Stderr == nil {
		p.cmd.Stderr = &p.output
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output())
		}
	})
	return p
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output returns what the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.output.String() }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended, as exec.Cmd.Wait reports it (nil for exit
// status 0). It is valid once Exited is closed.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// Signal sends sig to the process (by its PID, nothing else).
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM (nginx's and wsgate's fast shutdown) and SIGKILL if
// the process has not exited within 5 s, and waits for it to exit. It may
// be called more than once.
func (p *Process) Stop() {
	p.once.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// WaitListening waits until every address accepts a TCP connection. It
// returns an error when the process exits first or StartTimeout passes.
func (p *Process) WaitListening(addrs ...string) error {
	deadline := time.Now().Add(StartTimeout)
	for _, a := range addrs {
		var last error
		up := Poll(time.Until(deadline), func() bool {
			select {
			case <-p.exited:
				return true
			default:
			}
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				last = err
				return false
			}
			c.Close()
			return true
		})
		select {
		case <-p.exited:
			return fmt.Errorf("exited before listening on %s (%v)", a, p.err)
		default:
		}
		if !up {
			return fmt.Errorf("not listening on %s after %v: %v", a, StartTimeout, last)
		}
	}
	return nil
}

var listenRE = regexp.MustCompile(`(?:^|[\s{;])listen\s+([0-9.]+:[0-9]+|\[[0-9a-fA-F:]+\]:[0-9]+)`)

// ListenAddrs returns the address of every "listen IP:PORT" line of an
// nginx configuration, in order, without duplicates.
func ListenAddrs(conf []byte) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range listenRE.FindAllSubmatch(conf, -1) {
		a := string(m[1])
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// SyncBuffer collects what several goroutines write (a child's output,
// a logger's lines) for a test to read. The zero value is ready to use
// and keeps everything.
type SyncBuffer struct {
	// Limit, when not 0, is how many bytes are kept: the rest is dropped,
	// so that a chatty program cannot grow a test without bound.
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer; it never fails.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Limit == 0 || s.b.Len() < s.Limit {
		s.b.Write(p)
	}
	return len(p), nil
}

// String returns everything kept so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
