// Package snapshot compiles a checked configuration into a Snapshot: the
// route table, the variable compiler with its maps, the rewrite module's
// directives (internal/rewrite), the upstream pools, the TLS and
// connection settings of every listening address, and per location
// everything a request needs (its content handler, header and response
// plans, the upstream target rule, access logs, the route key that decides
// whether a tunnel survives a reload), for each location, each server's
// own level and each if block's nested configuration. A Snapshot never
// changes once built: the server publishes it with one atomic pointer and
// the content handlers read it. The state that outlives a reload (upstream
// health and counts, open log files) belongs to the long-lived registries
// of Env.
//
// Everything a configuration can get wrong past config's checks is found
// here, all at once, before anything is published: -t (server.Check), the
// first start and every reload run the same Build.
package snapshot

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"wsgate/internal/access"
	"wsgate/internal/accesslog"
	"wsgate/internal/bodyfilter"
	"wsgate/internal/cache"
	"wsgate/internal/config"
	"wsgate/internal/dns"
	"wsgate/internal/errorpage"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/headers"
	"wsgate/internal/limit"
	"wsgate/internal/ocsp"
	"wsgate/internal/rewrite"
	"wsgate/internal/route"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
	"wsgate/internal/ws"
)

// Snapshot is one configuration, compiled.
type Snapshot struct {
	Spec   *config.Spec
	Routes *route.Table
	Vars   *vars.Compiler
	// Rewrite is the rewrite module's directives of every server and
	// location, compiled: what requests run before content.
	Rewrite *rewrite.Set
	// LogFormats holds every log_format, compiled, by name.
	LogFormats map[string]*vars.Template
	Upstreams  *upstream.Set
	// Locs holds, for every effective configuration a request can end up
	// with (each location's and each server's own, an if block's, a
	// limit_except block's with a proxy_pass), what was compiled for it.
	// Keyed by the pointer route.Match.Conf returns.
	Locs map[*config.LocConf]*Loc
	// Keys is the set of route keys of this snapshot: a tunnel whose key is
	// not in it was opened on a route that a reload removed or changed.
	Keys map[string]bool
	// Listens are the listening addresses, in the order the configuration
	// first names them.
	Listens  []*Listen
	listenAt map[string]*Listen
	// Resolvers are the resolvers the locations use (see Loc.Resolver),
	// from dns, the registry Activate keeps them in.
	Resolvers []*dns.Resolver
	dns       *dns.Registry
	// limits are the limit_req and limit_conn zones, whose states
	// Activate hands to the next snapshot.
	limits *limit.Zones
	// caches are the proxy_cache_path zones, which Activate starts.
	caches []*cache.Zone
	// cacheReg is the registry the zones came from (nil: none).
	cacheReg *cache.Registry
}

