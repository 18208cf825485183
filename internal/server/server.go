// Package server is wsgate's process root. It takes configurations from a
// Source, builds each into a snapshot.Snapshot and publishes it with one
// atomic pointer; it owns the listening sockets (kept across reloads), the
// accept loops, the connection workers, TLS with ALPN, the HTTP/1.x
// connection loop, reload, graceful and fast stop, and nginx's signals.
// Each request goes, as an exchange.Request with an exchange.ResponseWriter,
// to the request pipeline (internal/pipeline), which runs nginx's phases
// and the content handler its location chose; conn.go wires a connection's
// pipeline and its content handlers (the proxy).
//
// A reload builds and checks a whole new snapshot before anything
// changes; on any error it logs every problem and the running
// configuration keeps serving. Tunnels whose route is unchanged are not
// touched; tunnels on a removed or changed route are closed with a Close
// frame, paced over ws_drain_window. A graceful stop (QUIT) paces its
// Close frames the same way, within its time limit; a fast stop (TERM,
// INT) does not. Check is wsgate -t: the same build as a start and a
// reload, without publishing or listening.
package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"wsgate/internal/cache"
	"wsgate/internal/limit"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/connstats"
	"wsgate/internal/dns"
	"wsgate/internal/files"
	"wsgate/internal/listen"
	"wsgate/internal/metrics"
	"wsgate/internal/ocsp"
	"wsgate/internal/pipeline"
	"wsgate/internal/proxy"
	"wsgate/internal/snapshot"
	"wsgate/internal/status"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
	"wsgate/internal/ws"
)

// Options configure a Server.
type Options struct {
	// Source gives the configuration at start (unless Spec is set) and at
	// every reload. Nil means FileSource(ConfPath, Globals).
	Source Source
	// Spec, when set, is the first configuration, already loaded and
	// checked (the command line has read it for the error log and the pid
	// file): Start does not load it again.
	Spec *config.Spec
	// ConfPath is the main configuration file (absolute), for the default
	// Source and for log lines; Globals is the -g text.
	ConfPath, Globals string
	// Prefix is the directory relative log paths are resolved against.
	Prefix string
	// Version is wsgate's version for Server headers.
	Version string
	// Log receives wsgate's own messages; nil means slog.Default().
	Log *slog.Logger
	// Observer is passed to the proxy handler (see proxy.Observer); nil
	// for none.
	Observer proxy.Observer
	// Resolver resolves upstream host names; nil means the system's.
	Resolver upstream.Resolver
}

// Server is a running wsgate.
type Server struct {
	opts      Options
	source    Source
	log       *slog.Logger
	listeners listen.Set
	h3        h3Set // HTTP/3 on the listeners' UDP sockets
	ups       *upstream.Registry
	dns       *dns.Registry
	staples   *ocsp.Stapler   // OCSP responses (ssl_stapling), across reloads
	limits    *limit.Registry // limit_req and limit_conn zones, across reloads
	caches    *cache.Registry // proxy_cache zones, across reloads
	tunnels   *tunnel.Registry
	logs      *accesslog.Files
	files     *files.Cache // small static files' contents, across reloads
	// current is the published snapshot: the one pointer a reload swaps.
	current atomic.Pointer[snapshot.Snapshot]
	// pipe runs each request's phases; proxy is the content handler of
	// the locations that proxy.
	pipe  *pipeline.Pipeline
	proxy *proxy.Handler
	// metrics count for ws_metrics and ws_status, across reloads; they
	// count while the published configuration has such a location.
	metrics *metrics.Metrics
	status  status.Handler // ws_status's page and feed

	serial atomic.Uint64
	// stats are stub_status's counters, the process's: they outlive
	// every snapshot.
	stats    connstats.Counters
	conns    connSet
	parked   parkedSet // idle connections without a goroutine (park.go)
	draining atomic.Bool
	// work hands accepted connections to idle workers (accept.go).
	work        chan connJob
	idleWorkers atomic.Int32

	mu      sync.Mutex // serializes reloads and stops
	serving sync.WaitGroup
	stopped bool
}

