package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/server"
)

// shutdownTimeout bounds a graceful stop (QUIT): the HTTP requests in
// flight, the Close frames spread over each tunnel's ws_drain_window (cut
// to end a closing handshake's bound, 5 s, before this) and the closing
// handshakes.
const shutdownTimeout = 30 * time.Second

// serve runs wsgate in the foreground until a stop signal.
func serve(o *options, confPath, prefix string, stderr io.Writer) int {
	sigs := server.Notify()
	defer signal.Stop(sigs)
	spec, errs := loadConfig(o, confPath, prefix)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		logStartFailure(o, prefix, errs)
		return 1
	}
	log, closeLog, err := errorLog(o, spec, prefix, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wsgate: [emerg] %v\n", err)
		logStartFailure(o, prefix, err)
		return 1
	}
	defer closeLog()
	if n := spec.Main.WorkerRlimitNofile; n > 0 {
		raiseNofile(uint64(n), log)
	} else {
		raiseNofile(0, log)
	}
	srv, err := server.Start(server.Options{Spec: spec, ConfPath: confPath, Prefix: prefix, Globals: o.globals, Version: version, Log: log})
	if err != nil {
		printErrors(stderr, err)
		if !isStderr(logPath(o, spec)) {
			logErrors(log, err)
		}
		return 1
	}
	pidPath := pidFile(spec, confPath, prefix)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		log.Warn("writing pid file", "path", pidPath, "err", err)
	} else {
		defer os.Remove(pidPath)
	}
	var addrs []string
	for _, a := range srv.Addrs() {
		addrs = append(addrs, a.String())
	}
	go trimMemory()
	log.Info("wsgate started", "version", version, "config", confPath, "listen", strings.Join(addrs, " "), "pid", os.Getpid())
	srv.Run(sigs, shutdownTimeout)
	log.Info("wsgate stopped")
	return 0
}

// logPath is the error log's path: -e, else the first error_log
// directive, else "stderr".
func logPath(o *options, spec *config.Spec) string {
	switch {
	case o.errLog != "":
		return o.errLog
	case len(spec.Main.ErrorLogs) > 0:
		return spec.Main.ErrorLogs[0].Path
	}
	return "stderr"
}

func isStderr(path string) bool { return path == "stderr" || path == "/dev/stderr" }

// errorLog opens the error log at logPath.
func errorLog(o *options, spec *config.Spec, prefix string, stderr io.Writer) (*slog.Logger, func(), error) {
	path, level := logPath(o, spec), "error"
	if len(spec.Main.ErrorLogs) > 0 && spec.Main.ErrorLogs[0].Level != "" {
		level = spec.Main.ErrorLogs[0].Level
	}
	lv, ok := accesslog.Levels[level]
	if !ok {
		lv = slog.LevelError
	}
	// wsgate's start, reload and stop notices are worth seeing in the
	// foreground even at nginx's default level.
	if lv > slog.LevelInfo {
		lv = slog.LevelInfo
	}
	var w io.Writer = stderr
	closeFn := func() {}
	if !isStderr(path) {
		if !filepath.IsAbs(path) {
			path = filepath.Join(prefix, path)
		}
		f, err := accesslog.OpenLog(path)
		if err != nil {
			return nil, nil, fmt.Errorf("opening error log: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	return slog.New(accesslog.NewErrorLog(w, lv)), closeFn, nil
}

// logStartFailure writes a start's configuration errors to the -e error
// log as well as to standard error, as nginx does before its
// configuration's own error_log can take over: a tool that reads the log
// finds why the process did not start. Without -e the log is standard
// error, which has them already.
func logStartFailure(o *options, prefix string, err error) {
	path := o.errLog
	if path == "" || isStderr(path) {
		return
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(prefix, path)
	}
	f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if ferr != nil {
		return // standard error has the errors
	}
	defer f.Close()
	logErrors(slog.New(accesslog.NewErrorLog(f, slog.LevelInfo)), err)
}

// logErrors writes each configuration error as an "[emerg]" line.
func logErrors(log *slog.Logger, err error) {
	emerg := accesslog.Levels["emerg"]
	var el config.ErrorList
	if !errors.As(err, &el) {
		log.Log(context.Background(), emerg, err.Error())
		return
	}
	for _, e := range el {
		log.Log(context.Background(), emerg, e.Error())
	}
}

// pidFile is the pid directive's path, or one derived from the
// configuration file's path in the temporary directory, so that -s finds
// the process of the same configuration without a pid directive.
func pidFile(spec *config.Spec, confPath, prefix string) string {
	if p := spec.Main.PID; p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(prefix, p)
		}
		return p
	}
	sum := sha256.Sum256([]byte(confPath))
	return filepath.Join(os.TempDir(), "wsgate-"+hex.EncodeToString(sum[:6])+".pid")
}

// sendSignal is -s: signal the running wsgate of this configuration.
func sendSignal(o *options, confPath, prefix string, stderr io.Writer) int {
	spec, errs := loadConfig(o, confPath, prefix)
	if len(errs) > 0 && spec == nil {
		for _, e := range errs {
			fmt.Fprintf(stderr, "wsgate: [emerg] %s\n", e.Error())
		}
		return 1
	}
	path := pidFile(spec, confPath, prefix)
	// A pid file holds a number and a newline; what is not a small
	// regular file is not one.
	b, err := config.ReadFile(path, 4<<10)
	if err != nil {
		fmt.Fprintf(stderr, "wsgate: [error] open() %q failed (%v)\n", path, err)
		return 1
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		fmt.Fprintf(stderr, "wsgate: [error] invalid PID number %q in %q\n", strings.TrimSpace(string(b)), path)
		return 1
	}
	if err := server.Signal(pid, o.signal); err != nil {
		fmt.Fprintf(stderr, "wsgate: [error] kill(%d) failed (%v)\n", pid, err)
		return 1
	}
	return 0
}