// Loc is what one location (or a server's own level) compiled to.
type Loc struct {
	// Snapshot is the snapshot the location belongs to.
	Snapshot *Snapshot
	Conf     *config.LocConf
	Location *config.Location // nil for the server level
	Server   *config.Server
	// Key identifies the route for tunnels across reloads: equal keys mean
	// the server, the location and every setting a tunnel depends on are
	// unchanged.
	Key string
	// Name is a short human name for logs and the demo page:
	// "location /ws/" or "server level".
	Name string
	// Pool is the upstream of a proxy_pass without variables; nil for one
	// with variables (PassURL is set) or when the location does not proxy.
	Pool *upstream.Pool
	// PassURL is the compiled proxy_pass URL when it has variables.
	PassURL *vars.Template
	// Proxy is proxy_method, proxy_set_body, proxy_bind and the other
	// settings of upstream connections; nil when the location does not
	// proxy.
	Proxy *ProxyOptions
	// Resolver is the resolver directive's (nil without one): it looks up
	// the host of PassURL when that names no upstream{} block and is no
	// IP address.
	Resolver *dns.Resolver
	// UpstreamTLS is how an https:// upstream is spoken to (proxy_ssl_*);
	// nil when proxy_pass can name no https URL.
	UpstreamTLS *UpstreamTLS
	// HashKey is the compiled "hash KEY" of Pool, when it hashes.
	HashKey *vars.Template
	// ErrorPages are the location's error pages and
	// proxy_intercept_errors; nil when it has no error_page.
	ErrorPages *errorpage.Pages

	// Access is the location's allow/deny list; nil when it has none.
	Access *access.Rules
	// Basic is the location's auth_basic; nil when it has none.
	Basic *access.Basic
	// Limit is the location's limit_except; nil when it has none.
	Limit *access.Limit
	// LimitContent is the limit_except block's configuration compiled
	// as a location of its own, which answers the methods Limit applies
	// to (ngx_http_update_location_config makes it r->loc_conf); nil
	// when the block has no proxy_pass of its own, and the location's
	// content handler answers every method.
	LimitContent *Loc
	// RealIP is the level's realip settings; nil when it trusts nobody.
	// A server's runs in the post-read phase, a location's in preaccess.
	RealIP *access.RealIP
	// LimitReq and LimitConn are the location's limit_req and
	// limit_conn (the preaccess phase); nil when it has none.
	LimitReq  *limit.Req
	LimitConn *limit.Conn
	// Rate and RateAfter are limit_rate and limit_rate_after, read as
	// sizes per request; nil when not set (no limit, 0).
	Rate, RateAfter *vars.Template
	// Paths gives the location's $document_root, $realpath_root and
	// $request_filename: Files where it serves files, else a handler
	// compiled from its root or alias for them alone; nil when none
	// compiles.
	Paths *files.Handler
	// AuthRequest is the location's auth_request; nil when it has none.
	AuthRequest *access.AuthRequest

	// Cache is the location's proxy_cache; nil when it caches nothing.
	Cache *CachePlan

	// Content is the handler that answers requests here (plan.go).
	Content Content
	// CheckHandshake makes the access phase check a WebSocket
	// handshake's form (ws.CheckClientRequest) before content: set where
	// the content handler may open a tunnel (proxy_pass).
	CheckHandshake bool
	// WSPolicy is the location's WebSocket handshake policy
	// (ws_allow_origins, ws_subprotocols, ws_deflate); nil when it has
	// none.
	WSPolicy *ws.Policy
	// Headers is the upstream request head recipe (proxy_set_header,
	// proxy_http_version, proxy_pass_request_headers...).
	Headers *HeaderPlan
	// Response is the client response head recipe (proxy_redirect,
	// proxy_hide_header, proxy_pass_header, server_tokens).
	Response *ResponsePlan
	// Filter is the response header filter (add_header, add_trailer,
	// headers-more); nil when the location has none.
	Filter *headers.Filter
	// Body is the response body filter chain (sub_filter); nil when the
	// location has none.
	Body *bodyfilter.Filter
	// Input is headers-more's request header commands
	// (more_set_input_headers, more_clear_input_headers); nil when the
	// location has none.
	Input *headers.Input
	// Target rewrites the request-target for proxy_pass.
	Target TargetRule
	// ProxyHost and ProxyPort are $proxy_host and $proxy_port of a
	// proxy_pass without variables.
	ProxyHost, ProxyPort string
	// Limits are the request limits of this level (client_max_body_size,
	// client_body_timeout, send_timeout, keepalive_*).
	Limits exchange.Limits
	// ServerInfo names wsgate in this level's Server headers and pages.
	ServerInfo ServerInfo
	// Logs are the access logs requests here are written to; empty for
	// "access_log off".
	Logs []*accesslog.Logger
	// ReadTimeout and SendTimeout are proxy_read_timeout and
	// proxy_send_timeout, which nginx keeps applying to an upgraded
	// connection: the tunnel's timeouts after a 101.
	ReadTimeout, SendTimeout time.Duration

	// Files serves the location when Content is ContentFiles. For
	// another content handler it is set only when the location has
	// try_files, which runs before that handler (nginx's precontent
	// phase): it may answer, redirect, or change $uri for it.
	Files *files.Handler
	// AbsoluteRedirect, PortInRedirect and ServerNameInRedirect complete
	// the Location of redirects wsgate makes itself (absolute_redirect,
	// port_in_redirect, server_name_in_redirect).
	AbsoluteRedirect, PortInRedirect, ServerNameInRedirect bool
	// Charset labels the location's text responses (the charset
	// directive); Types and DefaultType type return's text by the URI's
	// extension (types, default_type).
	Charset     files.Charset
	Types       map[string]string
	DefaultType string
	// Expires sets Expires and Cache-Control on the location's answers
	// with a status it covers (the expires directive).
	Expires config.Expires
	// ExpiresValue is Expires' value with variables, nil without
	// (files.ResolveExpires reads it per request).
	ExpiresValue Template
}

