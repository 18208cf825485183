// Package accesslog writes nginx's access_log lines: log_format templates
// compiled once, one shared writer per file (kept across reloads, reopened
// on USR1 / -s reopen), optional buffering with buffer= and flush=, each
// buffer gzip'ed with gzip=, and the if= condition.
package accesslog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Files is the set of open log files of a process. Loggers of successive
// configurations share a file when their paths are equal, so a reload does
// not reopen or lose buffered lines.
type Files struct {
	prefix string
	mu     sync.Mutex
	files  map[string]*file
	caches map[string]*fdCache // open_log_file_cache's, by directive
}

// NewFiles returns an empty set; relative paths are taken relative to
// prefix, as nginx does.
func NewFiles(prefix string) *Files {
	return &Files{prefix: prefix, files: map[string]*file{}}
}

type file struct {
	path  string
	mu    sync.Mutex
	f     *os.File // nil for stderr/stdout
	out   io.Writer
	bw    *bufio.Writer // nil when unbuffered
	gzip  int           // access_log gzip=level; 0: plain
	flush time.Duration
	timer *time.Timer
}

// Logger writes one access_log directive's lines.
type Logger struct {
	file *file
	vp   *varPath // a path with variables; file is nil
	tmpl *vars.Template
	esc  vars.Escape
	cond *vars.Template
}

// Logger returns the writer for access_log al with format f, compiled as
// tmpl, opening its file if it is not open yet (a path with variables is
// opened as each line is written).
func (fs *Files) Logger(al config.AccessLog, f *config.LogFormat, tmpl *vars.Template, vc *vars.Compiler, opts LoggerOptions) (*Logger, error) {
	esc, ok := vars.ParseEscape(f.Escape)
	if !ok {
		esc = vars.EscapeDefault
	}
	l := &Logger{tmpl: tmpl, esc: esc}
	var err error
	if al.If != "" {
		if l.cond, err = vc.Compile(al.If); err != nil {
			return nil, fmt.Errorf("access_log if=: %w", err)
		}
	}
	if al.Vars {
		l.vp, err = fs.newVarPath(al, vc, opts)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	l.file, err = fs.open(al)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (fs *Files) path(p string) string {
	switch p {
	case "stderr", "/dev/stderr", "stdout", "/dev/stdout":
		return p
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(fs.prefix, p)
	}
	return p
}

func (fs *Files) open(al config.AccessLog) (*file, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := fs.path(al.Path)
	if !al.Pos.IsValid() {
		// The configuration has no access_log: nginx would write
		// logs/access.log under its prefix; wsgate runs in the
		// foreground and writes to standard output.
		p = "stdout"
	}
	if f, ok := fs.files[p]; ok {
		return f, nil
	}
	f := &file{path: p, flush: al.Flush, gzip: al.Gzip}
	if err := f.openLocked(); err != nil {
		return nil, err
	}
	if al.Buffer > 0 {
		f.bw = bufio.NewWriterSize(f.sink(), int(al.Buffer))
	}
	fs.files[p] = f
	return f, nil
}

// sink is where the buffer is flushed: the file, or with gzip= a writer
// that makes each flushed buffer a gzip member of its own, as nginx's
// ngx_http_log_gzip does, so that the file is valid at every flush and
// zcat reads it whole.
func (f *file) sink() io.Writer {
	if f.gzip == 0 {
		return f.out
	}
	return &gzipSink{out: f.out, level: f.gzip}
}

// gzipSink writes each Write as one gzip member, in one write to out.
type gzipSink struct {
	out   io.Writer
	level int
	buf   bytes.Buffer
	zw    *gzip.Writer
}

func (g *gzipSink) Write(p []byte) (int, error) {
	g.buf.Reset()
	if g.zw == nil {
		zw, err := gzip.NewWriterLevel(&g.buf, g.level)
		if err != nil {
			return 0, err
		}
		g.zw = zw
	} else {
		g.zw.Reset(&g.buf)
	}
	g.zw.Write(p)
	if err := g.zw.Close(); err != nil {
		return 0, err
	}
	if _, err := g.out.Write(g.buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (f *file) openLocked() error {
	switch f.path {
	case "stderr", "/dev/stderr":
		f.out = os.Stderr
		return nil
	case "stdout", "/dev/stdout":
		f.out = os.Stdout
		return nil
	}
	fh, err := OpenLog(f.path)
	if err != nil {
		return fmt.Errorf("opening log %q: %w", f.path, err)
	}
	f.f, f.out = fh, fh
	return nil
}

// OpenLog opens the log file at path for appending, creating it, without
// waiting: a named pipe that no process reads fails at once (ENXIO) where
// a blocking open would hold the start or reload, and every signal after
// it, until a reader came. A pipe that is read is written through Go's
// poller, so a slow reader holds only the writing goroutine.
func OpenLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0o644)
	if errors.Is(err, syscall.ENXIO) {
		return nil, fmt.Errorf("%w: a named pipe that no process reads; start its reader first", err)
	}
	return f, err
}

// Reopen closes and reopens every log file (nginx's USR1), flushing
// buffered lines first. Errors are collected; a file that cannot be reopened
// keeps its old descriptor.
func (fs *Files) Reopen() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var first error
	for _, f := range fs.files {
		f.mu.Lock()
		if f.bw != nil {
			f.bw.Flush()
		}
		if f.f != nil {
			old := f.f
			if err := f.openLocked(); err != nil {
				f.f, f.out = old, old
				if first == nil {
					first = err
				}
			} else {
				old.Close()
				if f.bw != nil {
					f.bw.Reset(f.sink())
				}
			}
		}
		f.mu.Unlock()
	}
	return first
}

// Close flushes and closes every file.
func (fs *Files) Close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for p, f := range fs.files {
		f.mu.Lock()
		if f.bw != nil {
			f.bw.Flush()
		}
		if f.timer != nil {
			f.timer.Stop()
		}
		if f.f != nil {
			f.f.Close()
		}
		f.mu.Unlock()
		delete(fs.files, p)
	}
	for k, c := range fs.caches {
		c.closeAll()
		delete(fs.caches, k)
	}
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Log writes c's line unless the if= condition is "" or "0".
func (l *Logger) Log(c *vars.Ctx) {
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	if l.cond != nil {
		b = l.cond.Append(b, c)
		if len(b) == 0 || (len(b) == 1 && b[0] == '0') {
			*bp = b
			linePool.Put(bp)
			return
		}
		b = b[:0]
	}
	b = l.tmpl.AppendEscaped(b, c, l.esc)
	b = append(b, '\n')
	if l.vp != nil {
		l.vp.write(c, b)
	} else {
		l.file.write(b)
	}
	*bp = b
	linePool.Put(bp)
}

func (f *file) write(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bw == nil {
		f.out.Write(b)
		return
	}
	if f.bw.Available() < len(b) {
		f.bw.Flush()
	}
	f.bw.Write(b)
	if f.flush > 0 && f.timer == nil {
		f.timer = time.AfterFunc(f.flush, func() {
			f.mu.Lock()
			f.bw.Flush()
			f.timer = nil
			f.mu.Unlock()
		})
	}
}
