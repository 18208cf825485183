package config

import (
	"strconv"
	"strings"
	"time"
)

// This file holds the directives of nginx's core modules: the main and
// events contexts (ngx_core_module, ngx_errlog_module, ngx_events_module)
// and ngx_http_core_module, whose blocks (http, server, location) build
// the levels every other family's directives write into.

// coreDirectives are the main and events contexts' directives.
func coreDirectives() map[string]*directive {
	return map[string]*directive{
		"events":               {ctx: ctxMain, block: true, once: true, set: setEvents},
		"worker_connections":   {ctx: ctxEvents, min: 1, max: 1, once: true, set: setWorkerConnections},
		"worker_rlimit_nofile": {ctx: ctxMain, min: 1, max: 1, once: true, set: setWorkerRlimitNofile},
		"pid":                  {ctx: ctxMain, min: 1, max: 1, once: true, set: setPID},
		"error_log":            {ctx: ctxMain | ctxHTTPAll, min: 1, max: 2, set: setErrorLog},
		"include":              {ctx: ctxMain | ctxEvents | ctxHTTPAll | ctxUpstream, min: 1, max: 1, set: setInclude},
	}
}

// httpCoreDirectives are ngx_http_core_module's. "server" is also
// ngx_http_upstream_module's server line (setServer tells them apart).
func httpCoreDirectives() map[string]*directive {
	return map[string]*directive{
		"http":                        {ctx: ctxMain, block: true, once: true, set: setHTTP},
		"server":                      {ctx: ctxHTTP | ctxUpstream, min: 0, max: unbounded, blockIn: ctxHTTP, set: setServer},
		"listen":                      {ctx: ctxServer, min: 1, max: unbounded, set: setListen},
		"server_name":                 {ctx: ctxServer, min: 1, max: unbounded, set: setServerName},
		"location":                    {ctx: ctxServer | ctxLocation, min: 1, max: 2, block: true, set: setLocation},
		"client_max_body_size":        {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(sizeArg, func(l *LocConf) *int64 { return &l.ClientMaxBodySize })},
		"client_body_timeout":         {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.ClientBodyTimeout })},
		"send_timeout":                {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.SendTimeout })},
		"keepalive_timeout":           {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 2, once: true, set: setKeepaliveTimeout},
		"keepalive_time":              {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 1, once: true, set: setKeepaliveTime},
		"keepalive_disable":           {ctx: ctxHTTPAll, min: 1, max: unbounded, set: setKeepaliveDisable},
		"keepalive_requests":          {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 1, once: true, set: setKeepaliveRequests},
		"server_tokens":               {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.ServerTokens })},
		"resolver":                    {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: unbounded, once: true, set: setResolver},
		"resolver_timeout":            {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 1, once: true, set: setResolverTimeout},
		"client_header_timeout":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(msecArg, func(s *Server) *time.Duration { return &s.ClientHeaderTimeout })},
		"client_header_buffer_size":   {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(sizeArg, func(s *Server) *int64 { return &s.ClientHeaderBufferSize })},
		"large_client_header_buffers": {ctx: ctxSrvAll, min: 2, max: 2, once: true, set: onSrv(buffersArg, func(s *Server) *Buffers { return &s.LargeClientHeaderBuffers })},
		"merge_slashes":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.MergeSlashes })},
		"underscores_in_headers":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.UnderscoresInHeaders })},
		"ignore_invalid_headers":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.IgnoreInvalidHeaders })},
	}
}

func setEvents(c *checker, f *frame, d *Directive, _ bool) {
	c.walk(c.newFrame(ctxEvents), d.Block)
}

func setWorkerConnections(c *checker, f *frame, d *Directive, _ bool) {
	if v, ok := numArg(c, d); ok {
		c.spec.Main.WorkerConnections = v
	}
}

func setWorkerRlimitNofile(c *checker, f *frame, d *Directive, _ bool) {
	if v, ok := numArg(c, d); ok {
		c.spec.Main.WorkerRlimitNofile = v
	}
}

func setPID(c *checker, f *frame, d *Directive, _ bool) {
	c.spec.Main.PID = d.Args[0].Text
}

var logLevels = map[string]bool{"debug": true, "info": true, "notice": true, "warn": true, "error": true, "crit": true, "alert": true, "emerg": true}

