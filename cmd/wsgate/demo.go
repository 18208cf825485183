package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/demo"
)

const demoUsage = `Usage: wsgate demo [-listen ADDR] [-ws-backend HOST:PORT] [-app HOST:PORT]

Runs the tutorial's setup in one command: wsgate serving the tutorial's
server block, a built-in WebSocket backend where the tutorial has :8080
(echo at /ws/echo, chat at /ws/chat) and a built-in app where it has :3000
(a page that talks WebSocket through wsgate). wsgate listens on loopback,
127.0.0.1, on the tutorial's port 80; -listen 80 listens on every address,
as the tutorial's "listen 80;" does. Ports the tutorial uses that are taken
or not allowed are replaced by free ones, and the demo says so.
Ctrl-C stops everything, with a Close frame to every open WebSocket.

Flags (one or two dashes):
`

// demoShutdownTimeout bounds the closing handshakes at Ctrl-C.
const demoShutdownTimeout = 5 * time.Second

// runDemo is "wsgate demo": see demoUsage.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsgate demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts demo.Options
	fs.StringVar(&opts.Listen, "listen", "", "wsgate's address, PORT (every address) or HOST:PORT (default: 127.0.0.1:80, the tutorial's port on loopback, or a free loopback port); port 0 picks a free one")
	fs.StringVar(&opts.WSBackend, "ws-backend", "", "the WebSocket backend's address (default: the tutorial's localhost:8080, or a free port)")
	fs.StringVar(&opts.App, "app", "", "the app's address (default: the tutorial's localhost:3000, or a free port)")
	quiet := fs.Bool("q", false, "print only the URL and problems")
	fs.Usage = func() {
		fmt.Fprint(stderr, demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wsgate demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	opts.Version = version
	opts.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Signals are caught before anything starts, so that Ctrl-C during
	// start-up still stops cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := demo.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsgate demo: %s\n", describeStartError(err))
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "wsgate demo: the tutorial's nginx setup, with built-in backends\n\n")
		fmt.Fprintf(stdout, "configuration (%s):\n", d.ConfPath)
		for _, l := range strings.Split(strings.TrimRight(d.Config, "\n"), "\n") {
			fmt.Fprintf(stdout, "  | %s\n", l)
		}
		fmt.Fprintln(stdout)
		listenShown := d.Listen
		if !strings.Contains(listenShown, ":") {
			listenShown = "*:" + listenShown + " (every address)" // "listen 80;"
		} else if host, _, err := net.SplitHostPort(listenShown); err == nil && net.ParseIP(host).IsLoopback() {
			listenShown += " (loopback only: -listen 80 for every address)"
		}
		fmt.Fprintf(stdout, "  wsgate             listening on %s\n", listenShown)
		fmt.Fprintf(stdout, "  WebSocket backend  %s  (echo at /ws/echo, chat at /ws/chat)\n", strings.Join(d.WSBackend, ", "))
		fmt.Fprintf(stdout, "  app                %s  (the page)\n", strings.Join(d.App, ", "))
	}
	for _, n := range d.Notes {
		fmt.Fprintf(stdout, "\nnote: %s\n", n)
	}
	wsURL := "ws" + strings.TrimPrefix(d.URL, "http") + "ws/echo"
	fmt.Fprintf(stdout, "\nOpen %s in a browser.\n", d.URL)
	if !*quiet {
		fmt.Fprintf(stdout, "Check the WebSocket from a shell:  wsgate probe %s\n", wsURL)
		fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")
	}

	<-ctx.Done()
	stop()
	fmt.Fprintf(stdout, "\nstopping: sending Close 1001 to open WebSockets\n")
	sctx, cancel := context.WithTimeout(context.Background(), demoShutdownTimeout)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "wsgate demo: stopping: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "stopped\n")
	return 0
}

// describeStartError prints every configuration error, one per line.
func describeStartError(err error) string {
	var el config.ErrorList
	if errors.As(err, &el) {
		lines := make([]string, len(el))
		for i, e := range el {
			lines[i] = e.Error()
		}
		return strings.Join(lines, "\n")
	}
	return err.Error()
}
