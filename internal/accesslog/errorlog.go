package accesslog

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"wsgate/internal/config"
)

// Levels maps nginx's error_log levels to slog levels: debug, info and
// notice are below warn (info, LevelInfo-2, below slog's info, which is
// nginx's notice); crit, alert and emerg are above error.
var Levels = map[string]slog.Level{
	"debug":  slog.LevelDebug,
	"info":   LevelInfo,
	"notice": slog.LevelInfo,
	"warn":   slog.LevelWarn,
	"error":  slog.LevelError,
	"crit":   slog.LevelError + 1,
	"alert":  slog.LevelError + 2,
	"emerg":  slog.LevelError + 3,
}

// LevelInfo is nginx's info level, which a line logged at slog's info
// (nginx's notice) is above.
const LevelInfo = slog.LevelInfo - 2

// ErrorLog is a slog.Handler writing nginx's error log line shape:
// "2006/01/02 15:04:05 [error] PID#0: message, key: value, key: value".
type ErrorLog struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	pid   string
}

// NewErrorLog returns a handler writing lines at or above level to w.
func NewErrorLog(w io.Writer, level slog.Level) *ErrorLog {
	return &ErrorLog{mu: &sync.Mutex{}, w: w, level: level, pid: strconv.Itoa(os.Getpid())}
}

func (h *ErrorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *ErrorLog) Handle(_ context.Context, r slog.Record) error {
	b := make([]byte, 0, 256)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = t.AppendFormat(b, "2006/01/02 15:04:05")
	b = append(b, " ["...)
	b = append(b, levelName(r.Level)...)
	b = append(b, "] "...)
	b = append(b, h.pid...)
	b = append(b, "#0: "...)
	b = append(b, r.Message...)
	add := func(a slog.Attr) bool {
		b = append(b, ", "...)
		b = append(b, a.Key...)
		b = append(b, ": "...)
		b = append(b, a.Value.String()...)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b = append(b, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

func (h *ErrorLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &n
}

func (h *ErrorLog) WithGroup(string) slog.Handler { return h }

func levelName(l slog.Level) string {
	switch {
	case l < LevelInfo:
		return "debug"
	case l < slog.LevelInfo:
		return "info"
	case l < slog.LevelWarn:
		return "notice"
	case l < slog.LevelError:
		return "warn"
	case l == slog.LevelError:
		return "error"
	case l == slog.LevelError+1:
		return "crit"
	case l == slog.LevelError+2:
		return "alert"
	}
	return "emerg"
}

// ErrorLogger is the logger of the error_log directives of an http,
// server or location level (nginx switches a request's log to its
// location's, ngx_http_update_location_config): every target receives
// the lines at or above its own level. The files are the set's, shared
// with access logs of the same path and reopened with them.
func (fs *Files) ErrorLogger(logs []config.ErrorLog) (*slog.Logger, error) {
	hs := make(multiHandler, 0, len(logs))
	for _, el := range logs {
		f, err := fs.open(config.AccessLog{Pos: el.Pos, Path: el.Path})
		if err != nil {
			return nil, err
		}
		lv, ok := Levels[el.Level]
		if !ok {
			lv = slog.LevelError
		}
		hs = append(hs, NewErrorLog(fileWriter{f}, lv))
	}
	if len(hs) == 1 {
		return slog.New(hs[0]), nil
	}
	return slog.New(hs), nil
}

// fileWriter writes whole lines to a shared log file.
type fileWriter struct{ f *file }

func (w fileWriter) Write(b []byte) (int, error) {
	w.f.write(b)
	return len(b), nil
}

// multiHandler sends a record to every handler that takes its level.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range m {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (m multiHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := make(multiHandler, len(m))
	for i, h := range m {
		n[i] = h.WithAttrs(attrs)
	}
	return n
}

func (m multiHandler) WithGroup(name string) slog.Handler {
	n := make(multiHandler, len(m))
	for i, h := range m {
		n[i] = h.WithGroup(name)
	}
	return n
}
