package proxy

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"wsgate/internal/accesslog"
	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/runtime"
	"wsgate/internal/tunnel"
	"wsgate/internal/upstream"
)

// Handler serves client connections with the published configuration. One
// Handler lives as long as the process; a reload publishes a new State and
// requests and tunnels in flight keep the State they started with.
type Handler struct {
	// Version is wsgate's version, for Server headers (server_tokens on).
	Version string
	// Upstreams is the process's long-lived upstream registry.
	Upstreams *upstream.Registry
	// Tunnels holds the live tunnels (reload and shutdown close them).
	Tunnels *tunnel.Registry
	// Buffers lends relay buffers to tunnels.
	Buffers *tunnel.BufferPool
	// Logs are the open access and error log files, reopened on USR1.
	Logs *accesslog.Files
	// Log receives wsgate's own messages (nginx's error_log).
	Log *slog.Logger
	// Observe, when set, is told which location and upstream served each
	// request (the demo page shows it). It must be fast.
	Observe func(Observation)

	state    atomic.Pointer[State]
	serial   atomic.Uint64
	conns    connSet
	draining atomic.Bool

	// work hands accepted connections to idle workers (serve.go).
	workOnce    sync.Once
	work        chan connJob
	idleWorkers atomic.Int32
}

// Observation is what Handler.Observe receives for each request.
type Observation struct {
	Server   string // $server_name
	Location string // "location /ws/"
	Upstream string // $upstream_addr, "" when not proxied
	Status   int
	Tunnel   bool
}

// State is one published configuration: the runtime snapshot and what the
// proxy compiled for each of its locations.
type State struct {
	Snap *runtime.Snapshot
	locs map[*config.LocConf]*locPlan
	// tls is the TLS configuration of each "listen ... ssl" address.
	tls map[string]*tls.Config
}

// locPlan is what one location needs at request time.
type locPlan struct {
	rt      *runtime.Loc
	headers *HeaderPlan
	resp    *ResponsePlan
	target  TargetRule
	// proxyHost and proxyPort are $proxy_host and $proxy_port of a
	// proxy_pass without variables.
	proxyHost, proxyPort string
	limits               http1.RequestLimits
	server               ServerInfo
	logs                 []*accesslog.Logger
	// readTimeout and sendTimeout are proxy_read_timeout and
	// proxy_send_timeout, which nginx keeps applying to an upgraded
	// connection: the tunnel's timeouts after a 101.
	readTimeout, sendTimeout time.Duration
}

// Compile prepares snap for serving: header plans, response plans and
// access logs for every location. Nothing is published.
func (h *Handler) Compile(snap *runtime.Snapshot) (*State, error) {
	st := &State{Snap: snap, locs: make(map[*config.LocConf]*locPlan, len(snap.Locs))}
	compile := CompileWith(snap.Vars)
	formats := map[string]*config.LogFormat{}
	for _, f := range snap.Spec.HTTP.LogFormats {
		formats[f.Name] = f
	}
	var errs config.ErrorList
	addErr := func(pos config.Pos, what string, err error) {
		var ce *config.Error
		if errors.As(err, &ce) {
			errs = append(errs, ce)
			return
		}
		errs.Add(pos, "%s: %v", what, err)
	}
	for lc, rl := range snap.Locs {
		p := &locPlan{rt: rl}
		var err error
		path, isRegex := "", false
		if l := rl.Location; l != nil {
			path = l.Path
			isRegex = l.Match == config.MatchRegex || l.Match == config.MatchRegexNoCase
		}
		if p.headers, err = NewHeaderPlan(lc, compile); err != nil {
			addErr(posOf(rl), "proxy_set_header", err)
			continue
		}
		if p.resp, err = NewResponsePlan(lc, path, isRegex, h.Version, compile); err != nil {
			addErr(posOf(rl), "proxy_redirect", err)
			continue
		}
		if lc.ProxyPass != nil {
			p.target = NewTargetRule(lc.ProxyPass, path, isRegex)
			p.proxyHost, p.proxyPort = ProxyHost(lc.ProxyPass), ProxyPort(lc.ProxyPass)
		}
		p.limits = http1.RequestLimits{
			ClientMaxBodySize: lc.ClientMaxBodySize,
			ClientBodyTimeout: lc.ClientBodyTimeout,
			SendTimeout:       lc.SendTimeout,
			KeepaliveTimeout:  lc.KeepaliveTimeout,
			KeepaliveRequests: lc.KeepaliveRequests,
		}
		p.server = ServerInfo{Version: h.Version, Tokens: lc.ServerTokens}
		p.readTimeout = lc.ProxyReadTimeout
		p.sendTimeout = lc.ProxySendTimeout
		if !lc.AccessLogOff && h.Logs != nil {
			for _, al := range lc.AccessLogs {
				f, tmpl := formats[al.Format], snap.LogFormats[al.Format]
				if f == nil {
					errs.Add(al.Pos, "unknown log format %q", al.Format)
					continue
				}
				if tmpl == nil {
					continue // the log_format's own error is reported
				}
				lg, err := h.Logs.Logger(al, f, tmpl, snap.Vars)
				if err != nil {
					errs.Add(al.Pos, "%v", err)
					continue
				}
				p.logs = append(p.logs, lg)
			}
		}
		st.locs[lc] = p
	}
	st.tls, errs = buildTLS(snap, errs)
	if len(errs) > 0 {
		// A setting inherited by many locations fails in each of them:
		// say it once.
		return nil, errs.Dedup()
	}
	return st, nil
}

func posOf(l *runtime.Loc) config.Pos {
	if l.Location != nil {
		return l.Location.Pos
	}
	return l.Server.Pos
}

// Publish makes st the configuration for new requests and tunnels.
func (h *Handler) Publish(st *State) { h.state.Store(st) }

// Current returns the published State (nil before the first Publish).
func (h *Handler) Current() *State { return h.state.Load() }

// HasRoute reports whether st has a route with this key: a tunnel whose
// route key is gone was opened on a route that the reload removed or changed.
func (st *State) HasRoute(key string) bool { return st.Snap.Keys[key] }
