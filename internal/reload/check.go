package reload

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/proxy"
	"wsgate/internal/runtime"
	"wsgate/internal/upstream"
)

// resolveTimeout bounds the resolution of upstream host names while a
// configuration is compiled.
const resolveTimeout = 30 * time.Second

// compile is the one check of a configuration, run by -t (Check), at start
// and at reload: read and check the files (config.Load), then compile
// everything that can fail on what they say (runtime.Build: location and
// server_name regexes, maps, every string with variables, log formats,
// upstream names and addresses; proxy.Handler.Compile: proxy_set_header,
// proxy_redirect, access_log formats, if= and files, certificates).
// Nothing is published. spec is nil only when nothing could be read; err
// is a config.ErrorList, each problem once, at its directive.
func compile(opts Options, h *proxy.Handler, ups *upstream.Registry) (*config.Spec, *proxy.State, error) {
	spec, errs := config.Load(opts.ConfPath, config.ParseOptions{Prefix: filepath.Dir(opts.ConfPath), Globals: opts.Globals})
	if len(errs) > 0 {
		return spec, nil, errs
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	snap, err := runtime.Build(ctx, spec, ups, opts.Resolver)
	if err != nil {
		return spec, nil, dedup(err)
	}
	st, err := h.Compile(snap)
	if err != nil {
		return spec, nil, dedup(err)
	}
	return spec, st, nil
}

func dedup(err error) error {
	if el, ok := err.(config.ErrorList); ok {
		return el.Dedup()
	}
	return err
}

// Check is wsgate -t: compile, exactly as Start and Reload run it, with an
// upstream registry and log files of its own that it releases before
// returning, and no listening socket. As nginx -t does, it resolves
// upstream host names, loads certificates and opens (creating) the access
// log files. It returns the Spec for notices, lint and -T (nil when
// nothing could be read) and every problem as a config.ErrorList.
func Check(opts Options) (*config.Spec, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ups := upstream.NewRegistry(upstream.Options{Logger: log})
	defer ups.Close()
	logs := accesslog.NewFiles(opts.Prefix)
	defer logs.Close()
	h := &proxy.Handler{Version: opts.Version, Upstreams: ups, Logs: logs, Log: log}
	spec, _, err := compile(opts, h, ups)
	return spec, err
}