// setErrorLog is ngx_error_log: "error_log file [level]"; several may be
// given per level (all are written); at http/server/location they inherit
// all-or-nothing.
func setErrorLog(c *checker, f *frame, d *Directive, first bool) {
	el := ErrorLog{Pos: d.Pos, Path: d.Args[0].Text, Level: "error"}
	if len(d.Args) == 2 {
		if !logLevels[d.Args[1].Text] {
			c.errorf(d.Args[1].Pos, "invalid log level %q", d.Args[1].Text)
			return
		}
		el.Level = d.Args[1].Text
	}
	if f.ctx == ctxMain {
		c.spec.Main.ErrorLogs = append(c.spec.Main.ErrorLogs, el)
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.ErrorLogs = nil
		}
		l.ErrorLogs = append(l.ErrorLogs, el)
	})
}

// setInclude: includes are expanded by the parser (ParseFile), so one that
// reaches Check came from an AST built by other means.
func setInclude(c *checker, f *frame, d *Directive, _ bool) {
	c.errorf(d.Pos, "\"include\" directive was not expanded: read files with ParseFile or Load")
}

func setHTTP(c *checker, f *frame, d *Directive, _ bool) {
	c.enterHTTP(d.Pos, d.Block, false)
}

// enterHTTP reads an http body (explicit, or a sites file's top level).
func (c *checker) enterHTTP(pos Pos, body []*Directive, implicit bool) {
	h := &HTTP{Pos: pos, Implicit: implicit}
	c.spec.HTTP = h
	c.http = &httpLevel{h: h}
	f := c.newFrame(ctxHTTP)
	f.lvl = &c.http.level
	c.walk(f, body)
}

// setServer is a server{} block in http, or a server line in upstream.
func setServer(c *checker, f *frame, d *Directive, _ bool) {
	if f.ctx == ctxUpstream {
		setUpstreamServer(c, f, d)
		return
	}
	if len(d.Args) != 0 {
		c.errorf(d.Pos, "invalid number of arguments in \"server\" directive")
		return
	}
	sl := &serverLevel{s: &Server{Pos: d.Pos}}
	c.http.servers = append(c.http.servers, sl)
	c.http.h.Servers = append(c.http.h.Servers, sl.s)
	sf := c.newFrame(ctxServer)
	sf.lvl, sf.server, sf.prog = &sl.level, sl, &sl.s.Rewrite
	c.walk(sf, d.Block)
}

// setListen is ngx_http_core_listen.
func setListen(c *checker, f *frame, d *Directive, _ bool) {
	a := d.Args[0]
	l := Listen{Pos: d.Pos, IPv6Only: true}
	host, port := "", "80"
	switch {
	case strings.HasPrefix(a.Text, "unix:"):
		// ngx_parse_unix_domain_url: "unix:/path"; a relative path is
		// taken from the directory wsgate runs in, as bind(2) takes it.
		if len(a.Text) == len("unix:") {
			c.errorf(a.Pos, "no path in the unix domain socket in %q of the \"listen\" directive", a.Text)
			return
		}
		l.Addr, l.Unix, port = a.Text, true, ""
	case isDigits(a.Text):
		port = a.Text
	case strings.HasPrefix(a.Text, "["):
		h, p, ok := splitHostPort(a.Text)
		if !ok {
			c.errorf(a.Pos, "invalid host in %q of the \"listen\" directive", a.Text)
			return
		}
		host = h
		if p != "" {
			port = p
		}
	case strings.Contains(a.Text, ":"):
		h, p, ok := splitHostPort(a.Text)
		if !ok {
			c.errorf(a.Pos, "invalid host in %q of the \"listen\" directive", a.Text)
			return
		}
		host, port = h, p
	default:
		host = a.Text
	}
	if n, ok := parseNumber(port); !l.Unix && (!ok || n < 1 || n > 65535) {
		c.errorf(a.Pos, "invalid port in %q of the \"listen\" directive", a.Text)
		return
	}
	switch {
	case l.Unix:
	case host == "" || host == "*" || host == "0.0.0.0":
		l.Wildcard, l.Addr = true, "0.0.0.0:"+port
	case host == "[::]":
		l.Wildcard, l.Addr = true, "[::]:"+port
	default:
		l.Addr = host + ":" + port
	}
	for _, p := range d.Args[1:] {
		k, v, _ := strings.Cut(p.Text, "=")
		switch {
		case p.Text == "default_server" || p.Text == "default":
			l.DefaultServer = true
		case p.Text == "ssl":
			l.SSL = true
		case p.Text == "http2":
			l.HTTP2 = true
		case p.Text == "quic":
			l.HTTP3 = true
		case p.Text == "reuseport":
			l.ReusePort = true
		case k == "backlog":
			n, ok := parseNumber(v)
			if !ok || n == 0 || n > 1<<31-1 {
				c.errorf(p.Pos, "invalid backlog %q", p.Text)
				return
			}
			l.Backlog = int(n)
		case k == "ipv6only":
			on, ok := ParseFlag(v)
			if !ok {
				c.errorf(p.Pos, "invalid ipv6only flags %q", v)
				return
			}
			l.IPv6Only = on
		case p.Text == "bind" || p.Text == "deferred" || k == "rcvbuf" || k == "sndbuf" ||
			k == "so_keepalive" || k == "fastopen" || k == "setfib" || k == "accept_filter":
			c.notice(p.Pos, "listen parameter %q accepted and ignored: wsgate has no use for it", p.Text)
		case p.Text == "proxy_protocol":
			l.ProxyProtocol = true
		default:
			c.errorf(p.Pos, "invalid parameter %q", p.Text)
			return
		}
	}
	if l.HTTP3 && !quicListen(c, d, &l) {
		return
	}
	f.server.s.Listens = append(f.server.s.Listens, l)
}

