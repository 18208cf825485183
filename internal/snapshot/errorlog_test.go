package snapshot_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// TestLocationErrorLog: a file error is written to the error_log of the
// request's location, as nginx switches a request's log to its
// location's (nginx-tests index.t), inherited all-or-nothing from the
// server; log_not_found off keeps a 404 out of it.
func TestLocationErrorLog(t *testing.T) {
	g := gatetest.Start(t, gatetest.HTTP(`access_log off;
server {
    listen {{listen}};
    root {{dir}};
    error_log {{dir}}/server.log;
    location /nf/ {
        error_log {{dir}}/nf.log;
        location /nf/off/ {
            error_log {{dir}}/off.log info;
            error_log {{dir}}/off2.log;
            log_not_found off;
        }
    }
    location /other/ { }
}`), gatetest.Options{})
	tests := []struct {
		path, log string
		want      bool // the log holds the 404's line
	}{
		{"/nf/missing", "nf.log", true},
		{"/nf/off/missing", "off.log", false},
		{"/nf/off/missing", "off2.log", false},
		{"/other/missing", "server.log", true},
	}
	for _, tt := range tests {
		if got := getStatus(t, g.Addr, tt.path); got != 404 {
			t.Fatalf("GET %s: got status %d; want 404", tt.path, got)
		}
	}
	for _, tt := range tests {
		name := filepath.Join(g.Dir, tt.log)
		if tt.want {
			proxytest.Eventually(t, 5*time.Second, func() bool {
				b, _ := os.ReadFile(name)
				return strings.Contains(string(b), "[error]") && strings.Contains(string(b), "open() failed")
			}, "%s: no open() failed line for %s", tt.log, tt.path)
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (the log is opened at start, as nginx does)", tt.log, err)
		}
		if strings.Contains(string(b), "[error]") {
			t.Errorf("%s: got %q; want no error line (log_not_found off)", tt.log, b)
		}
	}
	// nf.log has only its own location's line.
	if b, _ := os.ReadFile(filepath.Join(g.Dir, "nf.log")); strings.Contains(string(b), "/other/") || strings.Count(string(b), "\n") != 1 {
		t.Errorf("nf.log: got %q; want the one line of /nf/missing", b)
	}
}

func getStatus(t *testing.T, addr, path string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}
