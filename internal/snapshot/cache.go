package snapshot

import (
	"path/filepath"
	"strings"

	"wsgate/internal/cache"
	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file compiles proxy_cache: the zones of proxy_cache_path, taken
// over from the process's cache.Registry, and each location's CachePlan.

// CachePlan is a location's proxy_cache, compiled.
type CachePlan struct {
	// Zone is a proxy_cache without variables' zone; ZoneName is one
	// with variables, whose value names a zone of Zones per request
	// (an unknown name or "" caches nothing there).
	Zone     *cache.Zone
	ZoneName *vars.Template
	Zones    map[string]*cache.Zone
	// Key is proxy_cache_key ($scheme$proxy_host$request_uri by default).
	Key *vars.Template
	// Bypass and NoCache are proxy_cache_bypass and proxy_no_cache.
	Bypass, NoCache []*vars.Template
	Valid           []cache.Valid
	// Methods are the cached methods beside GET and HEAD.
	Methods  []string
	UseStale config.CacheStale
	Ignore   cache.Ignore
	Options  cache.Options
	// Revalidate, ConvertHead and BackgroundUpdate are
	// proxy_cache_revalidate, proxy_cache_convert_head and
	// proxy_cache_background_update.
	Revalidate, ConvertHead, BackgroundUpdate bool
}

// Caches is the method list check: GET and HEAD, and those of Methods.
func (p *CachePlan) Caches(method []byte) bool {
	switch string(method) {
	case "GET", "HEAD":
		return true
	}
	for _, m := range p.Methods {
		if m == string(method) {
			return true
		}
	}
	return false
}

// buildCaches compiles the zones and every location's plan.
func buildCaches(s *Snapshot, env *Env, errs *config.ErrorList) {
	zones := make(map[string]*cache.Zone, len(s.Spec.HTTP.CachePaths))
	for _, p := range s.Spec.HTTP.CachePaths {
		dir := p.Path
		if !filepath.IsAbs(dir) {
			base := env.Prefix
			if base == "" {
				base = "."
			}
			if abs, err := filepath.Abs(filepath.Join(base, dir)); err == nil {
				dir = abs
			}
		}
		z := env.Caches.Zone(cache.Config{Name: p.Name, Path: dir, Levels: p.Levels, KeysSize: p.KeysSize,
			MaxSize: p.MaxSize, MinFree: p.MinFree, Inactive: p.Inactive, UseTempPath: p.UseTempPath})
		zones[p.Name] = z
		s.caches = append(s.caches, z)
	}
	for lc, loc := range s.Locs {
		cc := &lc.Cache
		if cc.Zone == nil || loc.Content != ContentProxy {
			continue
		}
		plan := &CachePlan{Valid: validOf(cc.Valid), Methods: cc.Methods, UseStale: cc.UseStale,
			Ignore: ignoreOf(lc.Proxy.IgnoreHeaders), Revalidate: cc.Revalidate, ConvertHead: cc.ConvertHead, BackgroundUpdate: cc.BackgroundUpdate,
			Options: cache.Options{MinUses: cc.MinUses, Lock: cc.Lock, LockTimeout: cc.LockTimeout, LockAge: cc.LockAge}}
		if strings.Contains(cc.Zone.Text, "$") {
			t, err := s.Vars.Compile(cc.Zone.Text)
			if err != nil {
				errs.Add(cc.Zone.Pos, "%v", err)
				continue
			}
			plan.ZoneName, plan.Zones = t, zones
		} else if plan.Zone = zones[cc.Zone.Text]; plan.Zone == nil {
			errs.Add(cc.Zone.Pos, "\"proxy_cache\" zone %q is unknown", cc.Zone.Text)
			continue
		}
		key := "$scheme$proxy_host$request_uri"
		pos := cc.Zone.Pos
		if cc.Key != nil {
			key, pos = cc.Key.Text, cc.Key.Pos
		}
		var err error
		if plan.Key, err = s.Vars.Compile(key); err != nil {
			errs.Add(pos, "%v", err)
			continue
		}
		ok := true
		for _, l := range []struct {
			src []config.Value
			dst *[]*vars.Template
		}{{cc.Bypass, &plan.Bypass}, {cc.NoCache, &plan.NoCache}} {
			for _, v := range l.src {
				t, err := s.Vars.Compile(v.Text)
				if err != nil {
					errs.Add(v.Pos, "%v", err)
					ok = false
					continue
				}
				*l.dst = append(*l.dst, t)
			}
		}
		if ok {
			loc.Cache = plan
		}
	}
}

func validOf(vs []config.CacheValid) []cache.Valid {
	var out []cache.Valid
	for _, v := range vs {
		for _, st := range v.Statuses {
			out = append(out, cache.Valid{Status: st, Time: v.Time})
		}
	}
	return out
}

func ignoreOf(h config.IgnoreHeaders) cache.Ignore {
	var m cache.Ignore
	for _, p := range []struct {
		c config.IgnoreHeaders
		m cache.Ignore
	}{{config.IgnoreXAccelExpires, cache.IgnoreXAccelExpires}, {config.IgnoreExpires, cache.IgnoreExpires},
		{config.IgnoreCacheControl, cache.IgnoreCacheControl}, {config.IgnoreSetCookie, cache.IgnoreSetCookie},
		{config.IgnoreVary, cache.IgnoreVary}} {
		if h&p.c != 0 {
			m |= p.m
		}
	}
	return m
}
