package snapshot

import (
	"context"
	"net"
	"net/netip"

	"wsgate/internal/config"
	"wsgate/internal/dns"
	"wsgate/internal/upstream"
)

// buildResolvers gives every location with a resolver directive
// (config.LocConf.Resolver, inherited or its own) its resolver, from
// env.DNS so that equal resolver lines share one cache, across reloads
// too; the proxy uses it for a proxy_pass with variables. A name server given by name is resolved now, once, as
// ngx_resolver_create does with ngx_parse_url, and each of its addresses
// is a server of the line; one that does not resolve is an error at the
// directive ("host not found in resolver").
func buildResolvers(ctx context.Context, s *Snapshot, env *Env, errs *config.ErrorList) {
	reg := env.DNS
	if reg == nil {
		reg = dns.NewRegistry(dns.Options{})
	}
	s.dns = reg
	resolve := env.Resolver
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	byConf := map[*config.Resolver]*dns.Resolver{}
	seen := map[*dns.Resolver]bool{}
	get := func(rc *config.Resolver) *dns.Resolver {
		if r, ok := byConf[rc]; ok {
			return r
		}
		r := resolverFor(ctx, rc, reg, resolve, errs)
		byConf[rc] = r
		if r != nil && !seen[r] {
			seen[r] = true
			s.Resolvers = append(s.Resolvers, r)
		}
		return r
	}
	for _, loc := range s.Locs {
		if rc := loc.Conf.Resolver; rc != nil {
			loc.Resolver = get(rc)
		}
	}
	// "server ... resolve" in an upstream block (nginx 1.27.3): the
	// block's own resolver, else the http level's.
	if s.Upstreams == nil {
		return
	}
	for _, u := range s.Spec.HTTP.Upstreams {
		p := s.Upstreams.Pool(upstream.UpstreamKey(u.Name))
		if p == nil || !p.Resolves() {
			continue
		}
		rc, timeout := u.Resolver, u.ResolverTimeout
		if rc == nil {
			rc = s.Spec.HTTP.Resolver
		}
		if timeout == 0 {
			timeout = s.Spec.HTTP.ResolverTimeout
		}
		if rc == nil {
			errs.Add(u.Pos, "no resolver defined to resolve names at run time in upstream %q", u.Name)
			continue
		}
		if r := get(rc); r != nil {
			p.UseResolver(r, timeout)
		}
	}
}

// resolverFor returns the registry's resolver for one resolver line. A
// name server given by name is resolved now, once, as ngx_resolver_create
// does with ngx_parse_url; nil after an error.
func resolverFor(ctx context.Context, rc *config.Resolver, reg *dns.Registry, resolve upstream.Resolver, errs *config.ErrorList) *dns.Resolver {
	cfg := dns.Config{Valid: rc.Valid, IPv4: rc.IPv4, IPv6: rc.IPv6}
	bad := false
	for _, a := range rc.Addrs {
		host, port, ok := config.SplitResolverAddr(a)
		if !ok {
			errs.Add(rc.Pos, "invalid port in resolver %q", a)
			bad = true
			continue
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			cfg.Servers = append(cfg.Servers, netip.AddrPortFrom(ip.Unmap(), port))
			continue
		}
		ips, err := resolve(ctx, host)
		if err != nil || len(ips) == 0 {
			errs.Add(rc.Pos, "host not found in resolver %q", a)
			bad = true
			continue
		}
		for _, ip := range ips {
			cfg.Servers = append(cfg.Servers, netip.AddrPortFrom(ip.Unmap(), port))
		}
	}
	if bad {
		return nil
	}
	r, err := reg.Get(cfg)
	if err != nil {
		errs.Add(rc.Pos, "resolver: %v", err)
		return nil
	}
	return r
}

// realIPResolver looks up the host names of set_real_ip_from once per
// build, as nginx resolves them when it reads the configuration
// (ngx_inet_resolve_host): every location that inherits a name shares
// the answer. resolve nil is the system resolver.
func realIPResolver(ctx context.Context, resolve func(context.Context, string) ([]netip.Addr, error)) func(string) ([]netip.Addr, error) {
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	seen := map[string][]netip.Addr{}
	return func(host string) ([]netip.Addr, error) {
		if a, ok := seen[host]; ok {
			return a, nil
		}
		a, err := resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		seen[host] = a
		return a, nil
	}
}