// Env is what Build needs from the process: the long-lived registries
// that outlive a snapshot, and how wsgate names itself.
type Env struct {
	// Upstreams is the process's upstream registry (required): pools
	// with the same key keep their peers' health and counts across
	// reloads.
	Upstreams *upstream.Registry
	// Resolver resolves upstream host names, and those of resolver
	// directives; nil means the system's.
	Resolver upstream.Resolver
	// DNS is the process's registry of resolvers (the resolver
	// directive), whose caches outlive a snapshot; nil gives the snapshot
	// a registry of its own.
	DNS *dns.Registry
	// Logs are the open log files, shared by snapshots so that a reload
	// does not reopen them; nil opens no access log.
	Logs *accesslog.Files
	// Version is wsgate's version for Server headers (server_tokens on).
	Version string
	// Prefix is the directory a relative root or alias is taken from
	// (nginx's -p prefix).
	Prefix string
	// Log receives the file handlers' error_log lines; nil discards them.
	Log *slog.Logger
	// Files keeps small static files' contents across requests and
	// reloads (files.Cache); nil reads every file at each request.
	Files *files.Cache
	// Staples fetches and refreshes OCSP responses (ssl_stapling without
	// ssl_stapling_file); nil fetches none, as for -t.
	Staples *ocsp.Stapler
	// Limits is the process's registry of limit_req and limit_conn
	// zones, whose states outlive a snapshot; nil gives the snapshot
	// zones of its own.
	Limits *limit.Registry
	// Caches is the process's registry of proxy_cache zones, kept
	// across reloads; nil builds zones that are never started (-t).
	Caches *cache.Registry
}

// Build compiles spec into a Snapshot ready to publish. All problems are
// returned together (a config.ErrorList where they have positions);
// nothing is published or retired here: the caller publishes the snapshot
// and then calls Activate.
func Build(ctx context.Context, spec *config.Spec, env *Env) (*Snapshot, error) {
	s, err := buildRoutes(ctx, spec, env.Upstreams, env.Resolver)
	if err != nil {
		var el config.ErrorList
		if errors.As(err, &el) {
			return nil, el.Dedup()
		}
		return nil, err
	}
	var errs config.ErrorList
	buildResolvers(ctx, s, env, &errs)
	buildLimits(s, env, &errs)
	compilePlans(s, env, &errs)
	buildCaches(s, env, &errs)
	s.cacheReg = env.Caches
	buildListens(s, env, &errs)
	if len(errs) > 0 {
		// A setting inherited by many locations fails in each of them:
		// say it once.
		return nil, errs.Dedup()
	}
	return s, nil
}

// buildLimits compiles the limit_req and limit_conn zones over the
// registry's states, each location's lines over them, and its
// limit_rate and limit_rate_after.
func buildLimits(s *Snapshot, env *Env, errs *config.ErrorList) {
	s.limits = limit.Build(env.Limits, s.Spec.HTTP.LimitZones, s.Vars, errs)
	for lc, loc := range s.Locs {
		loc.LimitReq = limit.CompileReq(&lc.LimitReq, s.limits)
		loc.LimitConn = limit.CompileConn(&lc.LimitConn, s.limits)
		for _, v := range []struct {
			val *config.Value
			t   **vars.Template
		}{{lc.LimitRate, &loc.Rate}, {lc.LimitRateAfter, &loc.RateAfter}} {
			if v.val == nil {
				continue
			}
			t, err := s.Vars.Compile(v.val.Text)
			if err != nil {
				errs.Add(v.val.Pos, "%v", err)
				continue
			}
			*v.t = t
		}
	}
}

