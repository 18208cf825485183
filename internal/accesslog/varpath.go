package accesslog

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file is an access_log whose path holds variables
// (ngx_http_log_script_write): the name is evaluated for each line, the
// file opened, written and closed, or its descriptor kept by
// open_log_file_cache. Such a log is never buffered.

// varPath is the per-request name of an access_log.
type varPath struct {
	name  *vars.Template
	cache *fdCache // nil: open_log_file_cache off
	log   *slog.Logger
}

// LoggerOptions are what a location gives its access logs besides the
// access_log line: its open_log_file_cache, and the error log where a
// file that cannot be opened is reported.
type LoggerOptions struct {
	Cache    *config.OpenLogFileCache
	ErrorLog *slog.Logger
}

// newVarPath compiles al's path; a relative one is taken under the
// prefix (ngx_conf_full_name).
func (fs *Files) newVarPath(al config.AccessLog, vc *vars.Compiler, opts LoggerOptions) (*varPath, error) {
	p := al.Path
	if !filepath.IsAbs(p) && fs.prefix != "" {
		// Joined without cleaning: the template's text is kept as
		// nginx keeps it, ".." and all.
		p = strings.TrimSuffix(fs.prefix, "/") + "/" + p
	}
	t, err := vc.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("access_log: %w", err)
	}
	vp := &varPath{name: t, log: opts.ErrorLog}
	if opts.Cache != nil {
		vp.cache = fs.cache(*opts.Cache)
	}
	return vp, nil
}

// cache returns the cache of the open_log_file_cache directive oc: one
// per directive (locations that inherit it share it), kept across reloads
// while the directive stays where it is with the same parameters.
func (fs *Files) cache(oc config.OpenLogFileCache) *fdCache {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	key := oc.Pos.File + ":" + strconv.Itoa(oc.Pos.Line) + ":" + strconv.Itoa(oc.Pos.Col) + fmt.Sprintf(" %d %v %d %v", oc.Max, oc.Inactive, oc.MinUses, oc.Valid)
	if c, ok := fs.caches[key]; ok {
		return c
	}
	if fs.caches == nil {
		fs.caches = map[string]*fdCache{}
	}
	c := newFDCache(oc)
	fs.caches[key] = c
	return c
}

// write writes line to the file named for c. As nginx, a line that
// cannot be written is dropped: when the location's root directory does
// not exist (so that a name made of request data creates nothing where
// no site is), or when the file cannot be opened (reported at crit).
func (vp *varPath) write(c *vars.Ctx, line []byte) {
	if c.Paths != nil {
		root := string(c.Paths.AppendDocumentRoot(nil, c))
		fi, err := os.Stat(root)
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("not a directory")
		}
		if err != nil {
			vp.errorf(Levels["error"], "testing \"%s\" existence failed (%v)", root, err)
			return
		}
	}
	name := string(vp.name.Append(nil, c))
	if vp.cache == nil {
		f, err := OpenLog(name)
		if err != nil {
			vp.errorf(Levels["crit"], "open() \"%s\" failed (%v) while logging request", name, err)
			return
		}
		f.Write(line)
		f.Close()
		return
	}
	e, err := vp.cache.acquire(name)
	if err != nil {
		vp.errorf(Levels["crit"], "open() \"%s\" failed (%v) while logging request", name, err)
		return
	}
	e.f.Write(line)
	vp.cache.release(e)
}

func (vp *varPath) errorf(level slog.Level, format string, args ...any) {
	if vp.log != nil {
		vp.log.Log(nil, level, fmt.Sprintf(format, args...))
	}
}
