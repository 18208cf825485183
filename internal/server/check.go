package server

import (
	"context"
	"io"
	"log/slog"
	"time"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
)

// resolveTimeout bounds the resolution of upstream host names while a
// configuration is compiled.
const resolveTimeout = 30 * time.Second

// build is the one check of a configuration, run by -t (Check), at start
// and at reload, after the Source has read and checked the files
// (config.Load): snapshot.Build compiles everything that can fail on what
// they say (location and server_name regexes, maps, every string with
// variables, log formats, upstream names and addresses, proxy_set_header,
// proxy_redirect, access_log formats, if= and files, certificates).
// Nothing is published. err is a config.ErrorList, each problem once, at
// its directive.
func build(spec *config.Spec, env *snapshot.Env) (*snapshot.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	return snapshot.Build(ctx, spec, env)
}

// Check is wsgate -t: the configuration from the Source, built exactly as
// Start and Reload build it, with an upstream registry and log files of
// its own that it releases before returning, and no listening socket. As
// nginx -t does, it resolves upstream host names, loads certificates and
// opens (creating) the access log files. It returns the Spec for notices,
// lint and -T (nil when nothing could be read) and every problem as a
// config.ErrorList.
func Check(opts Options) (*config.Spec, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	src := opts.Source
	if src == nil {
		src = FileSource(opts.ConfPath, opts.Globals)
	}
	spec := opts.Spec
	if spec == nil {
		var err error
		if spec, err = src(); err != nil {
			return spec, err
		}
	}
	ups := upstream.NewRegistry(upstream.Options{Logger: log})
	defer ups.Close()
	logs := accesslog.NewFiles(opts.Prefix)
	defer logs.Close()
	_, err := build(spec, &snapshot.Env{Upstreams: ups, Resolver: opts.Resolver, Logs: logs, Version: opts.Version, Prefix: opts.Prefix, Log: log})
	return spec, err
}
