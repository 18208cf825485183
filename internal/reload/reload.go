// Package reload runs wsgate: it loads a configuration, opens its
// listeners and serves it, and on a reload (SIGHUP, wsgate -s reload)
// loads the file again, builds and checks a new snapshot, reconciles the
// listeners and swaps the snapshot, keeping the running configuration on
// any error. Tunnels whose route is unchanged are not touched; tunnels on a
// removed or changed route are closed with a Close frame, paced over
// ws_drain_window. A graceful stop (QUIT) paces its Close frames the same
// way, within its time limit; a fast stop (TERM, INT) does not. Check is
// wsgate -t: the same load and compile as a start and a reload (compile),
// without publishing or listening.
package reload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/listen"
	"wsgate/internal/proxy"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
	"wsgate/internal/ws"
)

// Options configure a Server.
type Options struct {
	// ConfPath is the main configuration file (absolute); Prefix the
	// directory relative paths are resolved against; Globals the -g text.
	ConfPath, Prefix, Globals string
	// Version is wsgate's version for Server headers.
	Version string
	// Log receives wsgate's own messages; nil means slog.Default().
	Log *slog.Logger
	// Observe is passed to the proxy handler (see proxy.Handler.Observe).
	Observe func(proxy.Observation)
	// Resolver resolves upstream host names; nil means the system's.
	Resolver upstream.Resolver
}

// Server is a running wsgate.
type Server struct {
	opts      Options
	log       *slog.Logger
	listeners listen.Set
	ups       *upstream.Registry
	tunnels   *tunnel.Registry
	logs      *accesslog.Files
	handler   *proxy.Handler

	mu      sync.Mutex // serializes reloads and stops
	serving sync.WaitGroup
	stopped bool
}

// Start loads the configuration and serves it in background goroutines.
// Every configuration error is returned (a config.ErrorList), as is every
// listen error.
func Start(opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		opts:    opts,
		log:     log,
		ups:     upstream.NewRegistry(upstream.Options{Logger: log}),
		tunnels: tunnel.NewRegistry(),
		logs:    accesslog.NewFiles(opts.Prefix),
	}
	s.handler = &proxy.Handler{
		Version:   opts.Version,
		Upstreams: s.ups,
		Tunnels:   s.tunnels,
		Buffers:   tunnel.NewBufferPool(0),
		Logs:      s.logs,
		Log:       log,
		Observe:   opts.Observe,
	}
	st, err := s.load()
	if err != nil {
		s.logs.Close()
		return nil, err
	}
	added, _, err := s.listeners.Reconcile(wants(st.Snap.Spec))
	if err != nil {
		s.logs.Close()
		return nil, err
	}
	s.handler.Publish(st)
	st.Snap.Activate(s.ups)
	for _, l := range added {
		s.serve(l)
	}
	return s, nil
}

// load reads, checks and compiles the configuration file for s.
func (s *Server) load() (*proxy.State, error) {
	_, st, err := compile(s.opts, s.handler, s.ups)
	return st, err
}

func (s *Server) serve(l *listen.Listener) {
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.handler.Serve(l); err != nil {
			s.log.Error("serving stopped", "listen", l.Want.Addr, "err", err)
		}
	}()
}

// wants lists the listening sockets spec asks for.
func wants(spec *config.Spec) []listen.Want {
	var out []listen.Want
	seen := map[string]bool{}
	for _, srv := range spec.HTTP.Servers {
		for _, l := range srv.Listens {
			if seen[l.Addr] {
				continue
			}
			seen[l.Addr] = true
			out = append(out, listen.Want{Addr: l.Addr, ReusePort: l.ReusePort, Backlog: l.Backlog, IPv6Only: l.IPv6Only})
		}
	}
	return out
}

// Addrs returns the addresses being listened on.
func (s *Server) Addrs() []net.Addr {
	var out []net.Addr
	for _, l := range s.listeners.All() {
		out = append(out, l.Addr())
	}
	return out
}

// Tunnels returns the live tunnel registry.
func (s *Server) Tunnels() *tunnel.Registry { return s.tunnels }

// Reload loads the configuration again. On any error it logs every
// problem and keeps serving the running configuration. On success new
// connections and requests use the new one at once; listeners whose address
// is unchanged keep their sockets; tunnels on routes that are gone or
// changed are closed with the route's ws_reload_close_code, spread over its
// ws_drain_window.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("reloading: server is stopped")
	}
	old := s.handler.Current()
	st, err := s.load()
	if err != nil {
		s.log.Error("reload failed, keeping the running configuration", "err", err)
		return err
	}
	added, removed, err := s.listeners.Reconcile(wants(st.Snap.Spec))
	if err != nil {
		s.log.Error("reload failed, keeping the running configuration", "err", err)
		return err
	}
	s.handler.Publish(st)
	st.Snap.Activate(s.ups)
	for _, l := range added {
		s.serve(l)
	}
	for _, l := range removed {
		l.Close()
	}
	s.closeChangedTunnels(old, st)
	s.log.Info("configuration reloaded", "file", s.opts.ConfPath, "tunnels", s.tunnels.Len())
	return nil
}

