package faults_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// TestGracefulStopSignal runs the wsgate binary and sends it SIGQUIT with
// tunnels open and an HTTP request in flight. It must stop accepting at
// once, answer the request in flight, send every client Close 1001 spread
// over the location's ws_drain_window (the k-th of n no sooner than k/n of
// the window after the signal), and exit with status 0 once the closing
// handshakes are done.
func TestGracefulStopSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the wsgate binary")
	}
	const (
		n      = 100
		window = 2 * time.Second
	)
	dir := t.TempDir()
	bin := wsgateBin(t)
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	slow := proxytest.NewSlow(t, 1500*time.Millisecond, "")
	rec := proxytest.NewRecording(t, "")
	g := &gate{t: t, Conf: filepath.Join(dir, "nginx.conf"), Addr: proxytest.FreeAddr(t), access: filepath.Join(dir, "access.log")}
	conf := fmt.Sprintf("pid %s;\n", filepath.Join(dir, "wsgate.pid")) + confText(dir, g.Addr, "", fmt.Sprintf(`location /ws/ {
            proxy_pass http://%s;
            ws_drain_window 2s;
        }
        location /slow/ { proxy_pass http://%s; }
        location / { proxy_pass http://%s; }`, wsb.Addr, slow.Addr, rec.Addr))
	if err := os.WriteFile(g.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	proc := proxytest.StartProcess(t, bin, "-c", g.Conf)
	if !proxytest.Poll(10*time.Second, func() bool { return strings.Contains(proc.Output(), "wsgate started") }) {
		t.Fatalf("wsgate did not start:\n%s", proc.Output())
	}

	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = g.dialWS(fmt.Sprintf("/ws/%d", i))
	}
	clients[0].echo(t, "before the stop")

	// An HTTP request in flight when the signal comes.
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		c, err := net.DialTimeout("tcp", g.Addr, 5*time.Second)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "GET /slow/x HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		answered <- answer{status: resp.Status}
	}()
	if reqs := slow.WaitRequests(1, 10*time.Second); len(reqs) != 1 {
		t.Fatalf("slow backend got %d requests; want 1", len(reqs))
	}

	type closed struct {
		code uint16
		ok   bool
		at   time.Duration
	}
	closes := make([]closed, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, ok := w.closeOutcome(30 * time.Second)
			closes[i] = closed{code: code, ok: ok, at: time.Since(start)}
		}()
	}
	if err := proc.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}

	// It stops accepting at once: the listening socket is closed.
	refused := proxytest.Poll(5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", g.Addr, time.Second)
		if err != nil {
			return errors.Is(err, syscall.ECONNREFUSED)
		}
		c.Close()
		return false
	})
	if !refused {
		t.Errorf("a new connection was still accepted 5 s after SIGQUIT")
	}

	// The request in flight is answered.
	select {
	case a := <-answered:
		if a.err != nil || a.status != 200 {
			t.Errorf("request in flight at SIGQUIT: got status %d, %v; want 200", a.status, a.err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("request in flight at SIGQUIT: no answer in 20 s")
	}

	wg.Wait()
	ats := make([]time.Duration, n)
	for i, c := range closes {
		if !c.ok || c.code != ws.CloseGoingAway {
			t.Fatalf("client %d: got closed=%v code %d; want Close 1001\n%s", i, c.ok, c.code, proc.Output())
		}
		ats[i] = c.at
	}
	slices.Sort(ats)
	p10, p90 := ats[n/10], ats[n*9/10]
	t.Logf("closes after SIGQUIT: first %v p10 %v p90 %v last %v", ats[0], p10, p90, ats[n-1])
	if err := proxytest.Paced(ats, window); err != nil {
		t.Errorf("closes not spread over ws_drain_window %v: %v", window, err)
	}

	select {
	case <-proc.Exited():
		if err := proc.Err(); err != nil {
			t.Errorf("wsgate after SIGQUIT: %v; want exit status 0\n%s", err, proc.Output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("wsgate still running 30 s after SIGQUIT (its limit)\n%s", proc.Output())
	}
	if !strings.Contains(proc.Output(), "wsgate stopped") {
		t.Errorf("no \"wsgate stopped\" in the error log:\n%s", proc.Output())
	}
}
