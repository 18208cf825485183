package faults_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// The cases in this file run the real wsgate binary as a child process,
// built once per run (or the one WSGATE_BIN names), with RLIMIT_DATA
// lowered to childData: a child that reads without end (a regression)
// dies of it within a second instead of taking the machine's memory.
const (
	binEnv    = "WSGATE_BIN"
	execEnv   = "WSGATE_FAULTS_EXEC" // set in the child: exec this binary under childData
	childData = 1 << 30
)

var (
	binOnce sync.Once
	binPath string
	binDir  string
	binErr  error
	binSkip string
)

// wsgateBin returns the path of the wsgate binary, built at the first
// call for every case of the run that needs it.
func wsgateBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts the wsgate binary")
	}
	binOnce.Do(func() {
		if p := os.Getenv(binEnv); p != "" {
			binPath = p
			return
		}
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			if goTool, err = exec.LookPath("go"); err != nil {
				binSkip = fmt.Sprintf("no go command to build wsgate: %v", err)
				return
			}
		}
		if binDir, binErr = os.MkdirTemp("", "wsgate-faults-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsgate")
		out, err := exec.Command(goTool, "build", "-o", binPath, "wsgate/cmd/wsgate").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("building wsgate: %v\n%s", err, out)
		}
	})
	if binSkip != "" {
		t.Skip(binSkip)
	}
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// removeBin removes a binary wsgateBin built.
func removeBin() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// execLimited is the child side: it lowers RLIMIT_DATA and becomes the
// binary at path with this process's arguments.
func execLimited(path string) int {
	lim := syscall.Rlimit{Cur: childData, Max: childData}
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setting RLIMIT_DATA:", err)
		return 1
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, execEnv+"=") {
			env = append(env, e)
		}
	}
	err := syscall.Exec(path, append([]string{path}, os.Args[1:]...), env)
	fmt.Fprintln(os.Stderr, "exec:", err)
	return 1
}

// proc is a running wsgate binary.
type proc struct {
	*proxytest.Process
	t *testing.T
}

// wsgateCmd returns the command that runs the wsgate binary with args.
func wsgateCmd(t *testing.T, args ...string) *exec.Cmd {
	bin := wsgateBin(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), execEnv+"="+bin)
	return cmd
}

// startProc starts wsgate serving conf, with env added to its
// environment, and waits until addr accepts.
func startProc(t *testing.T, conf, addr string, env ...string) *proc {
	t.Helper()
	cmd := wsgateCmd(t, "-c", conf)
	cmd.Env = append(cmd.Env, env...)
	p := &proc{Process: proxytest.StartCmd(t, cmd), t: t}
	if err := p.WaitListening(addr); err != nil {
		t.Fatalf("wsgate: %v\n%s", err, p.Output())
	}
	return p
}

// alive fails the test when the process has exited.
func (p *proc) alive() {
	p.t.Helper()
	select {
	case <-p.Exited():
		p.t.Fatalf("wsgate exited: %v\n%s", p.Err(), lastLines(p.Output(), 20))
	default:
	}
}

// epollSets counts the epoll descriptors of process pid.
func epollSets(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("listing descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, _ := os.Readlink(filepath.Join(dir, e.Name())); target == "anon_inode:[eventpoll]" {
			n++
		}
	}
	return n
}

// get sends a GET on a new connection to addr and returns the status.
func get(addr, path string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", path)
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		return 0, err
	}
	return r.Status, nil
}

// TestEpollSetsAfterBursts sends bursts of concurrent plain requests
// through a wsgate process to a backend that answers after 100 ms (each
// upstream connection is one-shot and waits in its connection worker's
// epoll set), then counts the process's anon_inode:[eventpoll]
// descriptors: once the workers have idled out they must be back at what
// the process held before the first burst. A set that is not closed is
// freed only by a finalizer after a collection: the bursts are small
// enough that neither the collector's pacing nor wsgate's trimmer runs
// one (as measured), so that no collection hides a leak; the proxy
// package's test of the same property turns the collector off.
func TestEpollSetsAfterBursts(t *testing.T) {
	be := proxytest.NewSlow(t, 100*time.Millisecond, "")
	dir := t.TempDir()
	addr := proxytest.FreeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	text := confText(dir, addr, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, conf, addr)
	pid := p.Pid()
	// The process's fixed epoll sets (Go's poller, the event loops of
	// internal/netpoll, made once when serving starts) may still be
	// coming up when the port first answers: count after one request.
	if st, err := get(addr, "/"); err != nil || st != 200 {
		t.Fatalf("first request: status %d, %v; want 200", st, err)
	}
	base := epollSets(t, pid)
	const bursts, clients = 3, 100
	for burst := range bursts {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := get(addr, "/")
				if err == nil && st != 200 {
					err = fmt.Errorf("got status %d; want 200", st)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("burst %d: %v", burst+1, err)
		}
		t.Logf("after burst %d: %d epoll sets (%d before)", burst+1, epollSets(t, pid), base)
	}
	n := epollSets(t, pid)
	proxytest.Poll(15*time.Second, func() bool {
		n = epollSets(t, pid)
		return n <= base
	})
	if n > base {
		t.Fatalf("after %d bursts of %d requests: %d epoll sets; want at most %d, as before", bursts, clients, n, base)
	}
	p.alive()
}

