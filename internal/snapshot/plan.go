package snapshot

import (
	"errors"
	"log/slog"
	"strings"

	"wsgate/internal/accesslog"
	"wsgate/internal/bodyfilter"
	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/headers"
	"wsgate/internal/ws"
)

// This file is the second half of a location's compilation: what the
// content handlers need at request time (nginx's per-location
// ngx_http_proxy_merge_loc_conf and ngx_http_proxy_init_headers work, done
// once per configuration instead of once per request).

// Content names the handler of nginx's content phase that answers a
// location's requests. It is chosen when the snapshot is built, from the
// location's directives, so that a request does not test them again.
type Content uint8

const (
	// ContentFiles: the location names no content handler of its own;
	// nginx's static modules serve files from root or alias
	// (internal/files: try_files, index, autoindex, static).
	ContentFiles Content = iota
	// ContentProxy: proxy_pass (ngx_http_proxy_module).
	ContentProxy
	// ContentStubStatus: stub_status (ngx_http_stub_status_module), the
	// connection counters as text.
	ContentStubStatus
	// ContentMetrics: ws_metrics, the Prometheus text exposition of the
	// process's metrics (internal/metrics).
	ContentMetrics
	// ContentStatus: ws_status, the live status page and its WebSocket
	// (internal/status).
	ContentStatus

	// NumContent is the number of kinds: a table indexed by Content
	// (the request pipeline's content handlers) has this length.
	NumContent
)

// contentOf is the content handler of lc. return is not one: it ends the
// request in the rewrite phases (internal/rewrite), before content.
func contentOf(lc *config.LocConf) Content {
	switch {
	case lc.ProxyPass != nil:
		return ContentProxy
	case lc.StubStatus:
		return ContentStubStatus
	case lc.WSMetrics:
		return ContentMetrics
	case lc.WSStatus:
		return ContentStatus
	}
	return ContentFiles
}

// handlers counts the content handlers lc names.
func handlers(lc *config.LocConf) int {
	n := 0
	for _, on := range []bool{lc.ProxyPass != nil, lc.StubStatus, lc.WSMetrics, lc.WSStatus} {
		if on {
			n++
		}
	}
	return n
}

