// Package runtime compiles a checked configuration into a Snapshot: the
// route table, the variable compiler with its maps, the upstream pools, and
// per location what every request needs (templates, the pool, the route key
// that decides whether a tunnel survives a reload). A Snapshot never changes
// once built; the state that outlives a reload (upstream health and counts)
// belongs to the upstream.Registry it was built with.
package runtime

import (
	"context"
	"fmt"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/route"
	"wsgate/internal/upstream"
	"wsgate/internal/vars"
)

// Snapshot is one configuration, compiled.
type Snapshot struct {
	Spec      *config.Spec
	Routes    *route.Table
	Vars      *vars.Compiler
	Upstreams *upstream.Set
	// Locs holds, for every effective configuration a request can end up
	// with (each location's and each server's own), what was compiled for
	// it. Keyed by the pointer route.Match.Conf returns.
	Locs map[*config.LocConf]*Loc
	// Keys is the set of route keys of this snapshot: a tunnel whose key is
	// not in it was opened on a route that a reload removed or changed.
	Keys map[string]bool
}

// Loc is what one location (or a server's own level) compiled to.
type Loc struct {
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
	// HashKey is the compiled "hash KEY" of Pool, when it hashes.
	HashKey *vars.Template
	// Return is the compiled text or URL of a return directive.
	Return *vars.Template
}

// Build compiles spec. ups is the process's long-lived upstream registry;
// resolve may be nil (the system resolver). All problems are returned
// together; nothing is published or retired here.
func Build(ctx context.Context, spec *config.Spec, ups *upstream.Registry, resolve upstream.Resolver) (*Snapshot, error) {
	if spec.HTTP == nil {
		return nil, fmt.Errorf("no http context and no server blocks: nothing to serve")
	}
	var errs config.ErrorList
	routes, err := route.Build(spec.HTTP)
	if err != nil {
		return nil, err
	}
	vc, err := vars.NewCompiler(spec.HTTP.Maps)
	if err != nil {
		return nil, err
	}
	vc.DeclareCaptures(routes.CaptureNames())

	var implicit []*config.ProxyPass
	s := &Snapshot{Spec: spec, Routes: routes, Vars: vc, Locs: map[*config.LocConf]*Loc{}, Keys: map[string]bool{}}
	var visit func(srv *config.Server, l *config.Location)
	add := func(srv *config.Server, l *config.Location, lc *config.LocConf) {
		loc := &Loc{Conf: lc, Location: l, Server: srv, Name: "server level"}
		if l != nil {
			loc.Name = "location " + strings.TrimSpace(l.Match.String()+" "+l.Path)
		}
		compile := func(what string, pos config.Pos, src string) *vars.Template {
			t, err := vc.Compile(src)
			if err != nil {
				errs.Add(pos, "%s: %v", what, err)
			}
			return t
		}
		if r := lc.Return; r != nil && r.Text != "" {
			loc.Return = compile("return", r.Pos, r.Text)
		}
		if pp := lc.ProxyPass; pp != nil {
			switch {
			case pp.HasVars:
				loc.PassURL = compile("proxy_pass", pp.Pos, pp.Raw)
			case pp.Upstream == "":
				implicit = append(implicit, pp)
			}
		}
		s.Locs[lc] = loc
	}
	visit = func(srv *config.Server, l *config.Location) {
		add(srv, l, &l.Conf)
		for _, n := range l.Locations {
			visit(srv, n)
		}
	}
	for _, srv := range spec.HTTP.Servers {
		add(srv, nil, &srv.Conf)
		for _, l := range srv.Locations {
			visit(srv, l)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	set, err := ups.Build(ctx, spec.HTTP.Upstreams, implicit, resolve)
	if err != nil {
		return nil, err
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

// Activate publishes the snapshot's upstream set in ups: peers the snapshot
// no longer lists are retired once their last lease ends.
func (s *Snapshot) Activate(ups *upstream.Registry) { ups.Activate(s.Upstreams) }
