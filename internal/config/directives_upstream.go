package config

import (
	"strings"
	"time"
)

// This file holds ngx_http_upstream_module's directives and its
// balancers' (least_conn, ip_hash, hash, random, keepalive, zone). The
// "server" line inside upstream{} is read by setUpstreamServer, through
// the core module's "server" entry.

// upstreamDirectives are ngx_http_upstream_module's and its balancers'.
func upstreamDirectives() map[string]*directive {
	return map[string]*directive{
		"upstream":   {ctx: ctxHTTP, min: 1, max: 1, block: true, set: setUpstream},
		"least_conn": {ctx: ctxUpstream, min: 0, max: 0, set: setBalance(BalanceLeastConn)},
		"ip_hash":    {ctx: ctxUpstream, min: 0, max: 0, set: setBalance(BalanceIPHash)},
		"hash":       {ctx: ctxUpstream, min: 1, max: 2, set: setHash},
		"random":     {ctx: ctxUpstream, min: 0, max: 2, set: setRandom},
		"keepalive":  {ctx: ctxUpstream, min: 1, max: 1, once: true, set: setUpstreamKeepalive},
		"zone":       {ctx: ctxUpstream, min: 1, max: 2, once: true, set: setZone},
	}
}

// setUpstream is ngx_http_upstream: "upstream name { … }".
func setUpstream(c *checker, f *frame, d *Directive, _ bool) {
	name := d.Args[0].Text
	for _, u := range c.http.h.Upstreams {
		if strings.EqualFold(u.Name, name) {
			c.errorf(d.Args[0].Pos, "duplicate upstream %q", name)
			return
		}
	}
	u := &Upstream{Pos: d.Pos, Name: name, KeepaliveTimeout: 60 * time.Second, KeepaliveRequests: 1000, KeepaliveTime: time.Hour, DrainWindow: -1}
	uf := c.newFrame(ctxUpstream)
	uf.ups = u
	nerr := len(c.errs)
	c.walk(uf, d.Block)
	if len(u.Servers) == 0 && len(c.errs) == nerr {
		c.errorf(d.Pos, "no servers are inside upstream")
	}
	c.checkUpstreamWS(u)
	c.http.h.Upstreams = append(c.http.h.Upstreams, u)
}

// balanceAllowsBackup reports whether method b takes "backup" servers
// (the NGX_HTTP_UPSTREAM_BACKUP flag of each balancer).
func balanceAllowsBackup(b Balance) bool {
	return b == BalanceRoundRobin || b == BalanceLeastConn
}

func setBalance(b Balance) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) { c.setMethod(f, d, b) }
}

// setMethod records a balancing method; nginx warns "load balancing method
// redefined" on a second one and keeps the last.
func (c *checker) setMethod(f *frame, d *Directive, b Balance) {
	u := f.ups
	if f.seen["balance"] {
		c.notice(d.Pos, "load balancing method redefined")
	}
	f.seen["balance"] = true
	u.Balance = b
	u.HashKey, u.HashConsistent, u.RandomTwo = "", false, false
	if !balanceAllowsBackup(b) {
		for _, s := range u.Servers {
			if s.Backup {
				c.notice(s.Pos, "backup server ignored: the %s balancing method never uses backup servers", b)
			}
		}
	}
}

func setHash(c *checker, f *frame, d *Directive, _ bool) {
	if len(d.Args) == 2 && d.Args[1].Text != "consistent" {
		c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
		return
	}
	c.setMethod(f, d, BalanceHash)
	f.ups.HashKey = d.Args[0].Text
	f.ups.HashConsistent = len(d.Args) == 2
}

// setRandom is ngx_http_upstream_random: "random [two [least_conn]]".
func setRandom(c *checker, f *frame, d *Directive, _ bool) {
	two := false
	if len(d.Args) >= 1 {
		if d.Args[0].Text != "two" {
			c.errorf(d.Args[0].Pos, "invalid parameter %q", d.Args[0].Text)
			return
		}
		two = true
		if len(d.Args) == 2 && d.Args[1].Text != "least_conn" {
			c.errorf(d.Args[1].Pos, "invalid parameter %q", d.Args[1].Text)
			return
		}
	}
	c.setMethod(f, d, BalanceRandom)
	f.ups.RandomTwo = two
}

