package faults_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// reloadLocations is the configuration the reload tests switch between:
// /http/ and /ws/ never change; /extra/ is there when extra is set.
func reloadLocations(wsAddr, httpAddr string, extra bool, n int) string {
	s := wsLocations(wsAddr, httpAddr)
	if extra {
		s += fmt.Sprintf(`
        location /extra/ {
            proxy_pass http://%s;
            proxy_set_header X-Generation %d;
            ws_drain_window 0;
        }`, wsAddr, n)
	}
	return s
}

// TestReloadBrokenConfig: a reload with a broken file keeps the running
// configuration serving (HTTP and an open tunnel), returns the error and
// logs it with file:line:col.
func TestReloadBrokenConfig(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", reloadLocations(wsb.Addr, rec.Addr, false, 0))
	w := g.dialWS("/ws/a")
	w.echo(t, "before")

	broken := reloadLocations(wsb.Addr, rec.Addr, false, 0) + "\n        location /broken/ {\n            proxy_pass http://127.0.0.1:1;\n            bogus_directive on;\n        }"
	g.write("", broken)
	text := g.confBody()
	line := strings.Count(text[:strings.Index(text, "bogus_directive")], "\n") + 1
	col := strings.Index(text, "bogus_directive") - strings.LastIndex(text[:strings.Index(text, "bogus_directive")], "\n")
	want := fmt.Sprintf("%s:%d:%d", filepath.Base(g.Conf), line, col)

	err := g.srv.Reload()
	if err == nil {
		t.Fatalf("reload of a broken config: got no error")
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("reload error: got %q; want it to name %s", err, want)
	}
	if !strings.Contains(g.Log.String(), want) {
		t.Fatalf("error log does not name %s:\n%s", want, g.Log.String())
	}
	w.echo(t, "after the failed reload")
	g.mustServe("/http/x", 200)
	g.mustServe("/broken/x", 200) // still the old config: served by location /
}

// TestReloadUnknownVariable: a reload whose file names a variable nobody
// defines, wherever it is (a header, a return, a proxy_pass, an access_log
// condition, a log format no location uses), fails with the variable's
// file:line:col and keeps the running configuration: HTTP and an open
// tunnel go on as before, and the location the broken file adds is not
// served.
func TestReloadUnknownVariable(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", reloadLocations(wsb.Addr, rec.Addr, false, 0))
	w := g.dialWS("/ws/a")
	w.echo(t, "before")

	tests := []struct {
		desc, http, loc, at string
	}{
		{desc: "proxy_set_header", loc: "proxy_set_header X-A $bogus_var;", at: "proxy_set_header X-A"},
		{desc: "return", loc: "return 200 \"$bogus_var\";", at: "return 200"},
		{desc: "proxy_pass", loc: "proxy_pass http://$bogus_var;", at: "proxy_pass http://$bogus_var"},
		{desc: "access_log if=", loc: "access_log stderr combined if=$bogus_var;", at: "access_log stderr"},
		{desc: "unused log_format", http: "log_format unused '$bogus_var';", at: "log_format unused"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			loc := "location /broken/ {\n            " + tt.loc + "\n"
			if !strings.Contains(tt.loc, "proxy_pass") && !strings.Contains(tt.loc, "return") {
				loc += "            proxy_pass http://" + rec.Addr + ";\n"
			}
			loc += "        }"
			g.write(tt.http, reloadLocations(wsb.Addr, rec.Addr, false, 0)+"\n        "+loc)
			text := g.confBody()
			i := strings.Index(text, tt.at)
			want := fmt.Sprintf("%s:%d:%d: ", g.Conf, strings.Count(text[:i], "\n")+1, i-strings.LastIndex(text[:i], "\n"))

			err := g.srv.Reload()
			if err == nil {
				t.Fatalf("reload: got no error")
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `unknown "bogus_var" variable`) {
				t.Fatalf("reload error: got %q; want %sunknown \"bogus_var\" variable", err, want)
			}
			w.echo(t, "after the failed reload: "+tt.desc)
			g.mustServe("/http/x", 200)
			g.mustServe("/broken/x", 200) // still the old config: served by location /
		})
	}
}

