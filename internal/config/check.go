package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Check turns a parsed configuration into a Spec: every directive is looked
// up in the directive table, its context and argument count checked, its
// arguments parsed into typed values, and nginx's defaults and inheritance
// (http → server → location → nested location) applied. Check reports every
// problem it finds, not just the first; the Spec it returns alongside a
// non-empty ErrorList is partial and must not be served.
//
// A file whose top level holds server{} blocks and no http{} (a sites file,
// as nginx includes from sites-enabled/) is read as the body of an implicit
// http{} and a Notice says so.
func Check(ast *AST) (*Spec, ErrorList) {
	return check(ast, directiveTable())
}

// check is Check with a given directive table.
func check(ast *AST, table map[string]*directive) (*Spec, ErrorList) {
	c := &checker{table: table, spec: &Spec{}}
	if ast == nil {
		return c.spec, nil
	}
	c.spec.Files = ast.Files
	c.checkMain(ast.Globals, ast.Main)
	return c.spec, c.errs
}

// checker holds the state of one Check call.
type checker struct {
	table map[string]*directive
	spec  *Spec
	errs  ErrorList

	// http is the raw http level; nil until an http context is met.
	http *httpLevel
	// setVars indexes spec.HTTP.SetVariables by name.
	setVars map[string]bool
	// limitRefs are the zones limit_req and limit_conn name.
	limitRefs []limitRef
}

func (c *checker) errorf(pos Pos, format string, args ...any) {
	c.errs.Add(pos, format, args...)
}

