package difftest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"wsgate/internal/proxytest"
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

// NginxTarget runs real nginx in the foreground as one process
// (proxytest.StartNginx: master_process off, its own prefix directory, the
// error log on stderr and no access log).
type NginxTarget struct {
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

// Start implements Target.
func (n NginxTarget) Start(t testing.TB, confPath string) (string, func()) {
	t.Helper()
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	ngx := proxytest.StartNginx(t, string(conf))
	return ngx.Addr, ngx.Stop
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
	addrs := proxytest.ListenAddrs(conf)
	if len(addrs) == 0 {
		t.Fatalf("config %s listens on no IP:PORT", confPath)
	}
	p := proxytest.StartProcess(t, w.Bin, "-c", confPath, "-p", t.TempDir()+"/")
	if err := p.WaitListening(addrs...); err != nil {
		p.Stop()
		t.Fatalf("wsgate cannot serve this configuration: %v\n%s", err, p.Output())
	}
	return addrs[0], p.Stop
}

// TestConfig implements ConfigTester: "wsgate -t -c CONF -p PREFIX".
func (w WsgateTarget) TestConfig(t testing.TB, confPath string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), proxytest.StartTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, w.Bin, "-t", "-c", confPath, "-p", t.TempDir()+"/").CombinedOutput()
	return err == nil, string(out)
}

var (
	_ ConfigTester = WsgateTarget{}
	_ Target       = NginxTarget{}
	_ Target       = WsgateTarget{}
)
