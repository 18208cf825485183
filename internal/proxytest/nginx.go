package proxytest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// NginxPath returns the real nginx binary, the reference of differential
// tests: "nginx" from PATH, else /usr/sbin/nginx (Debian's place, not in
// a non-root PATH), else "" when nginx is not installed.
func NginxPath() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// NeedNginx returns NginxPath, or skips the test when nginx is not
// installed.
func NeedNginx(t testing.TB) string {
	t.Helper()
	p := NginxPath()
	if p == "" {
		t.Skip("nginx is not installed")
	}
	return p
}

// Nginx is a real nginx a test started.
type Nginx struct {
	// Addr is the first "listen IP:PORT" address of the configuration;
	// Addrs all of them, in the order of the file.
	Addr  string
	Addrs []string
	// Prefix is nginx's prefix directory (-p): it holds nginx.conf as
	// run, the pid file and the temp paths. The test removes it.
	Prefix string

	*Process
}

// nginxHTTPPreamble is what nginx needs to run unprivileged from a private
// prefix: Debian's build puts the temp paths and the access log under
// /var. It is inserted at the top of the http block, so a test that wants
// an access log declares one in a server or location block.
const nginxHTTPPreamble = `
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
`

var httpBlockRE = regexp.MustCompile(`(?m)^\s*http\s*\{`)

// StartNginx runs real nginx in the foreground, as one process, on conf,
// the text of a whole configuration file, and returns once every address
// of its "listen IP:PORT" lines accepts connections (pick them with
// FreeAddr). It skips the test when nginx is not installed and fails it
// when nginx exits or does not listen within StartTimeout; nginx's error
// log goes to its output (see Process), which is logged when the test
// fails. The process is stopped by t.Cleanup.
//
// conf must have an http block and must not set pid, error_log or daemon
// in the main context: the harness gives nginx "daemon off; master_process
// off; pid PREFIX/nginx.pid; error_log stderr;" with -g, and puts
// "access_log off;" and temp paths under the prefix at the top of the
// http block.
func StartNginx(t testing.TB, conf string) *Nginx {
	t.Helper()
	bin := NeedNginx(t)
	loc := httpBlockRE.FindStringIndex(conf)
	if loc == nil {
		t.Fatalf("nginx configuration has no http block:\n%s", conf)
	}
	addrs := ListenAddrs([]byte(conf))
	if len(addrs) == 0 {
		t.Fatalf("nginx configuration listens on no IP:PORT:\n%s", conf)
	}
	prefix := t.TempDir()
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := conf[:loc[1]] + fmt.Sprintf(nginxHTTPPreamble, prefix) + conf[loc[1]:]
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	globals := fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log stderr;", prefix)
	p := StartProcess(t, bin, "-p", prefix+"/", "-c", path, "-e", "stderr", "-g", globals)
	if err := p.WaitListening(addrs...); err != nil {
		p.Stop()
		t.Fatalf("nginx: %v\n%s\nconfiguration:\n%s", err, p.Output(), text)
	}
	return &Nginx{Addr: addrs[0], Addrs: addrs, Prefix: prefix, Process: p}
}

// NginxHTTP is a whole configuration file around an http block's contents:
// "events {}" and "http { httpBlock }".
func NginxHTTP(httpBlock string) string {
	return "events {}\nhttp {\n" + httpBlock + "\n}\n"
}

// NginxTest runs "nginx -t" with bin (see NginxPath) on the configuration
// file at confPath, with its directory as the prefix, the pid file there
// and the error log on stderr, and reports whether nginx accepted the file
// and what it printed. File names in nginx's messages are confPath as
// given.
func NginxTest(t testing.TB, bin, confPath string) (ok bool, out string) {
	t.Helper()
	dir := filepath.Dir(confPath)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	b, err := exec.CommandContext(ctx, bin, "-t", "-p", dir+"/", "-c", confPath,
		"-g", "pid "+filepath.Join(dir, "p")+"; error_log stderr;").CombinedOutput()
	return err == nil, string(b)
}

// StartNginxFile runs real nginx in the foreground, as one process, on
// the configuration file at confPath as it is (its includes, temp paths
// and logs already set up), with the file's directory as the prefix, and
// returns once every address in addrs accepts connections. The main
// context must not set pid or daemon: the harness gives "daemon off;
// master_process off; pid PREFIX/nginx.pid; error_log stderr;" with -g.
// Failure and cleanup are as for StartNginx.
func StartNginxFile(t testing.TB, confPath string, addrs ...string) *Nginx {
	t.Helper()
	bin := NeedNginx(t)
	if len(addrs) == 0 {
		t.Fatalf("StartNginxFile: no address to wait for")
	}
	prefix := filepath.Dir(confPath)
	globals := fmt.Sprintf("daemon off; master_process off; pid %s/nginx.pid; error_log stderr;", prefix)
	p := StartProcess(t, bin, "-p", prefix+"/", "-c", confPath, "-e", "stderr", "-g", globals)
	if err := p.WaitListening(addrs...); err != nil {
		p.Stop()
		t.Fatalf("nginx: %v\n%s", err, p.Output())
	}
	return &Nginx{Addr: addrs[0], Addrs: addrs, Prefix: prefix, Process: p}
}
