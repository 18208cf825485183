package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Dump writes a readable, deterministic text rendering of s: the main
// context, log formats, upstreams, maps, every server with its listens,
// names, server-level settings, effective configuration and location tree
// (each location with its full effective configuration), then the notices.
// Golden tests pin Check with it. Values
// are written in nginx syntax (durations "1h30m", sizes "8k"); strings are
// Go-quoted so empty values and spaces are visible.
func Dump(w io.Writer, s *Spec) {
	d := &dumper{w: w}
	d.main(&s.Main)
	if h := s.HTTP; h != nil {
		implicit := ""
		if h.Implicit {
			implicit = " (implicit)"
		}
		d.line(0, "http%s", implicit)
		for _, lf := range h.LogFormats {
			d.line(1, "log_format %s escape=%s %q%s", lf.Name, lf.Escape, lf.Format, at(lf.Pos))
		}
		for _, u := range h.Upstreams {
			d.upstream(u)
		}
		for _, m := range h.Maps {
			d.mapBlock(m)
		}
		for _, v := range h.SetVariables {
			d.line(1, "set variable $%s%s", v.Name, at(v.Pos))
		}
		for _, srv := range h.Servers {
			d.server(srv)
		}
	}
	for _, n := range s.Notices {
		d.line(0, "notice %s: %s", n.Pos, n.Msg)
	}
}

type dumper struct {
	w io.Writer
}