// TestConfigNotRegularFile: -t and a start with a configuration that
// includes /dev/zero, names a named pipe or is itself /dev/zero fail at
// once with the file, its position and what to do, and no crash.
func TestConfigNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	addr := proxytest.FreeAddr(t)
	zero := write("zero.conf", "events {}\nhttp {\n    include /dev/zero;\n    server { listen "+addr+"; location / { return 200; } }\n}\n")
	pipe := write("pipe-include.conf", "events {}\nhttp {\n    include pipe.conf;\n}\n")
	tests := []struct {
		desc string
		args []string
		want string
	}{
		{"test include /dev/zero", []string{"-t", "-c", zero}, zero + `:3:5: "/dev/zero" is a character device, not a regular file`},
		{"start include /dev/zero", []string{"-c", zero}, zero + `:3:5: "/dev/zero" is a character device, not a regular file`},
		{"test include a named pipe", []string{"-t", "-c", pipe}, `pipe.conf" is a named pipe, not a regular file`},
		{"test -c /dev/zero", []string{"-t", "-c", "/dev/zero"}, `"/dev/zero" is a character device, not a regular file`},
		{"start -c a named pipe", []string{"-c", fifo}, `pipe.conf" is a named pipe, not a regular file`},
		{"test -c a directory", []string{"-t", "-c", dir}, `is a directory, not a regular file`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := proxytest.StartCmd(t, wsgateCmd(t, tc.args...))
			select {
			case <-p.Exited():
			case <-time.After(30 * time.Second):
				t.Fatalf("wsgate %s still running after 30 s\n%s", strings.Join(tc.args, " "), p.Output())
			}
			ee, ok := p.Err().(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("got %v; want exit status 1\n%s", p.Err(), p.Output())
			}
			if got := p.Output(); !strings.Contains(got, tc.want) || strings.Contains(got, "fatal error") {
				t.Fatalf("output:\n%s\nwant it to contain %q and no fatal error", got, tc.want)
			}
		})
	}
}

// TestReloadNotRegularFile: reloads (SIGHUP) whose configuration includes
// /dev/zero or a named pipe, is itself a link to /dev/zero, or names
// /dev/zero as a certificate fail with the error logged, and the running
// process keeps serving.
func TestReloadNotRegularFile(t *testing.T) {
	rec := proxytest.NewRecording(t, "")
	dir := t.TempDir()
	addr := proxytest.FreeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	good := confText(dir, addr, "", fmt.Sprintf("location / { proxy_pass http://%s; }", rec.Addr))
	if err := os.WriteFile(conf, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.conf"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	p := startProc(t, conf, addr)
	if st, err := get(addr, "/"); err != nil || st != 200 {
		t.Fatalf("before the reloads: got %d, %v; want 200", st, err)
	}
	tlsAddr := proxytest.FreeAddr(t)
	tests := []struct {
		desc  string
		write func() error
		want  string
	}{
		{"include /dev/zero", func() error {
			return os.WriteFile(conf, []byte(strings.Replace(good, "http {", "http {\n    include /dev/zero;", 1)), 0o644)
		}, `"/dev/zero" is a character device`},
		{"include a named pipe", func() error {
			return os.WriteFile(conf, []byte(strings.Replace(good, "http {", "http {\n    include pipe.conf;", 1)), 0o644)
		}, `pipe.conf" is a named pipe`},
		{"certificate /dev/zero", func() error {
			srv := fmt.Sprintf("    server { listen %s ssl; ssl_certificate /dev/zero; ssl_certificate_key /dev/zero; location / { return 200; } }\n}\n", tlsAddr)
			return os.WriteFile(conf, []byte(strings.TrimSuffix(good, "}\n")+srv), 0o644)
		}, `loading certificate`},
		{"main file a link to /dev/zero", func() error {
			tmp := conf + ".new"
			os.Remove(tmp)
			if err := os.Symlink("/dev/zero", tmp); err != nil {
				return err
			}
			return os.Rename(tmp, conf)
		}, `nginx.conf" is a character device`},
	}
	for i, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			os.Remove(conf)
			if err := tc.write(); err != nil {
				t.Fatal(err)
			}
			if err := p.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if !proxytest.Poll(30*time.Second, func() bool {
				return strings.Count(p.Output(), "reload failed") > i
			}) {
				p.alive()
				t.Fatalf("no failed reload logged\n%s", lastLines(p.Output(), 20))
			}
			if !strings.Contains(p.Output(), tc.want) {
				t.Errorf("log does not contain %s:\n%s", tc.want, lastLines(p.Output(), 10))
			}
			p.alive()
			for range 3 {
				if st, err := get(addr, "/"); err != nil || st != 200 {
					t.Fatalf("after the failed reload: got %d, %v; want 200", st, err)
				}
			}
		})
	}
}