// quicListen checks a "listen ... quic" as ngx_http_core_listen does and
// gives it its own address key: a UDP socket beside any TCP one of the
// same address and port, with its own servers and default server.
func quicListen(c *checker, d *Directive, l *Listen) bool {
	for _, bad := range []struct {
		on   bool
		name string
	}{{l.SSL, "ssl"}, {l.HTTP2, "http2"}, {l.ProxyProtocol, "proxy_protocol"}} {
		if bad.on {
			c.errorf(d.Pos, "\"%s\" parameter is incompatible with \"quic\"", bad.name)
			return false
		}
	}
	if l.Unix {
		c.errorf(d.Pos, "\"quic\" parameter is incompatible with a UNIX-domain socket")
		return false
	}
	l.Addr = QUICPrefix + l.Addr
	return true
}

// QUICPrefix starts the address key of a "listen ... quic": the UDP
// socket of the address after it.
const QUICPrefix = "quic:"

func isDigits(s string) bool {
	_, ok := parseNumber(s)
	return ok
}

// setServerName is ngx_http_core_server_name.
func setServerName(c *checker, f *frame, d *Directive, _ bool) {
	s := f.server.s
	for _, a := range d.Args {
		n := ServerName{Pos: a.Pos}
		name := a.Text
		switch {
		case strings.HasPrefix(name, "~"):
			re, ok := c.convertRegex(a.Pos, name[1:], false)
			if !ok {
				continue
			}
			n.Kind, n.Name = NameRegex, re
		case strings.HasPrefix(name, "*."):
			n.Kind, n.Name = NameWildStart, strings.ToLower(name[1:])
		case strings.HasPrefix(name, ".") && len(name) > 1:
			n.Kind, n.Name, n.Dot = NameWildStart, strings.ToLower(name), true
		case strings.HasSuffix(name, ".*"):
			n.Kind, n.Name = NameWildEnd, strings.ToLower(name[:len(name)-1])
		default:
			n.Kind, n.Name = NameExact, strings.ToLower(name)
		}
		if n.Kind != NameRegex && strings.Contains(strings.Trim(n.Name, "."), "*") || n.Kind == NameExact && strings.Contains(name, "*") {
			c.errorf(a.Pos, "invalid server name or wildcard %q", name)
			continue
		}
		if n.Kind != NameRegex && strings.ContainsAny(name, "/") {
			c.notice(a.Pos, "server name %q has suspicious symbols", name)
		}
		s.Names = append(s.Names, n)
	}
}

