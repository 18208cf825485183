package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
)

// These tests run the server in process on loopback ports, with
// configurations whose locations answer with return, so that what they
// check is the server's own work: publishing, listeners, drain and stop,
// signals.

// testServer is a running server and its configuration file.
type testServer struct {
	t    *testing.T
	s    *Server
	conf string
	log  *proxytest.SyncBuffer
}

// confFor is an http block with one server per listen address, each
// answering every request with body.
func confFor(body string, addrs ...string) string {
	var b strings.Builder
	b.WriteString("events {}\nhttp {\n    access_log off;\n")
	for _, a := range addrs {
		b.WriteString("    server {\n        listen " + a + ";\n        location / { return 200 \"" + body + "\"; }\n    }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// start writes conf and starts a server with opts (ConfPath and Log are
// filled in).
func start(t *testing.T, conf string, opts Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{t: t, conf: filepath.Join(dir, "nginx.conf"), log: &proxytest.SyncBuffer{}}
	ts.write(conf)
	opts.ConfPath, opts.Prefix, opts.Version = ts.conf, dir, "test"
	opts.Log = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("starting: %v\n%s", err, conf)
	}
	ts.s = s
	t.Cleanup(s.Stop)
	return ts
}

func (ts *testServer) write(conf string) {
	ts.t.Helper()
	if err := os.WriteFile(ts.conf, []byte(conf), 0o644); err != nil {
		ts.t.Fatal(err)
	}
}

// get sends one GET on a new connection to addr and returns the body, or
// the error that kept it from being read.
func get(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		return "", err
	}
	return string(r.Body), nil
}

func mustGet(t *testing.T, addr, want string) {
	t.Helper()
	got, err := get(addr)
	if err != nil {
		t.Fatalf("GET on %s: %v", addr, err)
	}
	if got != want {
		t.Fatalf("GET on %s: got body %q; want %q", addr, got, want)
	}
}

// refused reports whether nothing accepts on addr.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

func TestReload(t *testing.T) {
	a, b := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	tests := []struct {
		name string
		next string
		// wantErr: the reload fails and the running configuration stays.
		wantErr string
		// want maps each address to the body it answers after the
		// reload; "" means nothing accepts there any more.
		want map[string]string
	}{
		{"good reload publishes", confFor("two", a), "", map[string]string{a: "two"}},
		{"syntax error keeps serving", confFor("two", a) + "}", "unexpected", map[string]string{a: "one"}},
		{"unknown directive keeps serving", strings.Replace(confFor("two", a), "access_log off;", "no_such_thing on;", 1),
			`unknown directive "no_such_thing"`, map[string]string{a: "one"}},
		{"check error keeps serving", strings.Replace(confFor("two", a), `return 200 "two";`, `proxy_pass http://$undefined_var;`, 1),
			"undefined_var", map[string]string{a: "one"}},
		{"listener added", confFor("two", a, b), "", map[string]string{a: "two", b: "two"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, confFor("one", a), Options{})
			mustGet(t, a, "one")
			before := ts.s.Current()
			ts.write(tc.next)
			err := ts.s.Reload()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("reload: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("reload: got error %v; want one containing %q", err, tc.wantErr)
			}
			if tc.wantErr != "" {
				if ts.s.Current() != before {
					t.Errorf("a failed reload published a new snapshot")
				}
				// The text handler quotes the error: its quotes are escaped.
				if log := ts.log.String(); !strings.Contains(log, "reload failed, keeping the running configuration") ||
					!strings.Contains(log, strings.ReplaceAll(tc.wantErr, `"`, `\"`)) {
					t.Errorf("log does not report the failed reload and its error %q:\n%s", tc.wantErr, log)
				}
			} else if ts.s.Current() == before {
				t.Errorf("a good reload did not publish a new snapshot")
			}
			for addr, want := range tc.want {
				mustGet(t, addr, want)
			}
		})
	}
}

// TestReloadListeners checks that a reload keeps the socket of an address
// it still listens on (a connection open across the reload goes on being
// served), opens new ones, and closes the ones it no longer lists.
func TestReloadListeners(t *testing.T) {
	a, b := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	ts := start(t, confFor("one", a), Options{})
	la := ts.s.listeners.All()[0]

	// A keep-alive connection accepted before the reload.
	c, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	ask := func() string {
		t.Helper()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		r, err := proxytest.ReadResponse(br, "GET")
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Body)
	}
	if got := ask(); got != "one" {
		t.Fatalf("got %q; want %q", got, "one")
	}

	ts.write(confFor("two", a, b))
	if err := ts.s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := ts.s.listeners.All(); len(got) != 2 || (got[0] != la && got[1] != la) {
		t.Errorf("the listener of %s was not kept across the reload", a)
	}
	// The open connection takes the new configuration at its next request.
	if got := ask(); got != "two" {
		t.Errorf("open connection after reload: got %q; want %q", got, "two")
	}
	mustGet(t, b, "two")

	ts.write(confFor("three", b))
	if err := ts.s.Reload(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, b, "three")
	if !refused(a) {
		t.Errorf("%s still accepts after the reload removed it", a)
	}
	if got := len(ts.s.Addrs()); got != 1 {
		t.Errorf("got %d listeners; want 1", got)
	}
}

