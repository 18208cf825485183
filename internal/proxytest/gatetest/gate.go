// Package gatetest runs wsgate in-process for tests: server.Start, the
// same path the wsgate command serves with, on a configuration written to
// a temporary directory and a free loopback port.
//
// It is a package of its own, apart from proxytest, because it imports
// server and through it the whole serving tree (proxy, tunnel, upstream):
// proxytest stays light so that those packages' own tests can import it,
// and only tests outside them (package proxy_test, the e2e suites) import
// gatetest. A test in package proxy itself cannot.
package gatetest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// Options configure Start. The zero value discards wsgate's own log and
// stops the gate with a fast stop.
type Options struct {
	// Log receives wsgate's own log lines (slog text); nil discards them.
	Log io.Writer
	// Level is the lowest level written to Log; 0 is slog.LevelInfo.
	Level slog.Level
	// Version is wsgate's version in Server headers; "" means "test".
	Version string
	// Graceful makes the cleanup a graceful stop (Shutdown: Close 1001 on
	// every tunnel and a wait for the closing handshakes, bounded by
	// 10 s) instead of the fast stop (Stop).
	Graceful bool
}

// Gate is a wsgate serving in-process.
type Gate struct {
	// Addr is "127.0.0.1:PORT": the address "{{listen}}" stood for, or
	// the configuration's first "listen IP:PORT" when it had none.
	Addr string
	// Dir is the prefix directory (relative paths resolve against it);
	// it holds the configuration file, Conf. The test removes it.
	Dir  string
	Conf string
	// Server is the running wsgate, for Reload, Shutdown, Tunnels.
	Server *server.Server

	t    testing.TB
	opts Options
}

// startTries bounds the attempts at a free port: FreeAddr's port can be
// taken by another process between the check and wsgate's bind.
const startTries = 5

// Start serves conf, the text of a whole configuration file, until the
// test ends. In conf, every "{{listen}}" becomes a free loopback address
// (tried again with another when it was taken meanwhile) and every
// "{{dir}}" the prefix directory. A configuration wsgate refuses fails
// the test with the errors and the text.
func Start(t testing.TB, conf string, opts Options) *Gate {
	t.Helper()
	g := &Gate{t: t, opts: opts, Dir: t.TempDir()}
	g.Conf = filepath.Join(g.Dir, "nginx.conf")
	log := slog.New(slog.DiscardHandler)
	if opts.Log != nil {
		log = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: opts.Level}))
	}
	version := opts.Version
	if version == "" {
		version = "test"
	}
	pick := strings.Contains(conf, "{{listen}}")
	var err error
	var text string
	for try := 0; try < startTries; try++ {
		g.Addr = ""
		if pick {
			g.Addr = proxytest.FreeAddr(t)
		}
		text = g.Write(conf)
		if g.Addr == "" {
			if addrs := proxytest.ListenAddrs([]byte(text)); len(addrs) > 0 {
				g.Addr = addrs[0]
			}
		}
		g.Server, err = server.Start(server.Options{ConfPath: g.Conf, Prefix: g.Dir + "/", Version: version, Log: log})
		if err == nil || !pick || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting wsgate: %v\nconfiguration:\n%s", err, text)
	}
	t.Cleanup(g.Stop)
	return g
}

// Write replaces the configuration file with conf, with "{{listen}}" and
// "{{dir}}" filled in as Start does (the same address), and returns the
// text written. It does not reload: call g.Server.Reload.
func (g *Gate) Write(conf string) string {
	g.t.Helper()
	text := strings.NewReplacer("{{listen}}", g.Addr, "{{dir}}", g.Dir).Replace(conf)
	if err := os.WriteFile(g.Conf, []byte(text), 0o644); err != nil {
		g.t.Fatalf("writing the configuration: %v", err)
	}
	return text
}

// Stop ends the gate as Options.Graceful says; it is registered with
// t.Cleanup and may be called earlier, more than once.
func (g *Gate) Stop() {
	if g.Server == nil {
		return
	}
	if !g.opts.Graceful {
		g.Server.Stop()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Server.Shutdown(ctx)
}

// HTTP is a whole configuration file around an http block's contents:
// "events {}" and "http { httpBlock }".
func HTTP(httpBlock string) string { return proxytest.NginxHTTP(httpBlock) }