func setUpstreamKeepalive(c *checker, f *frame, d *Directive, _ bool) {
	n, ok := parseNumber(d.Args[0].Text)
	if !ok || n == 0 || n > 1<<31-1 {
		c.errorf(d.Args[0].Pos, "invalid value %q in %q directive", d.Args[0].Text, d.Name)
		return
	}
	f.ups.Keepalive = int(n)
}

func setZone(c *checker, f *frame, d *Directive, _ bool) {
	if len(d.Args) == 2 {
		if _, ok := ParseSize(d.Args[1].Text); !ok {
			c.errorf(d.Args[1].Pos, "invalid zone size %q", d.Args[1].Text)
			return
		}
	}
	f.ups.Zone = d.Args[0].Text
}

// setUpstreamServer is ngx_http_upstream_server.
func setUpstreamServer(c *checker, f *frame, d *Directive) {
	if len(d.Args) == 0 {
		c.errorf(d.Pos, "invalid number of arguments in \"server\" directive")
		return
	}
	u := f.ups
	s := UpstreamServer{Pos: d.Pos, Addr: d.Args[0].Text, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second}
	if path, ok := strings.CutPrefix(s.Addr, "unix:"); ok {
		// ngx_parse_unix_domain_url: a path, relative ones to the
		// directory wsgate runs in, as connect(2) takes them.
		if path == "" {
			c.errorf(d.Args[0].Pos, "no path in the unix domain socket in upstream %q", s.Addr)
			return
		}
	} else if _, port, ok := splitHostPort(s.Addr); !ok || s.Addr == "" {
		c.errorf(d.Args[0].Pos, "invalid host in upstream %q", s.Addr)
		return
	} else if port != "" {
		if n, ok := parseNumber(port); !ok || n < 1 || n > 65535 {
			c.errorf(d.Args[0].Pos, "invalid port in upstream %q", s.Addr)
			return
		}
	}
	for _, a := range d.Args[1:] {
		k, v, hasV := strings.Cut(a.Text, "=")
		bad := func() { c.errorf(a.Pos, "invalid parameter %q", a.Text) }
		switch {
		case k == "weight" && hasV:
			n, ok := parseNumber(v)
			if !ok || n == 0 || n > 1<<31-1 {
				bad()
				return
			}
			s.Weight = int(n)
		case k == "max_fails" && hasV:
			n, ok := parseNumber(v)
			if !ok || n > 1<<31-1 {
				bad()
				return
			}
			s.MaxFails = int(n)
		case k == "fail_timeout" && hasV:
			t, ok := ParseTime(v, true)
			if !ok {
				bad()
				return
			}
			s.FailTimeout = t
		case k == "max_conns" && hasV:
			n, ok := parseNumber(v)
			if !ok || n > 1<<31-1 {
				bad()
				return
			}
			s.MaxConns = int(n)
		case a.Text == "backup":
			if !balanceAllowsBackup(u.Balance) {
				c.errorf(a.Pos, "balancing method does not support parameter \"backup\"")
				return
			}
			s.Backup = true
		case a.Text == "down":
			s.Down = true
		case a.Text == "resolve":
			s.Resolve = true
		case k == "service" && hasV:
			s.Service = v
		case k == "slow_start" && hasV:
			t, ok := ParseTime(v, true)
			if !ok {
				bad()
				return
			}
			s.SlowStart = t
		default:
			bad()
			return
		}
	}
	if s.Service != "" {
		// ngx_http_upstream_server (1.27.3): the SRV records give the
		// ports, and only a looked-up name has them.
		if !s.Resolve {
			c.errorf(d.Args[0].Pos, "service upstream %q requires \"resolve\" parameter", s.Addr)
			return
		}
		if _, port, _ := splitHostPort(s.Addr); port != "" {
			c.errorf(d.Args[0].Pos, "service upstream %q may not have port", s.Addr)
			return
		}
	}
	u.Servers = append(u.Servers, s)
}