// Start builds the first configuration and serves it in background
// goroutines. Every configuration error is returned (a config.ErrorList),
// as is every listen error.
func Start(opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		opts:    opts,
		source:  opts.Source,
		log:     log,
		ups:     upstream.NewRegistry(upstream.Options{Logger: log}),
		dns:     dns.NewRegistry(dns.Options{Logger: log}),
		tunnels: tunnel.NewRegistry(),
		logs:    accesslog.NewFiles(opts.Prefix),
		staples: ocsp.New(log),
		files:   files.NewCache(),
		limits:  limit.NewRegistry(nil),
		caches:  cache.NewRegistry(log),
		work:    make(chan connJob),
	}
	if s.source == nil {
		s.source = FileSource(opts.ConfPath, opts.Globals)
	}
	s.pipe = &pipeline.Pipeline{Snapshot: &s.current, Log: log, Stats: &s.stats}
	s.metrics = metrics.New(metrics.Options{
		Upstreams: func() *upstream.Set { return s.current.Load().Upstreams },
		Conns:     &s.stats,
	})
	s.status = status.Handler{M: s.metrics, Upstreams: func() *upstream.Set { return s.current.Load().Upstreams }, Stopping: &s.draining}
	s.proxy = &proxy.Handler{
		Conns:    &s.stats,
		Tunnels:  s.tunnels,
		Buffers:  tunnel.NewBufferPool(0),
		Log:      log,
		Observer: proxy.Observers(s.metrics, opts.Observer),
		Finish:   s.pipe,
	}
	// The log phase tells the proxy's observers of every request.
	s.pipe.Observer = s.proxy
	spec := opts.Spec
	if spec == nil {
		var err error
		if spec, err = s.source(); err != nil {
			s.logs.Close()
			s.staples.Close()
			s.caches.Close()
			return nil, err
		}
	}
	snap, err := s.build(spec)
	if err != nil {
		s.logs.Close()
		s.staples.Close()
		s.caches.Close()
		return nil, err
	}
	added, _, err := s.listeners.Reconcile(wants(snap))
	if err != nil {
		s.logs.Close()
		s.staples.Close()
		s.caches.Close()
		return nil, err
	}
	s.publish(snap)
	for _, l := range added {
		s.serve(l)
	}
	return s, nil
}

// build compiles spec into a snapshot with the server's registries (see
// the package function build); nothing is published.
func (s *Server) build(spec *config.Spec) (*snapshot.Snapshot, error) {
	return build(spec, &snapshot.Env{
		Upstreams: s.ups,
		Resolver:  s.opts.Resolver,
		DNS:       s.dns,
		Logs:      s.logs,
		Staples:   s.staples,
		Limits:    s.limits,
		Caches:    s.caches,
		Version:   s.opts.Version,
		Prefix:    s.opts.Prefix,
		Log:       s.log,
		Files:     s.files,
	})
}

func (s *Server) serve(l *listen.Listener) {
	if l.Packet != nil {
		s.serveQUIC(l)
		return
	}
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.acceptLoop(l); err != nil {
			s.log.Error("serving stopped", "listen", l.Want.Addr, "err", err)
		}
	}()
}

