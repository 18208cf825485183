package accesslog

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// Levels maps nginx's error_log levels to slog levels: debug, info and
// notice are below warn; crit, alert and emerg are above error.
var Levels = map[string]slog.Level{
	"debug":  slog.LevelDebug,
	"info":   slog.LevelInfo,
	"notice": slog.LevelInfo,
	"warn":   slog.LevelWarn,
	"error":  slog.LevelError,
	"crit":   slog.LevelError + 1,
	"alert":  slog.LevelError + 2,
	"emerg":  slog.LevelError + 3,
}

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
	case l < slog.LevelInfo:
		return "debug"
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