// compilePlans fills in every location of s what requests need: the
// content handler, header and response plans, the proxy_pass target rule,
// the request limits and the access logs. Every problem is added to errs.
func compilePlans(s *Snapshot, env *Env, errs *config.ErrorList) {
	compile := CompileWith(s.Vars)
	formats := map[string]*config.LogFormat{}
	for _, f := range s.Spec.HTTP.LogFormats {
		formats[f.Name] = f
	}
	addErr := func(pos config.Pos, what string, err error) {
		var ce *config.Error
		if errors.As(err, &ce) {
			*errs = append(*errs, ce)
			return
		}
		errs.Add(pos, "%s: %v", what, err)
	}
	tables := files.NewCharsetTables(s.Spec.HTTP.CharsetMaps)
	for lc, loc := range s.Locs {
		path, isRegex := "", false
		if l := loc.Location; l != nil {
			path = l.Path
			isRegex = l.Match == config.MatchRegex || l.Match == config.MatchRegexNoCase
		}
		loc.Content = contentOf(lc)
		if n := handlers(lc); n > 1 && (lc.WSMetrics || lc.WSStatus) {
			// nginx keeps the last content handler a level names; for
			// wsgate's own, a second one is a mistake to report.
			errs.Add(loc.pos(), "ws_metrics and ws_status cannot share a location with each other, proxy_pass or stub_status")
			continue
		}
		loc.CheckHandshake = loc.Content == ContentProxy
		var err error
		if loc.WSPolicy, err = ws.NewPolicy(lc.WS.AllowOrigins, lc.WS.Subprotocols, lc.WS.Deflate); err != nil {
			addErr(loc.pos(), "ws_allow_origins", err)
			continue
		}
		if v := lc.Files.Expires.Value; v != "" {
			if loc.ExpiresValue, err = compile(v); err != nil {
				errs.Add(lc.Files.ExpiresPos, "expires: %v", err)
				continue
			}
		}
		recode, ok := charsetRecode(lc, tables, errs)
		if !ok {
			continue
		}
		if loc.Charset, err = files.NewCharsetValue(lc.Files.Charset, lc.Files.CharsetTypes, func(raw string) (files.Template, error) { return compile(raw) }); err != nil {
			errs.Add(lc.Files.CharsetPos, "charset: %v", err)
			continue
		}
		if loc.Headers, err = NewHeaderPlan(lc, compile); err != nil {
			addErr(loc.pos(), "proxy_set_header", err)
			continue
		}
		if loc.Response, err = NewResponsePlan(lc, path, isRegex, env.Version, compile); err != nil {
			addErr(loc.pos(), "proxy_redirect", err)
			continue
		}
		if loc.Filter, err = headers.Compile(&lc.Headers, compileValue(s)); err != nil {
			addErr(loc.pos(), "add_header", err)
			continue
		}
		if loc.Body, err = bodyfilter.Compile(lc, compileBodyValue(s), bodyfilter.Options{Charsets: tables, Log: env.Log}); err != nil {
			addErr(loc.pos(), "sub_filter", err)
			continue
		}
		if loc.Input, err = headers.CompileInput(&lc.Headers, compileValue(s)); err != nil {
			addErr(loc.pos(), "more_set_input_headers", err)
			continue
		}
		if pp := lc.ProxyPass; pp != nil && (pp.Scheme == "https" || pp.HasVars) {
			if loc.UpstreamTLS, err = newUpstreamTLS(&lc.ProxySSL, confPrefix(s.Spec), compile); err != nil {
				addErr(pp.Pos, "proxy_pass", err)
				continue
			}
		}
		if lc.ProxyPass != nil {
			loc.Target = NewTargetRule(lc.ProxyPass, path, isRegex)
			loc.ProxyHost, loc.ProxyPort = ProxyHost(lc.ProxyPass), ProxyPort(lc.ProxyPass)
			if loc.Proxy, err = newProxyOptions(lc, compile); err != nil {
				addErr(lc.ProxyPass.Pos, "proxy_pass", err)
				continue
			}
		}
		loc.Limits = requestLimits(lc)
		loc.ServerInfo = ServerInfo{Version: env.Version, Tokens: lc.ServerTokens}
		loc.ReadTimeout = lc.ProxyReadTimeout
		loc.SendTimeout = lc.ProxySendTimeout
		loc.AbsoluteRedirect, loc.PortInRedirect, loc.ServerNameInRedirect = lc.AbsoluteRedirect, lc.PortInRedirect, lc.ServerNameInRedirect
		if loc.Body.RecodesXAccelCharset() {
			loc.Response.LeaveOverriddenCharset()
		}
		if loc.Body.LabelsCharset() {
			// The body filter's charset stage labels and recodes what
			// the other handlers send, knowing the charset each
			// response came with.
			loc.Charset = files.Charset{}
			loc.Response.LeaveCharset()
		}
		loc.Types, loc.DefaultType = lc.Files.Types, lc.Files.DefaultType
		loc.Expires = lc.Files.Expires
		if loc.Content == ContentFiles || len(lc.Files.TryFiles) > 0 {
			log := env.Log
			if len(lc.ErrorLogs) > 0 && env.Logs != nil {
				if log, err = env.Logs.ErrorLogger(lc.ErrorLogs); err != nil {
					errs.Add(lc.ErrorLogs[0].Pos, "%v", err)
					continue
				}
			}
			if loc.Files, err = compileFiles(loc, env, log, recode, compile); err != nil {
				// files.New names the directive and value; the error
				// is placed at try_files for its arguments, else at
				// root or alias, else at the location.
				pos := lc.Files.RootPos
				if strings.HasPrefix(err.Error(), "try_files") && lc.Files.TryFilesPos.IsValid() {
					pos = lc.Files.TryFilesPos
				}
				if !pos.IsValid() {
					pos = loc.pos()
				}
				errs.Add(pos, "%v", err)
				continue
			}
			loc.Paths = loc.Files
		} else {
			loc.Paths = compilePaths(lc, env, compile)
		}
		if lc.AccessLogOff || env.Logs == nil {
			continue
		}
		for _, al := range lc.AccessLogs {
			f, tmpl := formats[al.Format], s.LogFormats[al.Format]
			if f == nil {
				errs.Add(al.Pos, "unknown log format %q", al.Format)
				continue
			}
			if tmpl == nil {
				continue // the log_format's own error is reported
			}
			lg, err := env.Logs.Logger(al, f, tmpl, s.Vars, accesslog.LoggerOptions{Cache: lc.OpenLogFileCache, ErrorLog: env.Log})
			if err != nil {
				errs.Add(al.Pos, "%v", err)
				continue
			}
			loc.Logs = append(loc.Logs, lg)
		}
	}
}

// pos is where loc is defined, for errors.
func (loc *Loc) pos() config.Pos {
	if loc.Location != nil {
		return loc.Location.Pos
	}
	return loc.Server.Pos
}

