package gatetest

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
)

// status sends one GET to addr and returns the response's status.
func status(t *testing.T, addr, path string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return r.Status
}

func TestStart(t *testing.T) {
	fixed := proxytest.FreeAddr(t)
	tests := []struct {
		name     string
		conf     string
		wantAddr string // "" means a chosen one
	}{
		{"placeholders", `access_log {{dir}}/access.log; server { listen {{listen}}; location / { return 204; } }`, ""},
		{"own listen", `access_log off; server { listen ` + fixed + `; location / { return 204; } }`, fixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Start(t, HTTP(tt.conf), Options{})
			if tt.wantAddr != "" && g.Addr != tt.wantAddr {
				t.Errorf("Addr: got %q; want %q", g.Addr, tt.wantAddr)
			}
			if got := status(t, g.Addr, "/"); got != 204 {
				t.Fatalf("got status %d; want 204", got)
			}
			text, err := os.ReadFile(g.Conf)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(text), "{{") || filepath.Dir(g.Conf) != g.Dir {
				t.Errorf("configuration %s in %s:\n%s", g.Conf, g.Dir, text)
			}
		})
	}
}

func TestWriteReloadStop(t *testing.T) {
	log := &proxytest.SyncBuffer{}
	g := Start(t, HTTP(`access_log off; server { listen {{listen}}; location / { return 204; } }`), Options{Log: log})
	g.Write(HTTP(`access_log off; server { listen {{listen}}; location / { return 404; } }`))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := status(t, g.Addr, "/"); got != 404 {
		t.Fatalf("after the reload: got status %d; want 404", got)
	}
	g.Write(HTTP(`no_such_directive;`))
	if err := g.Server.Reload(); err == nil {
		t.Fatal("reload of a broken configuration: got no error")
	}
	if !strings.Contains(log.String(), "no_such_directive") {
		t.Errorf("the log does not name the broken directive:\n%s", log.String())
	}
	g.Stop()
	if c, err := net.DialTimeout("tcp", g.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting after Stop")
	}
	g.Stop() // a second Stop, and the cleanup's, do nothing
}