func (c *checker) notice(pos Pos, format string, args ...any) {
	c.spec.Notices = append(c.spec.Notices, Notice{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// ctxMask is the set of contexts a directive may appear in
// (NGX_MAIN_CONF, NGX_EVENT_CONF, NGX_HTTP_MAIN_CONF, …).
type ctxMask uint16

const (
	ctxMain ctxMask = 1 << iota
	ctxEvents
	ctxHTTP
	ctxServer
	ctxLocation
	ctxUpstream
	ctxSrvIf // an if block in a server (NGX_HTTP_SIF_CONF)
	ctxLocIf // an if block in a location (NGX_HTTP_LIF_CONF)
	ctxLimit // a limit_except block (NGX_HTTP_LMT_CONF)

	ctxHTTPAll = ctxHTTP | ctxServer | ctxLocation // NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
	ctxSrvAll  = ctxHTTP | ctxServer               // ngx_http_core_srv_conf_t settings
)

// frame is one block being read: its context and where its directives go.
type frame struct {
	ctx  ctxMask
	seen map[string]bool // directives met in this block, for "is duplicate"

	lvl    *level       // http, server and location frames: their own settings
	server *serverLevel // server and location frames
	loc    *locLevel    // location frames
	ups    *Upstream    // upstream frames
	// prog is where rewrite module directives go: the server's, the
	// location's or the if block's list (server, location and if frames).
	prog *[]RewriteOp
}

// level is the settings one http, server or location block gives itself,
// recorded as appliers in file order and replayed over the parent's
// effective settings once the whole configuration is read (nginx's
// create_loc_conf/merge_loc_conf, which is why a directive after a nested
// location still applies to it).
type level struct {
	loc []func(*LocConf)
	srv []func(*Server) // http and server levels only
	tls []func(*TLSConf)
	// rootSet is "root" or "alias" once the level set one (the two
	// exclude each other).
	rootSet string
	// subPairs counts the level's own sub_filter pairs (nginx allows 255).
	subPairs int
}

type httpLevel struct {
	level
	h       *HTTP
	servers []*serverLevel
}

type serverLevel struct {
	level
	s     *Server
	locs  []*locLevel
	named []*locLevel // named locations, kept out of locs
	// namedOK and listen bookkeeping
}

type locLevel struct {
	level
	l        *Location
	parent   *locLevel // nil for a server's top-level location
	children []*locLevel
	ifs      []*ifLevel // the location's if blocks, in file order
	// limit is the location's limit_except block, nil without one.
	limit *limitLevel
}

// limitLevel is a limit_except block: its settings are replayed over the
// location's effective ones (nginx merges the block's unnamed location
// into the enclosing one).
type limitLevel struct {
	level
	le *LimitExcept
}

// ifLevel is an if block in a location: its settings are replayed over
// the location's effective ones (nginx merges the block's unnamed
// location into the enclosing one).
type ifLevel struct {
	level
	ifb *If
}

func (c *checker) newFrame(ctx ctxMask) *frame {
	return &frame{ctx: ctx, seen: map[string]bool{}}
}

// checkMain reads the main context, the -g directives first (nginx's
// ngx_conf_param runs before the main file). A sites file is read as http.
func (c *checker) checkMain(globals, dirs []*Directive) {
	f := c.newFrame(ctxMain)
	c.walk(f, globals)
	var hasHTTP, hasEvents bool
	var firstServer *Directive
	for _, d := range dirs {
		switch d.Name {
		case "http":
			hasHTTP = true
		case "events":
			hasEvents = true
		case "server":
			if firstServer == nil {
				firstServer = d
			}
		}
	}
	if firstServer != nil && !hasHTTP {
		c.notice(firstServer.Pos, "no http context: reading this file as the body of an implicit http { } (a sites file)")
		c.enterHTTP(Pos{File: firstServer.Pos.File, Line: 1, Col: 1}, dirs, true)
		c.finish()
		return
	}
	c.walk(f, dirs)
	if hasHTTP && !hasEvents && len(dirs) > 0 {
		c.errorf(dirs[len(dirs)-1].Pos, `no "events" section in configuration`)
	}
	c.finish()
}

// walk checks each directive of one block against the table and runs its setter.
func (c *checker) walk(f *frame, dirs []*Directive) {
	for _, d := range dirs {
		c.directive(f, d)
	}
}

// directive is ngx_conf_handler: look the name up, check context, block
// shape, argument count and repetition, then hand it to the setter.
func (c *checker) directive(f *frame, d *Directive) {
	t, ok := c.table[d.Name]
	if !ok {
		c.errorf(d.Pos, "unknown directive %q", d.Name)
		return
	}
	if t.instead != "" {
		c.errorf(d.Pos, "%q directive is not supported by wsgate; %s", d.Name, t.instead)
		return
	}
	if t.ctx&f.ctx == 0 {
		if f.ctx == ctxLimit && d.Name == "access_log" {
			// nginx takes it there; wsgate's limit_except holds access
			// checks and proxy_pass only.
			c.errorf(d.Pos, "%q directive inside \"limit_except\" is not supported by wsgate; set it in the enclosing location", d.Name)
			return
		}
		c.errorf(d.Pos, "%q directive is not allowed here", d.Name)
		return
	}
	block := t.block || t.blockIn&f.ctx != 0
	if block && !d.HasBlock {
		c.errorf(d.Pos, "directive %q has no opening \"{\"", d.Name)
		return
	}
	if !block && d.HasBlock {
		c.errorf(d.Pos, "directive %q is not terminated by \";\"", d.Name)
		return
	}
	if len(d.Args) < t.min || t.max >= 0 && len(d.Args) > t.max {
		c.errorf(d.Pos, "invalid number of arguments in %q directive", d.Name)
		return
	}
	if t.once && f.seen[d.Name] {
		c.errorf(d.Pos, "%q directive is duplicate", d.Name)
		return
	}
	first := !f.seen[d.Name]
	f.seen[d.Name] = true
	if t.ignored {
		why := t.note
		if why == "" {
			why = "wsgate has no use for it"
		}
		c.notice(d.Pos, "%q accepted and ignored: %s", d.Name, why)
		return
	}
	t.set(c, f, d, first)
}

// convertRegex turns an nginx (PCRE) regular expression into Go RE2 syntax
// and checks that it compiles: named groups (?<n>…) and (?'n'…) become
// (?P<n>…). Constructs RE2 lacks (lookaround, backreferences, atomic groups,
// possessive quantifiers) are reported at pos.
func (c *checker) convertRegex(pos Pos, re string, noCase bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		ch := re[i]
		if ch == '\\' && i+1 < len(re) {
			b.WriteByte(ch)
			b.WriteByte(re[i+1])
			i++
			continue
		}
		if ch == '(' && strings.HasPrefix(re[i:], "(?<") && i+3 < len(re) && re[i+3] != '=' && re[i+3] != '!' {
			b.WriteString("(?P<")
			i += 2
			continue
		}
		if ch == '(' && strings.HasPrefix(re[i:], "(?'") {
			if end := strings.IndexByte(re[i+3:], '\''); end >= 0 {
				b.WriteString("(?P<" + re[i+3:i+3+end] + ">")
				i += 3 + end
				continue
			}
		}
		b.WriteByte(ch)
	}
	out := b.String()
	test := out
	if noCase {
		test = "(?i)" + out
	}
	if _, err := regexp.Compile(test); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		c.errorf(pos, "regular expression %q is not supported by wsgate (Go RE2 has no lookaround, backreferences, atomic groups or possessive quantifiers): %s", re, msg)
		return out, false
	}
	return out, true
}

// defaultLocConf is nginx's defaults for an http level with nothing set
// (ngx_http_core_merge_loc_conf, ngx_http_proxy_merge_loc_conf, section 10
// of the semantics notes) plus wsgate's own.
func defaultLocConf() LocConf {
	return LocConf{
		ProxyHTTPVersion:          "1.0",
		ProxyConnectTimeout:       60 * time.Second,
		ProxySSL:                  defaultProxySSL(),
		ProxyReadTimeout:          60 * time.Second,
		ProxySendTimeout:          60 * time.Second,
		ProxyNextUpstream:         NextError | NextTimeout,
		ProxyBuffering:            true,
		ProxyBufferSize:           4096,
		ProxyRequestBuffering:     true,
		ProxyPassRequestHeaders:   true,
		ProxyPassRequestBody:      true,
		ClientMaxBodySize:         1 << 20,
		ClientBodyTimeout:         60 * time.Second,
		SendTimeout:               60 * time.Second,
		KeepaliveTimeout:          75 * time.Second,
		KeepaliveRequests:         1000,
		KeepaliveTime:             time.Hour,
		KeepaliveDisable:          KeepaliveDisable{MSIE6: true},
		ServerTokens:              true,
		HTTP2ChunkSize:            8 << 10,
		ResolverTimeout:           30 * time.Second,
		Cache:                     CacheConf{LockTimeout: 5 * time.Second, LockAge: 5 * time.Second, MinUses: 1, ConvertHead: true},
		UninitializedVariableWarn: true,
		AccessLogs:                []AccessLog{{Path: "logs/access.log", Format: "combined"}},
		WS:                        WSConf{Upgrade: true, ReloadClose: 1012, DrainWindow: 10 * time.Second},
		Files:                     defaultFilesConf(),
		AbsoluteRedirect:          true,
		PortInRedirect:            true,
		Sub:                       SubConf{Once: true},
		Gzip:                      GzipConf{CompLevel: 1, MinLength: 20, HTTPVersion: 11, Proxied: GzipProxiedOff},
	}
}

// inherit is one merge step: the parent's effective settings, minus what
// nginx never inherits (proxy_pass and stub_status are a level's handler, try_files
// belongs to its block), with lvl's own directives replayed on top. The
// rewrite module's directives are not settings: they stay with their
// block (Server.Rewrite, Location.Rewrite).
func inherit(parent LocConf, lvl *level) LocConf {
	eff := parent
	eff.ProxyPass = nil
	eff.StubStatus = false
	eff.WSMetrics, eff.WSStatus = false, false
	eff.Files.TryFiles, eff.Files.TryFilesPos = nil, Pos{}
	eff.SetHeadersDropped = nil
	eff.Headers.AddDropped = nil
	eff.SetHeadersInherited = len(eff.ProxySetHeaders) > 0
	for _, apply := range lvl.loc {
		apply(&eff)
	}
	return eff
}

// finish merges every level once the whole configuration is read.
func (c *checker) finish() {
	if c.http == nil {
		return
	}
	h := c.http.h
	h.LogFormats = append([]*LogFormat{{Name: "combined", Escape: "default", Format: combinedFormat}}, h.LogFormats...)
	c.checkLimitRefs()
	httpConf := inherit(defaultLocConf(), &c.http.level)
	if len(c.http.servers) == 0 && len(c.http.level.loc) > 0 {
		// Nothing to attach http-level settings to; they still were checked.
		_ = httpConf
	}
	defaults := map[string]*Listen{}
	var noCert []*Listen // listens of servers without a certificate
	sslAddr := map[string]bool{}
	for _, sl := range c.http.servers {
		s := sl.s
		s.ClientHeaderTimeout = 60 * time.Second
		s.ClientHeaderBufferSize = 1 << 10
		s.LargeClientHeaderBuffers = Buffers{Num: 4, Size: 8 << 10}
		s.MergeSlashes, s.UnderscoresInHeaders, s.IgnoreInvalidHeaders = true, false, true
		s.HTTP2 = HTTP2Conf{MaxConcurrentStreams: 128, BodyPrereadSize: 64 << 10, RecvBufferSize: 256 << 10}
		s.HTTP3 = HTTP3Conf{On: true, MaxConcurrentStreams: 128, StreamBufferSize: 64 << 10}
		for _, apply := range c.http.level.srv {
			apply(s)
		}
		for _, apply := range sl.level.srv {
			apply(s)
		}
		tls := defaultTLSConf()
		for _, apply := range c.http.level.tls {
			apply(&tls)
		}
		for _, apply := range sl.level.tls {
			apply(&tls)
		}
		// A server without certificates may still verify clients: its
		// handshakes are the default server's, its requests its own.
		if len(tls.Certificates) > 0 || tls.RejectHandshake || tls.VerifyClient != "off" {
			s.TLS = &tls
		}
		if len(s.Listens) == 0 {
			s.Listens = []Listen{{Pos: s.Pos, Addr: "0.0.0.0:80", Wildcard: true, IPv6Only: true}}
		}
		if len(s.Names) == 0 {
			s.Names = []ServerName{{Pos: s.Pos, Kind: NameExact, Name: ""}}
		}
		for i := range s.Listens {
			l := &s.Listens[i]
			if l.SSL {
				sslAddr[l.Addr] = true
			}
			if s.TLS == nil || len(s.TLS.Certificates) == 0 && !s.TLS.RejectHandshake {
				noCert = append(noCert, l)
			}
			if (l.SSL || l.HTTP3) && s.TLS != nil && len(s.TLS.Certificates) > 0 {
				c.checkTLS(l, s.TLS)
			}
			prev, ok := defaults[l.Addr]
			switch {
			case !ok:
				defaults[l.Addr] = l
			case l.DefaultServer && prev.DefaultServer:
				c.errorf(l.Pos, "a duplicate default server for %s", l.Addr)
			case l.DefaultServer:
				defaults[l.Addr] = l
			}
		}
		s.Conf = inherit(httpConf, &sl.level)
		dropDefaultMarkers(&s.Conf)
		for _, ll := range sl.locs {
			c.mergeLocation(s.Conf, ll)
		}
		for _, ll := range sl.named {
			c.mergeLocation(s.Conf, ll)
		}
	}
	for _, l := range defaults {
		l.IsDefault = true
	}
	// Only an ssl address's default server needs a certificate
	// (ngx_http_ssl_init): the others' handshakes fall back to it. An
	// address is ssl when any of its listens says so.
	for _, l := range noCert {
		switch {
		case l.IsDefault && sslAddr[l.Addr]:
			c.errorf(l.Pos, "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive")
		case l.IsDefault && l.HTTP3:
			c.errorf(l.Pos, "no \"ssl_certificate\" is defined for the \"listen ... quic\" directive")
		}
	}
}

// mergeLocation gives ll and its nested locations their effective settings.
func (c *checker) mergeLocation(parent LocConf, ll *locLevel) {
	l := ll.l
	l.Conf = inherit(parent, &ll.level)
	c.linkUpstream(l.Conf.ProxyPass)
	c.checkProxySSL(&l.Conf)
	expandRedirects(&l.Conf, l.Path)
	for _, il := range ll.ifs {
		c.mergeIf(l, il)
	}
	if ll.limit != nil {
		if len(l.Rewrite) > 0 {
			// The block's configuration has no rewrite module directives
			// of its own, so nginx runs none for the methods it limits
			// (a return in the location does not answer them).
			c.errorf(ll.limit.le.Pos, "\"limit_except\" in a location with rewrite module directives (rewrite, return, set, if) is not supported by wsgate: nginx does not run them for the methods the block limits; move them to a location of their own")
		}
		conf := inherit(l.Conf, &ll.limit.level)
		if conf.ProxyPass != nil {
			// The block's own proxy_pass answers the methods it limits
			// (the block's configuration is r->loc_conf for them).
			c.linkUpstream(conf.ProxyPass)
			c.checkProxySSL(&conf)
			expandRedirects(&conf, l.Path)
		}
		ll.limit.le.Conf = &conf
		l.LimitExcept = ll.limit.le
	}
	for _, child := range ll.children {
		c.mergeLocation(l.Conf, child)
	}
}

// linkUpstream points proxy_pass at an upstream{} of the same name
// (case-insensitive, as ngx_http_upstream_add compares), which may not be
// given a port.
func (c *checker) linkUpstream(pp *ProxyPass) {
	if pp == nil || pp.HasVars || pp.Unix != "" {
		return
	}
	for _, u := range c.http.h.Upstreams {
		if strings.EqualFold(u.Name, pp.Host) {
			if pp.Port != "" {
				c.errorf(pp.Pos, "upstream %q may not have port %s", u.Name, pp.Port)
				return
			}
			pp.Upstream = u.Name
			return
		}
	}
}

// expandRedirects turns "proxy_redirect default" (explicit, or implied when
// a proxied location has no proxy_redirect at any level) into its
// replacement, as ngx_http_proxy_merge_loc_conf does: with a URI part the
// proxy_pass URL is replaced by the location name, without one "URL/" by
// "/". Inherited, already expanded entries stay as they are (nginx copies
// the parent's array).
func expandRedirects(l *LocConf, locPath string) {
	if l.ProxyRedirectOff {
		l.ProxyRedirect = nil
		return
	}
	pp := l.ProxyPass
	def := func(pos Pos) (Redirect, bool) {
		if pp == nil || pp.HasVars {
			return Redirect{}, false
		}
		if pp.HasURI {
			return Redirect{Pos: pos, From: pp.Raw, To: locPath, Default: true}, true
		}
		return Redirect{Pos: pos, From: pp.Raw + "/", To: "/", Default: true}, true
	}
	if len(l.ProxyRedirect) == 0 {
		if r, ok := def(pp.posOrZero()); ok {
			l.ProxyRedirect = []Redirect{r}
		}
		return
	}
	out := make([]Redirect, 0, len(l.ProxyRedirect))
	for _, r := range l.ProxyRedirect {
		if r.Default && r.From == "" {
			if e, ok := def(r.Pos); ok {
				out = append(out, e)
			}
			continue
		}
		out = append(out, r)
	}
	l.ProxyRedirect = out
}

func (pp *ProxyPass) posOrZero() Pos {
	if pp == nil {
		return Pos{}
	}
	return pp.Pos
}

// dropDefaultMarkers removes unexpanded "default" entries where no
// proxy_pass can give them meaning (server level).
func dropDefaultMarkers(l *LocConf) {
	var out []Redirect
	for _, r := range l.ProxyRedirect {
		if !(r.Default && r.From == "") {
			out = append(out, r)
		}
	}
	l.ProxyRedirect = out
}