// setLocation is ngx_http_core_location.
func setLocation(c *checker, f *frame, d *Directive, _ bool) {
	l := &Location{Pos: d.Pos}
	arg := d.Args[0]
	var path string
	if len(d.Args) == 2 {
		path = d.Args[1].Text
		switch arg.Text {
		case "=":
			l.Match = MatchExact
		case "^~":
			l.Match = MatchPrefixNoRe
		case "~":
			l.Match = MatchRegex
		case "~*":
			l.Match = MatchRegexNoCase
		default:
			c.errorf(arg.Pos, "invalid location modifier %q", arg.Text)
			return
		}
	} else {
		path = arg.Text
		switch {
		case strings.HasPrefix(path, "="):
			l.Match, path = MatchExact, path[1:]
		case strings.HasPrefix(path, "^~"):
			l.Match, path = MatchPrefixNoRe, path[2:]
		case strings.HasPrefix(path, "~*"):
			l.Match, path = MatchRegexNoCase, path[2:]
		case strings.HasPrefix(path, "~"):
			l.Match, path = MatchRegex, path[1:]
		case strings.HasPrefix(path, "@"):
			l.Match = MatchNamed
		}
	}
	if p := f.loc; p != nil {
		// A nested location, checked in ngx_http_core_location's order.
		switch {
		case p.l.Match == MatchExact:
			c.errorf(d.Pos, "location %q cannot be inside the exact location %q", path, p.l.Path)
			return
		case p.l.Match == MatchNamed:
			c.errorf(d.Pos, "location %q cannot be inside the named location %q", path, p.l.Path)
			return
		case l.Match == MatchNamed:
			c.errorf(d.Pos, "named location %q can be on the server level only", path)
			return
		}
	}
	if l.Match == MatchNamed {
		setNamedLocation(c, f, d, l, path)
		return
	}
	regex := l.Match == MatchRegex || l.Match == MatchRegexNoCase
	if regex {
		re, ok := c.convertRegex(d.Args[len(d.Args)-1].Pos, path, l.Match == MatchRegexNoCase)
		if !ok {
			return
		}
		path = re
	}
	l.Path = path

	ll := &locLevel{l: l, parent: f.loc}
	siblings := &f.server.locs
	if f.loc != nil {
		p := f.loc.l
		if !regex && !strings.HasPrefix(path, p.Path) {
			c.errorf(d.Pos, "location %q is outside location %q", path, p.Path)
			return
		}
		siblings = &f.loc.children
	}
	if !regex {
		for _, o := range *siblings {
			om := o.l.Match
			if om == MatchRegex || om == MatchRegexNoCase || o.l.Path != path {
				continue
			}
			if (om == MatchExact) == (l.Match == MatchExact) {
				c.errorf(d.Pos, "duplicate location %q", path)
				return
			}
		}
	}
	*siblings = append(*siblings, ll)
	if f.loc != nil {
		f.loc.l.Locations = append(f.loc.l.Locations, l)
	} else {
		f.server.s.Locations = append(f.server.s.Locations, l)
	}
	lf := c.newFrame(ctxLocation)
	lf.lvl, lf.server, lf.loc, lf.prog = &ll.level, f.server, ll, &l.Rewrite
	c.walk(lf, d.Block)
}

// setNamedLocation reads a server's "location @name { }"
// (ngx_http_core_location with clcf->named), kept apart from the
// locations a URI is matched against. nginx accepts two of one name; the
// first in the file is the one found.
func setNamedLocation(c *checker, f *frame, d *Directive, l *Location, name string) {
	l.Path = name
	ll := &locLevel{l: l}
	f.server.named = append(f.server.named, ll)
	f.server.s.Named = append(f.server.s.Named, l)
	lf := c.newFrame(ctxLocation)
	lf.lvl, lf.server, lf.loc, lf.prog = &ll.level, f.server, ll, &l.Rewrite
	c.walk(lf, d.Block)
}

func setKeepaliveTimeout(c *checker, f *frame, d *Directive, _ bool) {
	if f.ctx == ctxUpstream {
		if len(d.Args) != 1 {
			c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
			return
		}
		if v, ok := msecArg(c, d); ok {
			f.ups.KeepaliveTimeout = v
		}
		return
	}
	// ngx_http_core_keepalive: "timeout [header_timeout]". The header's
	// value is set only by the two-value form and otherwise inherited,
	// as nginx merges keepalive_header on its own.
	v, ok := msecArg(c, d)
	if !ok {
		return
	}
	if len(d.Args) == 2 {
		h, ok := ParseTime(d.Args[1].Text, true)
		if !ok {
			c.errorf(d.Args[1].Pos, "%q directive invalid value", d.Name)
			return
		}
		f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveHeader = h })
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveTimeout = v })
}

// KeepaliveDisable is keepalive_disable's browsers.
type KeepaliveDisable struct {
	MSIE6  bool // no keep-alive after a POST from MSIE 6 and older
	Safari bool // no keep-alive for Safari on macOS
}

// setKeepaliveDisable is keepalive_disable (ngx_conf_set_bitmask_slot
// over none, msie6 and safari): the values named add up, over all the
// lines of a level, "none" adding nothing, so "none" alone turns both
// tests off; a level with any line replaces the outer level's set.
func setKeepaliveDisable(c *checker, f *frame, d *Directive, first bool) {
	var kd KeepaliveDisable
	for _, a := range d.Args {
		switch a.Text {
		case "none":
		case "msie6":
			kd.MSIE6 = true
		case "safari":
			kd.Safari = true
		default:
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return
		}
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.KeepaliveDisable = KeepaliveDisable{}
		}
		l.KeepaliveDisable.MSIE6 = l.KeepaliveDisable.MSIE6 || kd.MSIE6
		l.KeepaliveDisable.Safari = l.KeepaliveDisable.Safari || kd.Safari
	})
}