func (d *dumper) line(depth int, format string, args ...any) {
	fmt.Fprintf(d.w, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
}

// at renders " @ file:line:col", or "" for positions Check invented.
func at(p Pos) string {
	if !p.IsValid() {
		return ""
	}
	return " @ " + p.String()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (d *dumper) main(m *MainConf) {
	d.line(0, "main")
	if m.PID != "" {
		d.line(1, "pid %q", m.PID)
	}
	if m.WorkerConnections > 0 {
		d.line(1, "worker_connections %d", m.WorkerConnections)
	}
	if m.WorkerRlimitNofile > 0 {
		d.line(1, "worker_rlimit_nofile %d", m.WorkerRlimitNofile)
	}
	for _, e := range m.ErrorLogs {
		d.line(1, "error_log %q %s%s", e.Path, e.Level, at(e.Pos))
	}
}

func (d *dumper) upstream(u *Upstream) {
	d.line(1, "upstream %s%s", u.Name, at(u.Pos))
	switch u.Balance {
	case BalanceHash:
		cons := ""
		if u.HashConsistent {
			cons = " consistent"
		}
		d.line(2, "balance hash %q%s", u.HashKey, cons)
	case BalanceRandom:
		if u.RandomTwo {
			d.line(2, "balance random two least_conn")
		} else {
			d.line(2, "balance random")
		}
	default:
		d.line(2, "balance %s", u.Balance)
	}
	d.line(2, "keepalive %d timeout=%s requests=%d", u.Keepalive, formatDuration(u.KeepaliveTimeout), u.KeepaliveRequests)
	if u.Zone != "" {
		d.line(2, "zone %s", u.Zone)
	}
	for _, s := range u.Servers {
		var flags []string
		if s.Backup {
			flags = append(flags, "backup")
		}
		if s.Down {
			flags = append(flags, "down")
		}
		extra := ""
		if len(flags) > 0 {
			extra = " " + strings.Join(flags, " ")
		}
		d.line(2, "server %s weight=%d max_fails=%d fail_timeout=%s max_conns=%d%s%s",
			s.Addr, s.Weight, s.MaxFails, formatDuration(s.FailTimeout), s.MaxConns, extra, at(s.Pos))
	}
}

func (d *dumper) mapBlock(m *Map) {
	d.line(1, "map %q $%s%s", m.Source, m.Var, at(m.Pos))
	if m.Hostnames {
		d.line(2, "hostnames")
	}
	if m.Volatile {
		d.line(2, "volatile")
	}
	d.line(2, "default %q", m.Default)
	for _, e := range m.Entries {
		kind := "exact"
		switch {
		case e.Regex && e.NoCase:
			kind = "regex~*"
		case e.Regex:
			kind = "regex~"
		}
		d.line(2, "%s %q %q%s", kind, e.Key, e.Value, at(e.Pos))
	}
}

var nameKinds = [...]string{"exact", "wild_start", "wild_end", "regex"}

func (d *dumper) server(s *Server) {
	d.line(1, "server%s", at(s.Pos))
	for _, l := range s.Listens {
		var b strings.Builder
		b.WriteString("listen " + l.Addr)
		for _, f := range []struct {
			on   bool
			name string
		}{{l.Wildcard, "wildcard"}, {l.IsDefault, "is_default"}, {l.DefaultServer, "default_server"}, {l.SSL, "ssl"},
			{l.HTTP2, "http2"}, {l.HTTP3, "quic"}, {l.ReusePort, "reuseport"}, {!l.IPv6Only, "ipv6only=off"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		if l.Backlog > 0 {
			b.WriteString(" backlog=" + strconv.Itoa(l.Backlog))
		}
		d.line(2, "%s%s", b.String(), at(l.Pos))
	}
	for _, n := range s.Names {
		dot := ""
		if n.Dot {
			dot = " dot"
		}
		d.line(2, "server_name %s %q%s%s", nameKinds[n.Kind], n.Name, dot, at(n.Pos))
	}
	d.line(2, "client_header_timeout %s", formatDuration(s.ClientHeaderTimeout))
	d.line(2, "client_header_buffer_size %s", formatSize(s.ClientHeaderBufferSize))
	d.line(2, "large_client_header_buffers %d %s", s.LargeClientHeaderBuffers.Num, formatSize(s.LargeClientHeaderBuffers.Size))
	d.line(2, "merge_slashes %s", onOff(s.MergeSlashes))
	d.line(2, "underscores_in_headers %s", onOff(s.UnderscoresInHeaders))
	d.line(2, "ignore_invalid_headers %s", onOff(s.IgnoreInvalidHeaders))
	if t := s.TLS; t != nil {
		for i, c := range t.Certificates {
			d.line(2, "ssl_certificate %q", c)
			if i < len(t.CertificateKeys) {
				d.line(2, "ssl_certificate_key %q", t.CertificateKeys[i])
			}
		}
		d.line(2, "ssl_protocols %s", strings.Join(t.Protocols, " "))
		d.line(2, "ssl_ciphers %q", t.Ciphers)
		d.line(2, "ssl_prefer_server_ciphers %s", onOff(t.PreferServerCiphers))
		d.line(2, "ssl_session_cache %q", t.SessionCache)
		d.line(2, "ssl_session_timeout %s", formatDuration(t.SessionTimeout))
	}
	d.line(2, "server-level conf")
	d.conf(3, &s.Conf)
	d.rewrite(2, s.Rewrite)
	for _, l := range s.Locations {
		d.location(2, l)
	}
	for _, l := range s.Named {
		d.location(2, l)
	}
}

func (d *dumper) location(depth int, l *Location) {
	mod := l.Match.String()
	if mod != "" {
		mod += " "
	}
	d.line(depth, "location %s%q%s", mod, l.Path, at(l.Pos))
	d.conf(depth+1, &l.Conf)
	d.rewrite(depth+1, l.Rewrite)
	for _, c := range l.Locations {
		d.location(depth+1, c)
	}
}

var nextUpstreamOrder = []struct {
	bit  NextUpstream
	name string
}{{NextError, "error"}, {NextTimeout, "timeout"}, {NextInvalidHeader, "invalid_header"}, {NextHTTP500, "http_500"},
	{NextHTTP502, "http_502"}, {NextHTTP503, "http_503"}, {NextHTTP504, "http_504"}, {NextHTTP403, "http_403"},
	{NextHTTP404, "http_404"}, {NextHTTP429, "http_429"}, {NextNonIdempotent, "non_idempotent"}}

func nextUpstreamString(m NextUpstream) string {
	var parts []string
	for _, n := range nextUpstreamOrder {
		if m&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, " ")
}

var (
	rewriteFlags = [...]string{"", " last", " break", " redirect", " permanent"}
	condOps      = map[CondKind]string{CondEqual: "=", CondMatch: "~"}
)

// rewrite dumps a block's rewrite module instructions; an if block's
// nested configuration is dumped under it.
func (d *dumper) rewrite(depth int, ops []RewriteOp) {
	for _, op := range ops {
		switch op.Kind {
		case OpRewrite:
			args := ""
			if !op.KeepArgs {
				args = " drop_args"
			}
			status := ""
			if op.Status != 0 {
				status = " status=" + strconv.Itoa(op.Status)
			}
			d.line(depth, "rewrite %q %q%s%s%s%s", op.Regex, op.Replacement, rewriteFlags[op.Flag], args, status, at(op.Pos))
		case OpReturn:
			d.line(depth, "return %d %q%s", op.Return.Code, op.Return.Text, at(op.Pos))
		case OpBreak:
			d.line(depth, "break%s", at(op.Pos))
		case OpSet:
			d.line(depth, "set $%s %q%s", op.Var, op.Value, at(op.Pos))
		case OpIf:
			c := op.If.Cond
			var cond string
			switch c.Kind {
			case CondVar:
				cond = "$" + c.Var
			case CondFile:
				cond = "-" + string(c.File) + " " + strconv.Quote(c.Value)
			default:
				o := condOps[c.Kind]
				if c.NoCase {
					o += "*"
				}
				cond = "$" + c.Var + " " + o + " " + strconv.Quote(c.Value)
			}
			if c.Negate {
				cond = "not " + cond
			}
			d.line(depth, "if (%s)%s", cond, at(op.Pos))
			d.rewrite(depth+1, op.If.Body)
			if op.If.Conf != nil {
				d.line(depth+1, "if-level conf")
				d.conf(depth+2, op.If.Conf)
			}
		}
	}
}

func (d *dumper) conf(depth int, c *LocConf) {
	if p := c.ProxyPass; p != nil {
		if p.HasVars {
			d.line(depth, "proxy_pass %q scheme=%q vars%s", p.Raw, p.Scheme, at(p.Pos))
		} else {
			uri := "none"
			if p.HasURI {
				uri = strconv.Quote(p.URI)
			}
			ups := "implicit"
			if p.Upstream != "" {
				ups = "upstream=" + p.Upstream
			}
			d.line(depth, "proxy_pass %q scheme=%s host=%q port=%q uri=%s %s%s", p.Raw, p.Scheme, p.Host, p.Port, uri, ups, at(p.Pos))
		}
	}
	for _, p := range c.ErrorPages {
		resp := ""
		switch p.Response {
		case ResponseTarget:
			resp = " ="
		case ResponseCode:
			resp = " =" + strconv.Itoa(p.Code)
		}
		args := ""
		if p.Args != "" {
			args = " args=" + strconv.Quote(p.Args)
		}
		d.line(depth, "error_page %d%s %q%s%s", p.Status, resp, p.Target, args, at(p.Pos))
	}
	if c.RecursiveErrorPages {
		d.line(depth, "recursive_error_pages on")
	}
	if c.ProxyInterceptErrors {
		d.line(depth, "proxy_intercept_errors on")
	}
	d.line(depth, "proxy_http_version %s", c.ProxyHTTPVersion)
	inh := ""
	if c.SetHeadersInherited {
		inh = " (inherited)"
	}
	d.line(depth, "proxy_set_header %d%s", len(c.ProxySetHeaders), inh)
	for _, h := range c.ProxySetHeaders {
		d.line(depth+1, "%s %q%s", h.Name, h.Value, at(h.Pos))
	}
	for _, h := range c.SetHeadersDropped {
		d.line(depth+1, "dropped %s %q%s", h.Name, h.Value, at(h.Pos))
	}
	if len(c.ProxyHideHeaders) > 0 {
		d.line(depth, "proxy_hide_header %s", strings.Join(c.ProxyHideHeaders, " "))
	}
	if len(c.ProxyPassHeaders) > 0 {
		d.line(depth, "proxy_pass_header %s", strings.Join(c.ProxyPassHeaders, " "))
	}
	if c.ProxyRedirectOff {
		d.line(depth, "proxy_redirect off")
	}
	for _, r := range c.ProxyRedirect {
		kind := ""
		switch {
		case r.Regex && r.NoCase:
			kind = "~* "
		case r.Regex:
			kind = "~ "
		}
		def := ""
		if r.Default {
			def = " (default)"
		}
		d.line(depth, "proxy_redirect %s%q %q%s%s", kind, r.From, r.To, def, at(r.Pos))
	}
	dumpHeaders(d, depth, &c.Headers)
	d.line(depth, "proxy_connect_timeout %s", formatDuration(c.ProxyConnectTimeout))
	d.line(depth, "proxy_read_timeout %s", formatDuration(c.ProxyReadTimeout))
	d.line(depth, "proxy_send_timeout %s", formatDuration(c.ProxySendTimeout))
	d.line(depth, "proxy_next_upstream %s tries=%d timeout=%s", nextUpstreamString(c.ProxyNextUpstream), c.ProxyNextUpstreamTries, formatDuration(c.ProxyNextUpstreamTimeout))
	d.line(depth, "proxy_buffering %s buffer_size=%s request_buffering=%s", onOff(c.ProxyBuffering), formatSize(c.ProxyBufferSize), onOff(c.ProxyRequestBuffering))
	d.line(depth, "proxy_pass_request_headers %s body=%s ignore_client_abort=%s", onOff(c.ProxyPassRequestHeaders), onOff(c.ProxyPassRequestBody), onOff(c.ProxyIgnoreClientAbort))
	d.line(depth, "client_max_body_size %s client_body_timeout %s send_timeout %s", formatSize(c.ClientMaxBodySize), formatDuration(c.ClientBodyTimeout), formatDuration(c.SendTimeout))
	d.line(depth, "keepalive_timeout %s keepalive_requests %d server_tokens %s", formatDuration(c.KeepaliveTimeout), c.KeepaliveRequests, onOff(c.ServerTokens))
	if r := c.Resolver; r != nil {
		d.line(depth, "resolver %s valid=%s ipv4=%s ipv6=%s", strings.Join(r.Addrs, " "), formatDuration(r.Valid), onOff(r.IPv4), onOff(r.IPv6))
	}
	d.line(depth, "resolver_timeout %s", formatDuration(c.ResolverTimeout))
	if c.RewriteLog {
		d.line(depth, "rewrite_log on")
	}
	if !c.UninitializedVariableWarn {
		d.line(depth, "uninitialized_variable_warn off")
	}
	if c.AccessLogOff {
		d.line(depth, "access_log off")
	}
	for _, a := range c.AccessLogs {
		var extra []string
		if a.Buffer > 0 {
			extra = append(extra, "buffer="+formatSize(a.Buffer))
		}
		if a.Flush > 0 {
			extra = append(extra, "flush="+formatDuration(a.Flush))
		}
		if a.If != "" {
			extra = append(extra, "if="+strconv.Quote(a.If))
		}
		e := ""
		if len(extra) > 0 {
			e = " " + strings.Join(extra, " ")
		}
		d.line(depth, "access_log %q %s%s%s", a.Path, a.Format, e, at(a.Pos))
	}
	for _, e := range c.ErrorLogs {
		d.line(depth, "error_log %q %s%s", e.Path, e.Level, at(e.Pos))
	}
	if c.Internal {
		d.line(depth, "internal")
	}
	if !c.AbsoluteRedirect || !c.PortInRedirect || c.ServerNameInRedirect {
		d.line(depth, "absolute_redirect %s port_in_redirect %s server_name_in_redirect %s",
			onOff(c.AbsoluteRedirect), onOff(c.PortInRedirect), onOff(c.ServerNameInRedirect))
	}
	d.files(depth, &c.Files)
	allow := ""
	if len(c.WS.AllowUpgrades) > 0 {
		allow = " allow_upgrade=" + strings.Join(c.WS.AllowUpgrades, ",")
	}
	d.line(depth, "ws_upgrade %s reload_close_code %d drain_window %s%s", onOff(c.WS.Upgrade), c.WS.ReloadClose, formatDuration(c.WS.DrainWindow), allow)
}

// formatSize renders a byte count with the largest exact nginx suffix
// ("1m", "4k", "1000").
func formatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "g"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "m"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// files dumps the static file settings (files.go).
func (d *dumper) files(depth int, f *FilesConf) {
	if f.Alias {
		re := ""
		if f.AliasRegex {
			re = " regex"
		}
		d.line(depth, "alias %q location=%q%s%s", f.Root, f.AliasLocation, re, at(f.RootPos))
	} else {
		d.line(depth, "root %q%s", f.Root, at(f.RootPos))
	}
	d.line(depth, "index %s", strings.Join(f.Index, " "))
	if len(f.TryFiles) > 0 {
		d.line(depth, "try_files %s%s", strings.Join(f.TryFiles, " "), at(f.TryFilesPos))
	}
	types := "built-in"
	if f.Types != nil {
		types = strconv.Itoa(len(f.Types))
	}
	charset := f.Charset
	if charset == "" {
		charset = "off"
	}
	d.line(depth, "types %s default_type %q charset %s etag %s if_modified_since %s max_ranges %d",
		types, f.DefaultType, charset, onOff(f.ETag), f.IfModifiedSince, f.MaxRanges)
	if f.Expires.Mode != ExpiresOff {
		d.line(depth, "expires mode=%d time=%s%s", f.Expires.Mode, formatDuration(f.Expires.Time), at(f.ExpiresPos))
	}
	if f.Autoindex {
		d.line(depth, "autoindex on format=%s exact_size=%s localtime=%s", f.AutoindexFormat, onOff(f.AutoindexExactSize), onOff(f.AutoindexLocaltime))
	}
}

// dumpHeaders prints the header filters' settings, nothing when none.
func dumpHeaders(d *dumper, depth int, h *HeadersConf) {
	add := func(kind string, list []AddHeader, prefix string) {
		for _, a := range list {
			always := ""
			if a.Always {
				always = " always"
			}
			d.line(depth, "%s%s %s %q%s%s", prefix, kind, a.Name, a.Value, always, at(a.Pos))
		}
	}
	add("add_header", h.Add, "")
	add("add_header", h.AddDropped, "dropped ")
	add("add_trailer", h.Trailers, "")
	for _, m := range h.More {
		var opts []string
		if len(m.Statuses) > 0 {
			opts = append(opts, fmt.Sprintf("-s %v", m.Statuses))
		}
		if len(m.Types) > 0 {
			opts = append(opts, fmt.Sprintf("-t %q", m.Types))
		}
		if m.Append {
			opts = append(opts, "-a")
		}
		var hs []string
		for _, x := range m.Headers {
			w := ""
			if x.Wildcard {
				w = "*"
			}
			hs = append(hs, fmt.Sprintf("%s%s=%q", x.Name, w, x.Value))
		}
		d.line(depth, "more %s %s%s", strings.Join(opts, " "), strings.Join(hs, " "), at(m.Pos))
	}
}