// compileFiles builds the file handler of a location that neither
// proxies nor returns.
// Its error lines go to log: the location's error_log, or the process's.
func compileFiles(loc *Loc, env *Env, log *slog.Logger, recode *files.Recode, compile CompileFunc) (*files.Handler, error) {
	f := &loc.Conf.Files
	c := files.Config{
		Root:               f.Root,
		Prefix:             env.Prefix,
		Alias:              f.Alias,
		Location:           f.AliasLocation,
		Regex:              f.AliasRegex,
		Index:              f.Index,
		TryFiles:           f.TryFiles,
		Autoindex:          f.Autoindex,
		AutoindexFormat:    f.AutoindexFormat,
		AutoindexExactSize: f.AutoindexExactSize,
		AutoindexLocaltime: f.AutoindexLocaltime,
		Types:              f.Types,
		DefaultType:        f.DefaultType,
		Charset:            f.Charset,
		CharsetTypes:       f.CharsetTypes,
		Expires:            f.Expires,
		ETag:               f.ETag,
		IfModifiedSince:    f.IfModifiedSince,
		MaxRanges:          f.MaxRanges,
		LogNotFound:        f.LogNotFound,
		Log:                log,
		Recode:             recode,
		Cache:              env.Files,
	}
	return files.New(c, func(raw string) (files.Template, error) { return compile(raw) })
}

// compilePaths gives a location that proxies or returns its
// $document_root, $realpath_root and $request_filename: nginx has them in
// every location, from the root (default "html") or alias it inherits.
// nil when the root does not compile (its own location reports that).
func compilePaths(lc *config.LocConf, env *Env, compile CompileFunc) *files.Handler {
	f := &lc.Files
	h, err := files.New(files.Config{Root: f.Root, Prefix: env.Prefix, Alias: f.Alias, Location: f.AliasLocation, Regex: f.AliasRegex},
		func(raw string) (files.Template, error) { return compile(raw) })
	if err != nil {
		return nil
	}
	return h
}

// charsetRecode is the recoding of a location's static files from
// source_charset into charset (ngx_http_charset_merge_loc_conf and
// ngx_http_charset_postconfiguration: a charset_map must join them), nil
// when there is none. What other handlers send is recoded by the body
// filter's charset stage (bodyfilter.Filter.LabelsCharset). It returns
// false after adding an error to errs.
func charsetRecode(lc *config.LocConf, tables *files.CharsetTables, errs *config.ErrorList) (*files.Recode, bool) {
	f := &lc.Files
	if f.Charset == "" {
		return nil, true
	}
	if files.IsVariableCharset(f.Charset) && (f.SourceCharset != "" || f.OverrideCharset) {
		errs.Add(f.CharsetPos, "a variable in \"charset\" together with source_charset or override_charset is not supported by wsgate; name the charset")
		return nil, false
	}
	if f.SourceCharset == "" || strings.EqualFold(f.SourceCharset, f.Charset) {
		return nil, true
	}
	r, ok := tables.Find(f.SourceCharset, f.Charset)
	if !ok {
		errs.Add(f.SourceCharsetPos, "no \"charset_map\" between the charsets %q and %q", f.SourceCharset, f.Charset)
		return nil, false
	}
	return r, true
}

// compileBodyValue compiles body filter values with the snapshot's
// variables.
func compileBodyValue(s *Snapshot) bodyfilter.CompileFunc {
	return func(raw string) (bodyfilter.Value, error) {
		t, err := s.Vars.Compile(raw)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// compileValue compiles header filter values with the snapshot's
// variables.
func compileValue(s *Snapshot) headers.CompileFunc {
	return func(raw string) (headers.Value, error) {
		t, err := s.Vars.Compile(raw)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// requestLimits is a location's request-level settings, as the HTTP/1.x,
// HTTP/2 and HTTP/3 writers apply them (ngx_http_core_loc_conf_t).
func requestLimits(lc *config.LocConf) exchange.Limits {
	return exchange.Limits{
		ClientMaxBodySize:      lc.ClientMaxBodySize,
		ClientBodyTimeout:      lc.ClientBodyTimeout,
		SendTimeout:            lc.SendTimeout,
		KeepaliveTimeout:       lc.KeepaliveTimeout,
		KeepaliveRequests:      lc.KeepaliveRequests,
		KeepaliveTime:          lc.KeepaliveTime,
		KeepaliveHeader:        lc.KeepaliveHeader,
		KeepaliveDisableMSIE6:  lc.KeepaliveDisable.MSIE6,
		KeepaliveDisableSafari: lc.KeepaliveDisable.Safari,
		H2ChunkSize:            int(lc.HTTP2ChunkSize),
	}
}
