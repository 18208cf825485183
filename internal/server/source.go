package server

import (
	"path/filepath"

	"wsgate/internal/config"
)

// Source gives a configuration: read from files, built from -g, or
// converted from Kubernetes objects. It returns every problem at once,
// as a config.ErrorList where they have positions, with the Spec of what
// could be read (nil when nothing could): partial, for -t's notices and
// warnings, never to be served. The server calls it at start (unless
// Options.Spec is given) and at every reload.
type Source func() (*config.Spec, error)

// FileSource reads the configuration file path (absolute) with its
// includes, which nginx resolves against the directory of the main file
// (conf_prefix), and globals, the -g text.
func FileSource(path, globals string) Source {
	return func() (*config.Spec, error) {
		spec, errs := config.Load(path, config.ParseOptions{Prefix: filepath.Dir(path), Globals: globals})
		if len(errs) > 0 {
			return spec, errs
		}
		return spec, nil
	}
}
