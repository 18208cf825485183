package server

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Signals are nginx's: HUP reload, QUIT graceful stop, TERM and INT fast
// stop, USR1 reopen logs.
var Signals = []os.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1}

// Notify starts delivering nginx's signals to the channel it returns, for
// Run. A process registers before it opens its listeners and writes its
// pid file: a signal sent as soon as either shows (`wsgate -s reload`
// right after a start) then waits for Run instead of ending the process,
// which is Go's default for a HUP nobody asked for.
func Notify() chan os.Signal {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, Signals...)
	return ch
}

// Run serves until a stop signal arrives on ch (Notify's), handling
// nginx's signals, and then stops ch's delivery. shutdownTimeout bounds
// the graceful stop.
func (s *Server) Run(ch chan os.Signal, shutdownTimeout time.Duration) {
	defer signal.Stop(ch)
	s.handleSignals(ch, shutdownTimeout)
}

// handleSignals acts on the signals from ch until a stop signal has been
// handled (the server is then stopped) or ch is closed.
func (s *Server) handleSignals(ch <-chan os.Signal, shutdownTimeout time.Duration) {
	for sig := range ch {
		switch sig {
		case syscall.SIGHUP:
			s.log.Info("reloading configuration", "signal", "HUP")
			s.Reload()
		case syscall.SIGUSR1:
			if err := s.Reopen(); err != nil {
				s.log.Error("reopening logs", "err", err)
			}
		case syscall.SIGQUIT:
			s.log.Info("graceful shutdown", "signal", "QUIT", "tunnels", s.tunnels.Len())
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := s.Shutdown(ctx); err != nil {
				s.log.Warn("graceful shutdown ended early", "err", err)
			}
			cancel()
			return
		case syscall.SIGTERM, syscall.SIGINT:
			s.log.Info("fast shutdown", "signal", sig.String())
			s.Stop()
			return
		}
	}
}

// Signal sends nginx's signal for a -s command to pid.
func Signal(pid int, command string) error {
	sig, err := signalFor(command)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}

// signalFor maps a -s command to nginx's signal.
func signalFor(command string) (syscall.Signal, error) {
	switch command {
	case "stop":
		return syscall.SIGTERM, nil
	case "quit":
		return syscall.SIGQUIT, nil
	case "reopen":
		return syscall.SIGUSR1, nil
	case "reload":
		return syscall.SIGHUP, nil
	}
	return 0, fmt.Errorf("invalid signal %q", command)
}