// closeChangedTunnels closes, at frame boundaries, the tunnels whose route
// the new configuration no longer has, with the code and pacing of the
// route they were opened on.
func (s *Server) closeChangedTunnels(old, cur *proxy.State) {
	if old == nil {
		return
	}
	type policy struct {
		code   uint16
		spread time.Duration
	}
	policies := map[string]policy{}
	for _, loc := range old.Snap.Locs {
		if !cur.HasRoute(loc.Key) {
			code := uint16(loc.Conf.WS.ReloadClose)
			if code == 0 {
				code = ws.CloseServiceRestart
			}
			policies[loc.Key] = policy{code, loc.Conf.WS.DrainWindow}
		}
	}
	// Group by policy so each group is paced over its own window.
	groups := map[policy]map[string]bool{}
	for key, p := range policies {
		if groups[p] == nil {
			groups[p] = map[string]bool{}
		}
		groups[p][key] = true
	}
	for p, keys := range groups {
		n := s.tunnels.CloseWhere(func(i tunnel.Info) bool { return keys[i.Route] }, p.code, "route changed by reload", p.spread)
		if n > 0 {
			s.log.Info("closing tunnels on changed routes", "tunnels", n, "code", p.code, "window", p.spread)
		}
	}
}

// Reopen reopens the log files (USR1).
func (s *Server) Reopen() error { return s.logs.Reopen() }

// closeMargin is what a graceful stop keeps of its time limit for the
// closing handshakes after its last Close request: a tunnel's own bound
// for its close (tunnel.DefaultCloseTimeout).
const closeMargin = tunnel.DefaultCloseTimeout

// Shutdown is the graceful stop (QUIT): stop accepting at once, finish the
// HTTP requests in flight, send Close 1001 to every tunnel at a frame
// boundary, spread evenly over the ws_drain_window of the location each
// tunnel was opened on, and wait for the closing handshakes. ctx bounds the
// whole: the spread is cut so that it ends closeMargin before ctx's
// deadline (at once when the deadline is nearer than that), and whatever is
// still open at the deadline is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.mu.Unlock()
	s.listeners.CloseAll()
	s.handler.Drain()
	maxSpread := time.Duration(math.MaxInt64)
	deadline, ok := ctx.Deadline()
	if ok {
		maxSpread = time.Until(deadline) - closeMargin
	}
	if n := s.tunnels.Len(); n > 0 && ok {
		s.log.Info("closing tunnels over their ws_drain_window", "tunnels", n, "code", ws.CloseGoingAway, "max_window", max(maxSpread, 0))
	}
	err := s.tunnels.Shutdown(ctx, ws.CloseGoingAway, maxSpread)
	wait := 10 * time.Second
	if ok {
		wait = time.Until(deadline)
	}
	if !s.handler.Wait(wait) {
		s.handler.CloseConns()
		if err == nil {
			err = ctx.Err()
		}
	}
	s.serving.Wait()
	s.ups.Close()
	s.logs.Close()
	return err
}

// Stop is the fast stop (TERM, INT): stop accepting, Close frames to all
// tunnels at once (ws_drain_window does not apply) where the sockets allow
// within a short bound, then close everything.
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	s.listeners.CloseAll()
	s.handler.Drain()
	s.tunnels.Shutdown(ctx, ws.CloseGoingAway, 0)
	s.handler.CloseConns()
	s.handler.Wait(time.Second)
	s.serving.Wait()
	s.ups.Close()
	s.logs.Close()
}

// Signals are nginx's: HUP reload, QUIT graceful stop, TERM and INT fast
// stop, USR1 reopen logs.
var Signals = []os.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1}

// Run serves until a stop signal, handling nginx's signals. shutdownTimeout
// bounds the graceful stop.
func (s *Server) Run(shutdownTimeout time.Duration) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, Signals...)
	defer signal.Stop(ch)
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
	var sig syscall.Signal
	switch command {
	case "stop":
		sig = syscall.SIGTERM
	case "quit":
		sig = syscall.SIGQUIT
	case "reopen":
		sig = syscall.SIGUSR1
	case "reload":
		sig = syscall.SIGHUP
	default:
		return fmt.Errorf("invalid signal %q", command)
	}
	return syscall.Kill(pid, sig)
}