// TestReloadStorm reloads 100 times while HTTP clients and WebSocket
// clients keep working on routes that never change. No request may fail,
// no tunnel on an unchanged route may close, tunnels on a route that a
// reload removes get Close 1012, and goroutines and file descriptors
// return to their baseline afterwards.
func TestReloadStorm(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", reloadLocations(wsb.Addr, rec.Addr, true, 0))
	g.mustServe("/http/warm", 200)
	w0 := g.dialWS("/ws/warm")
	w0.echo(t, "warm")
	w0.c.Close()
	proxytest.Eventually(t, 5*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 },
		"the warm-up tunnel is still live after its client closed")
	baseG, baseFD := settleGoroutines(runtime.NumGoroutine(), 0, 0), fdCount()

	// A tunnel on /extra/, which the first reload removes.
	extra := g.dialWS("/extra/x")
	extra.echo(t, "extra")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var httpOK, httpFail, wsOK atomic.Int64
	var failures sync.Map
	fail := func(kind string, err error) { failures.LoadOrStore(kind, err) }

	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var c net.Conn
			var br *bufio.Reader
			for n := 0; ; n++ {
				select {
				case <-stop:
					if c != nil {
						c.Close()
					}
					return
				default:
				}
				if c == nil || n%10 == 0 { // a new connection now and then
					if c != nil {
						c.Close()
					}
					var err error
					c, err = net.Dial("tcp", g.Addr)
					if err != nil {
						httpFail.Add(1)
						fail("dial", err)
						c = nil
						continue
					}
					br = bufio.NewReader(c)
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "GET /http/%d/%d HTTP/1.1\r\nHost: a\r\n\r\n", i, n)
				resp, err := proxytest.ReadResponse(br, "GET")
				if err != nil || resp.Status != 200 {
					httpFail.Add(1)
					fail("http", fmt.Errorf("request %d: %v %v", n, resp, err))
					c.Close()
					c = nil
					continue
				}
				httpOK.Add(1)
			}
		}(i)
	}
	var clients []*wsClient
	for i := 0; i < 4; i++ {
		clients = append(clients, g.dialWS(fmt.Sprintf("/ws/%d", i)))
	}
	for i, w := range clients {
		wg.Add(1)
		go func(i int, w *wsClient) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.echoErr(fmt.Sprintf("client %d message %d", i, n)); err != nil {
					fail("ws", err)
					return
				}
				wsOK.Add(1)
			}
		}(i, w)
	}

	for n := 1; n <= 100; n++ {
		g.write("", reloadLocations(wsb.Addr, rec.Addr, n%2 == 0, n))
		if err := g.srv.Reload(); err != nil {
			t.Fatalf("reload %d: %v", n, err)
		}
		time.Sleep(10 * time.Millisecond) // reloads paced among the traffic: the case
	}
	// Traffic keeps flowing after the last reload.
	h, w := httpOK.Load(), wsOK.Load()
	flowing := proxytest.Poll(10*time.Second, func() bool { return httpOK.Load() > h+4 && wsOK.Load() > w+4 })
	close(stop)
	wg.Wait()
	if !flowing {
		t.Errorf("after the last reload: %d HTTP requests and %d WebSocket echoes went through; want more than 4 each", httpOK.Load()-h, wsOK.Load()-w)
	}

	failures.Range(func(k, v any) bool {
		t.Errorf("%s failure: %v", k, v)
		return true
	})
	t.Logf("100 reloads: %d HTTP requests ok, %d failed; %d WebSocket echoes ok", httpOK.Load(), httpFail.Load(), wsOK.Load())
	if httpOK.Load() == 0 || wsOK.Load() == 0 {
		t.Fatalf("no traffic went through during the reloads")
	}
	if code, closed := extra.closeOutcome(10 * time.Second); !closed || code != ws.CloseServiceRestart {
		t.Fatalf("tunnel on the removed route: got closed=%v code %d; want Close 1012", closed, code)
	}
	// Every tunnel on an unchanged route is still open and echoing.
	for i, w := range clients {
		if err := w.echoErr(fmt.Sprintf("client %d after", i)); err != nil {
			t.Fatalf("tunnel %d on an unchanged route after the reloads: %v", i, err)
		}
		w.c.Close()
	}
	if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
		t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
	}
	gr := settleGoroutines(baseG, 10, 15*time.Second)
	var fds int
	proxytest.Poll(10*time.Second, func() bool { fds = fdCount(); return fds <= baseFD+4 })
	t.Logf("goroutines %d -> %d, fds %d -> %d", baseG, gr, baseFD, fds)
	if gr > baseG+10 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines: got %d; want at most baseline %d + 10\n%s", gr, baseG, buf[:n])
	}
	if fds > baseFD+4 {
		t.Fatalf("open fds: got %d; want at most baseline %d + 4", fds, baseFD)
	}
}

// TestReloadListenInUse: a reload that adds a listen address another
// socket holds fails as a whole: the error is returned, the running
// configuration keeps serving on its address, and a later reload, once the
// address is free, succeeds.
func TestReloadListenInUse(t *testing.T) {
	wsb := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	rec := proxytest.NewRecording(t, "")
	g := startGate(t, "", reloadLocations(wsb.Addr, rec.Addr, false, 0))
	w := g.dialWS("/ws/a")

	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := holder.Addr().String()
	two := strings.Replace(confText(filepath.Dir(g.Conf), g.Addr, "", reloadLocations(wsb.Addr, rec.Addr, false, 0)+
		"\n        location = /second { return 200 \"second\\n\"; }"),
		"\n}\n", fmt.Sprintf("\n    server {\n        listen %s;\n        return 200 \"other\\n\";\n    }\n}\n", taken), 1)
	if err := os.WriteFile(g.Conf, []byte(two), 0o644); err != nil {
		t.Fatal(err)
	}
	err = g.srv.Reload()
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("reload with %s in use: got %v; want \"address already in use\"", taken, err)
	}
	g.mustServe("/second", 200) // old config: location / answers
	w.echo(t, "after the failed reload")

	holder.Close()
	if err := g.srv.Reload(); err != nil {
		t.Fatalf("reload once %s is free: %v", taken, err)
	}
	resp, _, _ := g.roundTrip("GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET")
	if string(resp.Body) != "second\n" {
		t.Fatalf("after the good reload: got %q; want the new location's \"second\"", resp.Body)
	}
	c, err := net.DialTimeout("tcp", taken, 5*time.Second)
	if err != nil {
		t.Fatalf("new listener on %s: %v", taken, err)
	}
	c.Close()
	w.echo(t, "after the good reload")
}
