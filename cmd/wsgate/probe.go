package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/probe"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

const probeUsage = `Usage: wsgate probe [flags] URL

Opens a WebSocket to URL (ws://, wss://, http:// or https://) with a raw
handshake, shows the status line and the headers that matter, measures echo
and ping round trips, and when it fails says why and what to change.
Exit status 0 only when the WebSocket works (and, with -hold, stayed open).

Flags (one or two dashes):
`

// runProbe is "wsgate probe": see probeUsage.
func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsgate probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts    probe.Options
		headers listFlag
		subs    listFlag
		asJSON  bool
		verbose bool
	)
	fs.DurationVar(&opts.Hold, "hold", 0, "stay idle this long after the round trips and report if and when the connection is cut (e.g. 90s)")
	fs.IntVar(&opts.Count, "count", 1, "number of echo messages (0: the server does not echo)")
	fs.IntVar(&opts.Size, "size", 32, "bytes per echo message")
	fs.Var(&headers, "header", "extra request header `Name: value` (repeatable)")
	fs.StringVar(&opts.Origin, "origin", "", "send this Origin header (e.g. https://example.com)")
	fs.Var(&subs, "subprotocol", "offer this subprotocol (repeatable, or comma-separated)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of text")
	fs.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "bound on each step: connect, TLS, handshake, each round trip")
	fs.BoolVar(&opts.Insecure, "insecure", false, "do not verify the TLS certificate")
	fs.BoolVar(&verbose, "v", false, "show the request and every response header")
	fs.Usage = func() {
		fmt.Fprint(stderr, probeUsage)
		fs.PrintDefaults()
	}
	// Flags may come before or after the URL.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fmt.Fprintf(stderr, "wsgate probe: want exactly one URL; got %d\n", len(rest))
		fs.Usage()
		return 2
	}
	opts.URL = rest[0]
	opts.UserAgent = "wsgate-probe/" + version
	if len(headers) > 0 {
		opts.Header = http.Header{}
		for _, h := range headers {
			name, val, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				fmt.Fprintf(stderr, "wsgate probe: -header %q: want \"Name: value\"\n", h)
				return 2
			}
			opts.Header.Add(strings.TrimSpace(name), strings.TrimSpace(val))
		}
	}
	for _, s := range subs {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				opts.Subprotocols = append(opts.Subprotocols, p)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := probe.Run(ctx, opts)
	if asJSON {
		if err := res.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "wsgate probe: writing JSON: %v\n", err)
			return 1
		}
	} else {
		res.WriteText(stdout, verbose)
	}
	if !res.OK {
		return 1
	}
	return 0
}