// wants lists the listening sockets snap asks for.
func wants(snap *snapshot.Snapshot) []listen.Want {
	out := make([]listen.Want, 0, len(snap.Listens))
	for _, l := range snap.Listens {
		out = append(out, listen.Want{Addr: l.Addr, ReusePort: l.ReusePort, Backlog: l.Backlog, IPv6Only: l.IPv6Only})
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

// Stats reads the client connection counters (stub_status).
func (s *Server) Stats() connstats.Stats { return s.stats.Load() }

// Tunnels returns the live tunnel registry.
func (s *Server) Tunnels() *tunnel.Registry { return s.tunnels }

// Current returns the published snapshot.
func (s *Server) Current() *snapshot.Snapshot { return s.current.Load() }

// Reload takes the configuration from the Source again. On any error it
// logs every problem and keeps serving the running configuration. On
// success new connections and requests use the new one at once; listeners
// whose address is unchanged keep their sockets; tunnels on routes that
// are gone or changed are closed with the route's ws_reload_close_code,
// spread over its ws_drain_window.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("reloading: server is stopped")
	}
	old := s.current.Load()
	snap, err := s.load()
	if err != nil {
		s.log.Error("reload failed, keeping the running configuration", "err", err)
		return err
	}
	added, removed, err := s.listeners.Reconcile(wants(snap))
	if err != nil {
		s.log.Error("reload failed, keeping the running configuration", "err", err)
		return err
	}
	s.publish(snap)
	s.updateQUIC(snap)
	for _, l := range added {
		s.serve(l)
	}
	for _, l := range removed {
		if l.Packet != nil {
			s.closeQUIC(l.Want.Addr)
		}
		l.Close()
	}
	s.closeChangedTunnels(old, snap)
	s.log.Info("configuration reloaded", "file", s.opts.ConfPath, "tunnels", s.tunnels.Len())
	return nil
}

// publish makes snap the configuration requests get, and the metrics
// follow it.
func (s *Server) publish(snap *snapshot.Snapshot) {
	s.metrics.Retain(snap)
	s.metrics.SetEnabled(metrics.Wanted(snap))
	s.current.Store(snap)
	snap.Activate(s.ups)
}

// Metrics returns the process's metrics (ws_metrics, ws_status).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// load takes a configuration from the Source and builds it.
func (s *Server) load() (*snapshot.Snapshot, error) {
	spec, err := s.source()
	if err != nil {
		return nil, err
	}
	return s.build(spec)
}

// closeChangedTunnels closes, at frame boundaries, the tunnels whose route
// the new configuration no longer has, with the code and pacing of the
// route they were opened on.
func (s *Server) closeChangedTunnels(old, cur *snapshot.Snapshot) {
	if old == nil {
		return
	}
	// Group by policy so each group is paced over its own window.
	groups := map[snapshot.RouteClose]map[string]bool{}
	for key, p := range old.ClosedRoutes(cur) {
		if groups[p] == nil {
			groups[p] = map[string]bool{}
		}
		groups[p][key] = true
	}
	for p, keys := range groups {
		n := s.tunnels.CloseWhere(func(i tunnel.Info) bool { return keys[i.Route] }, p.Code, "route changed by reload", p.Window)
		if n > 0 {
			s.log.Info("closing tunnels on changed routes", "tunnels", n, "code", p.Code, "window", p.Window)
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
	// The UDP sockets carry the open QUIC connections: they close after
	// them.
	s.listeners.CloseWhere(func(l *listen.Listener) bool { return !isPacket(l) })
	waitQUIC := s.stopQUIC(ctx, true)
	s.drain()
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
	if !s.waitConns(wait) {
		s.closeConns()
		if err == nil {
			err = ctx.Err()
		}
	}
	waitQUIC()
	s.listeners.CloseAll()
	s.serving.Wait()
	s.ups.Close()
	s.logs.Close()
	s.staples.Close()
	s.caches.Close()
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
	s.listeners.CloseWhere(func(l *listen.Listener) bool { return !isPacket(l) })
	s.drain()
	s.tunnels.Shutdown(ctx, ws.CloseGoingAway, 0)
	s.stopQUIC(ctx, false)
	s.listeners.CloseAll()
	s.closeConns()
	s.waitConns(time.Second)
	s.serving.Wait()
	s.ups.Close()
	s.logs.Close()
	s.staples.Close()
	s.caches.Close()
}