// Loc returns what the effective configuration lc (route.Match.Conf, or a
// server's own level) compiled to.
func (s *Snapshot) Loc(lc *config.LocConf) *Loc { return s.Locs[lc] }

// buildRoutes compiles the route table (location and server_name regexes),
// the map blocks, the rewrite module's directives, every string with
// variables (proxy_pass, log_format, hash keys) and the upstreams, whose
// host names are resolved, and per location its templates, pool and route
// key. ups is the process's long-lived upstream registry; resolve may be
// nil (the system resolver). Every problem is returned together as a
// config.ErrorList, each at its directive's position.
func buildRoutes(ctx context.Context, spec *config.Spec, ups *upstream.Registry, resolve upstream.Resolver) (*Snapshot, error) {
	var errs config.ErrorList
	if spec.HTTP == nil {
		var pos config.Pos
		if len(spec.Files) > 0 {
			pos.File = spec.Files[0].Path
		}
		errs.Add(pos, "no http context and no server blocks: nothing to serve")
		return nil, errs
	}
	routes, err := route.Build(spec.HTTP)
	if err != nil {
		errs = appendErr(errs, err)
	}
	vc, err := vars.NewCompiler(spec.HTTP.Maps, spec.HTTP.SetVariables...)
	if err != nil {
		errs = appendErr(errs, err)
	}
	if vc == nil || routes == nil {
		return nil, errs
	}
	vc.DeclareCaptures(routes.CaptureNames())
	vc.DeclareCaptures(rewrite.CaptureNames(spec))
	rw, err := rewrite.Compile(spec, vc)
	if err != nil {
		errs = appendErr(errs, err)
	}

	// Every log_format is compiled, used or not, as nginx compiles them
	// where they are written.
	formats := make(map[string]*vars.Template, len(spec.HTTP.LogFormats))
	for _, f := range spec.HTTP.LogFormats {
		t, err := vc.Compile(f.Format)
		if err != nil {
			errs.Add(f.Pos, "log_format %q: %v", f.Name, err)
			continue
		}
		formats[f.Name] = t
	}
	for _, u := range spec.HTTP.Upstreams {
		if u.HashKey != "" {
			if _, err := vc.Compile(u.HashKey); err != nil {
				errs.Add(u.Pos, "hash: %v", err)
			}
		}
	}

	// confDir is nginx's conf_prefix, which a relative
	// auth_basic_user_file is taken from.
	confDir := ""
	if len(spec.Files) > 0 {
		confDir = filepath.Dir(spec.Files[0].Path)
	}
	realIPLookup, realIPErrs := realIPResolver(ctx, resolve), map[string]bool{}
	var implicit []*config.ProxyPass
	s := &Snapshot{Spec: spec, Routes: routes, Vars: vc, Rewrite: rw, LogFormats: formats, Locs: map[*config.LocConf]*Loc{}, Keys: map[string]bool{}}
	var visit func(srv *config.Server, l *config.Location)
	seenPass := map[*config.ProxyPass]bool{}
	add := func(srv *config.Server, l *config.Location, lc *config.LocConf, name string) {
		loc := &Loc{Snapshot: s, Conf: lc, Location: l, Server: srv, Name: "server level"}
		if l != nil {
			loc.Name = "location " + strings.TrimSpace(l.Match.String()+" "+l.Path) + name
		}
		compile := func(what string, pos config.Pos, src string) *vars.Template {
			t, err := vc.Compile(src)
			if err != nil {
				errs.Add(pos, "%s: %v", what, err)
			}
			return t
		}
		loc.ErrorPages = errorpage.Compile(lc, vc, &errs)
		if rs, err := access.CompileRules(lc.Access); err != nil {
			errs.Add(lc.Access[0].Pos, "allow/deny: %v", err)
		} else {
			loc.Access = rs
		}
		loc.Basic = access.CompileBasic(lc, vc, confDir, &errs)
		if ri, err := access.CompileRealIP(lc.RealIP, realIPLookup); err != nil {
			// Once per list, not for each location that inherits it.
			if p := lc.RealIP.From[0].Pos; !realIPErrs[p.String()] {
				realIPErrs[p.String()] = true
				errs.Add(p, "%v", err)
			}
		} else {
			loc.RealIP = ri
		}
		loc.AuthRequest = access.CompileAuthRequest(lc, vc, &errs)
		if l != nil && lc == &l.Conf {
			loc.Limit = access.CompileLimit(l.LimitExcept, vc, confDir, &errs)
		}
		if pp := lc.ProxyPass; pp != nil {
			switch {
			case pp.HasVars:
				loc.PassURL = compile("proxy_pass", pp.Pos, pp.Raw)
			case pp.Upstream == "" && !seenPass[pp]:
				// An if block's configuration may share its
				// location's proxy_pass: one implicit upstream.
				seenPass[pp] = true
				implicit = append(implicit, pp)
			}
		}
		s.Locs[lc] = loc
	}
	visit = func(srv *config.Server, l *config.Location) {
		add(srv, l, &l.Conf, "")
		if le := l.LimitExcept; le != nil && le.Conf.ProxyPass != nil {
			add(srv, l, le.Conf, " (limit_except)")
			s.Locs[&l.Conf].LimitContent = s.Locs[le.Conf]
		}
		// A matching if block serves with its own configuration, under
		// its location's name (nginx's unnamed location).
		for _, op := range l.Rewrite {
			if op.Kind == config.OpIf && op.If.Conf != nil {
				add(srv, l, op.If.Conf, " (if)")
			}
		}
		for _, n := range l.Locations {
			visit(srv, n)
		}
	}
	for _, srv := range spec.HTTP.Servers {
		add(srv, nil, &srv.Conf, "")
		for _, l := range srv.Locations {
			visit(srv, l)
		}
		for _, l := range srv.Named {
			visit(srv, l)
		}
	}
	set, err := ups.Build(ctx, spec.HTTP.Upstreams, implicit, resolve)
	if err != nil {
		return nil, appendErr(errs, err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	s.Upstreams = set
	upByName := map[string]*config.Upstream{}
	for _, u := range spec.HTTP.Upstreams {
		upByName[upstream.UpstreamKey(u.Name)] = u
	}
	for _, loc := range s.Locs {
		var up *config.Upstream
		if pp := loc.Conf.ProxyPass; pp != nil && !pp.HasVars {
			key := upstream.ImplicitKey(pp)
			if pp.Upstream != "" {
				key = upstream.UpstreamKey(pp.Upstream)
				up = upByName[key]
			}
			loc.Pool = set.Pool(key)
			if loc.Pool == nil {
				errs.Add(pp.Pos, "no upstream pool for %q", pp.Raw)
				continue
			}
			if loc.Pool.Method() == config.BalanceHash && loc.Pool.HashKey() != "" {
				t, err := vc.Compile(loc.Pool.HashKey())
				if err != nil {
					errs.Add(up.Pos, "hash: %v", err)
					continue
				}
				loc.HashKey = t
			}
		}
		loc.Key = routeKey(loc, up)
		s.Keys[loc.Key] = true
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// appendErr adds err to errs: the entries of a config.ErrorList, anything
// else as one entry without a position.
func appendErr(errs config.ErrorList, err error) config.ErrorList {
	var el config.ErrorList
	if errors.As(err, &el) {
		return append(errs, el...)
	}
	errs.Add(config.Pos{}, "%v", err)
	return errs
}

// Activate publishes the snapshot's upstream set in ups: peers the snapshot
// no longer lists are retired once their last lease ends. The resolvers it
// no longer uses leave the DNS registry with their caches.
func (s *Snapshot) Activate(ups *upstream.Registry) {
	ups.Activate(s.Upstreams)
	if s.limits != nil {
		s.limits.Activate()
	}
	s.cacheReg.Activate(s.caches)
	if s.dns != nil {
		s.dns.Retain(s.Resolvers)
	}
}
