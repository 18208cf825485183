package difftest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Target is a proxy under test.
type Target interface {
	// Name identifies the target in reports and in expect-diff sections.
	Name() string
	// Start runs the target on the configuration file at confPath and
	// returns once every address the file listens on accepts connections.
	// addr is the first of them. stop ends the target and everything it
	// started; it is also registered with t.Cleanup. A target that cannot
	// serve the configuration calls t.Skip or t.Fatal.
	Start(t testing.TB, confPath string) (addr string, stop func())
}

// ConfigTester is a target that can test a configuration without serving
// it, as "nginx -t" does. ok is false when the target rejects the file;
// out is what it printed.
type ConfigTester interface {
	TestConfig(t testing.TB, confPath string) (ok bool, out string)
}

// startTimeout bounds how long a target may take to listen.
const startTimeout = 15 * time.Second

var listenRE = regexp.MustCompile(`(?:^|[\s{;])listen\s+([0-9.]+:[0-9]+|\[[0-9a-fA-F:]+\]:[0-9]+)`)

// ListenAddrs returns the address of every "listen IP:PORT" line of conf,
// in order, without duplicates.
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

// process is a child started by a target, with its stderr kept.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error
	once   sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProcess(name string, args ...string) (*process, error) {
	p := &process{cmd: exec.Command(name, args...), stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM (nginx and wsgate: fast shutdown) to the process
// started here, by its PID, and SIGKILL if it has not exited in 5 s.
func (p *process) stop() {
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

// waitListening waits until every address accepts a connection. It
// returns an error when the process exits first or the bound passes.
func (p *process) waitListening(addrs []string) error {
	deadline := time.Now().Add(startTimeout)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-p.exited:
				return fmt.Errorf("exited before listening on %s (%v)", a, p.err)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not listening on %s after %v", a, startTimeout)
			}
		}
	}
	return nil
}

// NginxTarget runs real nginx in the foreground as one process
// (master_process off), with its own prefix directory, the error log on
// stderr and no access log.
type NginxTarget struct {
	// Bin is the nginx binary; "" means "nginx" from PATH.
	Bin string
	// Label is the name reported; "" means "nginx".
	Label string
}

// Name implements Target.
func (n NginxTarget) Name() string {
	if n.Label != "" {
		return n.Label
	}
	return "nginx"
}

// nginxHTTPPreamble holds what nginx needs to run unprivileged from a
// private prefix: Debian's build puts temp paths and the access log under
// /var. Inserted right after "http {".
const nginxHTTPPreamble = `    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
`

// Start implements Target.
func (n NginxTarget) Start(t testing.TB, confPath string) (string, func()) {
	t.Helper()
	bin := n.Bin
	if bin == "" {
		bin = "nginx"
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Skipf("nginx not installed: %v", err)
	}
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	prefix := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	text := string(conf)
	i := strings.Index(text, "http {\n")
	if i < 0 {
		t.Fatalf("config %s has no \"http {\" line", confPath)
	}
	i += len("http {\n")
	text = text[:i] + fmt.Sprintf(nginxHTTPPreamble, prefix) + text[i:]
	own := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(own, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	addrs := ListenAddrs(conf)
	if len(addrs) == 0 {
		t.Fatalf("config %s listens on no IP:PORT", confPath)
	}
	globals := fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log stderr;", prefix)
	p, err := startProcess(bin, "-p", prefix+"/", "-c", own, "-e", "stderr", "-g", globals)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	if err := p.waitListening(addrs); err != nil {
		p.stop()
		t.Fatalf("%s: %v\n%s", n.Name(), err, p.stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s error log:\n%s", n.Name(), p.stderr.String())
		}
	})
	return addrs[0], p.stop
}

// WsgateTarget runs the wsgate binary as "wsgate -c CONF -p PREFIX".
type WsgateTarget struct {
	Bin string // path to the wsgate binary
}

// Name implements Target.
func (WsgateTarget) Name() string { return "wsgate" }

// Start implements Target. A configuration nginx serves and wsgate does
// not (wsgate exits or does not listen) fails the test.
func (w WsgateTarget) Start(t testing.TB, confPath string) (string, func()) {
	t.Helper()
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	addrs := ListenAddrs(conf)
	if len(addrs) == 0 {
		t.Fatalf("config %s listens on no IP:PORT", confPath)
	}
	prefix := t.TempDir()
	p, err := startProcess(w.Bin, "-c", confPath, "-p", prefix+"/")
	if err != nil {
		t.Fatalf("wsgate cannot run: %v", err)
	}
	t.Cleanup(p.stop)
	if err := p.waitListening(addrs); err != nil {
		p.stop()
		t.Fatalf("wsgate cannot serve this configuration: %v\n%s", err, p.stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wsgate output:\n%s", p.stderr.String())
		}
	})
	return addrs[0], p.stop
}

// TestConfig implements ConfigTester: "wsgate -t -c CONF -p PREFIX".
func (w WsgateTarget) TestConfig(t testing.TB, confPath string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, w.Bin, "-t", "-c", confPath, "-p", t.TempDir()+"/").CombinedOutput()
	return err == nil, string(out)
}

var (
	_ ConfigTester = WsgateTarget{}
	_ Target       = NginxTarget{}
	_ Target       = WsgateTarget{}
)