// TestReloadBindFailure checks that a reload whose new address cannot be
// bound changes nothing: the running configuration keeps serving.
func TestReloadBindFailure(t *testing.T) {
	a := proxytest.FreeAddr(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ts := start(t, confFor("one", a), Options{})
	before := ts.s.Current()
	ts.write(confFor("two", a, busy.Addr().String()))
	if err := ts.s.Reload(); err == nil {
		t.Fatalf("reload with a busy address succeeded")
	}
	if ts.s.Current() != before {
		t.Errorf("a failed reload published a new snapshot")
	}
	mustGet(t, a, "one")
	if got := len(ts.s.Addrs()); got != 1 {
		t.Errorf("got %d listeners; want 1", got)
	}
}

// TestSource checks that the configuration comes from the Source, and
// only once at start when a first Spec is given (the command line has
// parsed the file already).
func TestSource(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	var calls atomic.Int32
	body := atomic.Value{}
	body.Store("one")
	src := func() (*config.Spec, error) {
		calls.Add(1)
		if err := os.WriteFile(path, []byte(confFor(body.Load().(string), a)), 0o644); err != nil {
			return nil, err
		}
		return FileSource(path, "")()
	}
	first, err := src()
	if err != nil {
		t.Fatal(err)
	}
	calls.Store(0)
	for _, tc := range []struct {
		name      string
		spec      *config.Spec
		wantCalls int32
	}{
		{"first spec given", first, 0},
		{"no first spec", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			body.Store("one")
			s, err := Start(Options{Source: src, Spec: tc.spec, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("start called the source %d times; want %d", got, tc.wantCalls)
			}
			mustGet(t, a, "one")
			body.Store("two")
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != tc.wantCalls+1 {
				t.Errorf("reload: source called %d times in all; want %d", got, tc.wantCalls+1)
			}
			mustGet(t, a, "two")
		})
	}
	t.Run("source error", func(t *testing.T) {
		bad := func() (*config.Spec, error) { return nil, errors.New("no configuration today") }
		if _, err := Start(Options{Source: bad, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil || !strings.Contains(err.Error(), "no configuration today") {
			t.Errorf("got %v; want the source's error", err)
		}
	})
}

// TestStop checks both stops: listeners are closed, idle keep-alive
// connections are closed, and a request in flight finishes on a graceful
// stop, its connection closed after the response (nginx's
// ngx_http_finalize_connection when ngx_exiting), while a fast stop cuts
// it.
func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name     string
		graceful bool
	}{
		{"graceful", true},
		{"fast", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := proxytest.NewSlow(t, 300*time.Millisecond, "")
			a := proxytest.FreeAddr(t)
			conf := "events {}\nhttp {\n    access_log off;\n    server {\n        listen " + a + ";\n" +
				"        location / { return 200 \"idle\"; }\n" +
				"        location /slow { proxy_pass http://" + backend.Addr + "; }\n    }\n}\n"
			ts := start(t, conf, Options{})

			idle, err := net.Dial("tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.Close()
			idle.SetDeadline(time.Now().Add(10 * time.Second))
			ibr := bufio.NewReader(idle)
			io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			if _, err := proxytest.ReadResponse(ibr, "GET"); err != nil {
				t.Fatal(err)
			}

			busy, err := net.Dial("tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			busy.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
			if len(backend.WaitRequests(1, 5*time.Second)) == 0 {
				t.Fatal("the backend got no request")
			}

			done := make(chan error, 1)
			go func() {
				if tc.graceful {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					done <- ts.s.Shutdown(ctx)
				} else {
					ts.s.Stop()
					done <- nil
				}
			}()

			bbr := bufio.NewReader(busy)
			r, err := proxytest.ReadResponse(bbr, "GET")
			if tc.graceful {
				if err != nil {
					t.Fatalf("request in flight during a graceful stop: %v", err)
				}
				if r.Status != 200 {
					t.Errorf("request in flight: got status %d; want 200", r.Status)
				}
				if _, err := bbr.ReadByte(); err == nil {
					t.Errorf("the connection of the request in flight stayed open after its response")
				}
			} else if err == nil {
				t.Errorf("a fast stop let the request in flight finish with %d", r.Status)
			}
			if _, err := ibr.ReadByte(); err == nil {
				t.Errorf("idle keep-alive connection got a byte after the stop; want it closed")
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("stop: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("stop did not return")
			}
			if !refused(a) {
				t.Errorf("%s still accepts after the stop", a)
			}
			if err := ts.s.Reload(); err == nil {
				t.Errorf("reload after stop succeeded")
			}
		})
	}
}
