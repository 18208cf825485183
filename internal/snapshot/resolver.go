package snapshot

import (
	"context"
	"net"
	"net/netip"

	"wsgate/internal/config"
	"wsgate/internal/dns"
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
	for _, loc := range s.Locs {
		rc := loc.Conf.Resolver
		if rc == nil {
			continue
		}
		if r, ok := byConf[rc]; ok {
			loc.Resolver = r
			continue
		}
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
		byConf[rc] = nil
		if bad {
			continue
		}
		r, err := reg.Get(cfg)
		if err != nil {
			errs.Add(rc.Pos, "resolver: %v", err)
			continue
		}
		byConf[rc] = r
		loc.Resolver = r
		if !seen[r] {
			seen[r] = true
			s.Resolvers = append(s.Resolvers, r)
		}
	}
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