// setKeepaliveTime is keepalive_time (nginx 1.19.10), for client
// connections and, in upstream{}, for cached upstream connections: the
// longest a keep-alive connection serves requests.
func setKeepaliveTime(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := msecArg(c, d)
	if !ok {
		return
	}
	if f.ctx == ctxUpstream {
		f.ups.KeepaliveTime = v
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveTime = v })
}

func setKeepaliveRequests(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := numArg(c, d)
	if !ok {
		return
	}
	if f.ctx == ctxUpstream {
		f.ups.KeepaliveRequests = v
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.KeepaliveRequests = v })
}

// setResolver is ngx_http_core_resolver (ngx_resolver_create): name
// server addresses ("127.0.0.1", "[::1]:5353", or a host name, resolved
// when the configuration is loaded, port 53 by default), then valid=time,
// ipv6=on|off and ipv4=on|off (nginx 1.23.1; wsgate accepts it with nginx
// 1.22's other parameters). status_zone= (NGINX Plus) is noted and
// ignored.
func setResolver(c *checker, f *frame, d *Directive, _ bool) {
	r := &Resolver{IPv4: true, IPv6: true, Pos: d.Pos}
	bad := false
	for _, a := range d.Args {
		switch {
		case strings.HasPrefix(a.Text, "valid="):
			v, ok := ParseTime(a.Text[len("valid="):], true)
			if !ok {
				c.errorf(a.Pos, "invalid parameter: %s", a.Text)
				bad = true
				continue
			}
			r.Valid = v
		case strings.HasPrefix(a.Text, "ipv4="), strings.HasPrefix(a.Text, "ipv6="):
			on := a.Text[5:] == "on"
			if !on && a.Text[5:] != "off" {
				c.errorf(a.Pos, "invalid parameter: %s", a.Text)
				bad = true
				continue
			}
			if a.Text[3] == '4' {
				r.IPv4 = on
			} else {
				r.IPv6 = on
			}
		case strings.HasPrefix(a.Text, "status_zone="):
			c.notice(a.Pos, "resolver parameter %q is ignored: status zones are an NGINX Plus feature", a.Text)
		default:
			if _, _, ok := SplitResolverAddr(a.Text); !ok {
				c.errorf(a.Pos, "invalid port in resolver %q", a.Text)
				bad = true
				continue
			}
			r.Addrs = append(r.Addrs, a.Text)
		}
	}
	if !r.IPv4 && !r.IPv6 {
		c.errorf(d.Pos, "\"ipv4\" and \"ipv6\" cannot both be \"off\"")
		return
	}
	if len(r.Addrs) == 0 {
		if !bad {
			c.errorf(d.Pos, "no name servers defined")
		}
		return
	}
	switch f.ctx {
	case ctxUpstream:
		f.ups.Resolver = r
		return
	case ctxHTTP:
		c.http.h.Resolver = r
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.Resolver = r })
}

// setResolverTimeout is resolver_timeout at http, server and location
// level, and in an upstream block (nginx 1.27.3) for its resolve servers.
func setResolverTimeout(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := msecArg(c, d)
	if !ok {
		return
	}
	switch f.ctx {
	case ctxUpstream:
		f.ups.ResolverTimeout = v
		return
	case ctxHTTP:
		c.http.h.ResolverTimeout = v
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ResolverTimeout = v })
}

// SplitResolverAddr splits a resolver address into host (brackets of an
// IPv6 literal removed) and port, 53 when none is given (ngx_parse_url
// with default_port 53).
func SplitResolverAddr(s string) (host string, port uint16, ok bool) {
	host, ps := s, "53"
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, false
			}
			ps = rest[1:]
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.Count(s, ":") > 1 {
			// A bare IPv6 literal: no port.
			host = s
		} else {
			host, ps = s[:i], s[i+1:]
		}
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || n == 0 || host == "" {
		return "", 0, false
	}
	return host, uint16(n), true
}

// buffersArg is ngx_conf_set_bufs_slot: "number size".
func buffersArg(c *checker, d *Directive) (Buffers, bool) {
	n, ok1 := parseNumber(d.Args[0].Text)
	size, ok2 := ParseSize(d.Args[1].Text)
	if !ok1 || !ok2 || n == 0 || size == 0 || n > 1<<31-1 {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
		return Buffers{}, false
	}
	return Buffers{Num: int(n), Size: size}, true
}
