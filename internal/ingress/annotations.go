package ingress

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// Annotation prefixes: ingress-nginx's, F5 NGINX Ingress Controller's
// (of which one is accepted with a notice), and wsgate's own.
const (
	nginxPrefix = "nginx.ingress.kubernetes.io/"
	f5Prefix    = "nginx.org/"
	wsPrefix    = "wsgate.io/"
)

// Support says what wsgate-ingress does with an annotation.
type Support int

const (
	// Supported annotations are translated, with ingress-nginx's names,
	// values and defaults.
	Supported Support = iota
	// Noticed annotations are accepted with a notice: wsgate does what
	// they ask without them, or they tune something wsgate does not have.
	Noticed
	// Rejected annotations take their Ingress out with the reason: they
	// ask for something wsgate does not do, and serving the Ingress
	// without it (an app without its authentication, say) would be wrong.
	Rejected
)

// AnnotationInfo is one row of the migration table (README, "Kubernetes").
type AnnotationInfo struct {
	Name    string // without the nginx.ingress.kubernetes.io/ prefix unless another prefix is shown
	Support Support
	Note    string
}

// annotationTable lists every annotation wsgate-ingress knows, by full name
// minus nginxPrefix (other prefixes are written out).
var annotationTable = map[string]AnnotationInfo{}

func init() {
	sup := func(note string, names ...string) {
		for _, n := range names {
			annotationTable[n] = AnnotationInfo{Name: n, Support: Supported, Note: note}
		}
	}
	notice := func(note string, names ...string) {
		for _, n := range names {
			annotationTable[n] = AnnotationInfo{Name: n, Support: Noticed, Note: note}
		}
	}
	reject := func(note string, names ...string) {
		for _, n := range names {
			annotationTable[n] = AnnotationInfo{Name: n, Support: Rejected, Note: note}
		}
	}
	sup("seconds; proxy_connect_timeout, proxy_send_timeout, proxy_read_timeout (also after the upgrade)",
		"proxy-connect-timeout", "proxy-send-timeout", "proxy-read-timeout")
	sup("proxy_next_upstream, proxy_next_upstream_tries, proxy_next_upstream_timeout",
		"proxy-next-upstream", "proxy-next-upstream-tries", "proxy-next-upstream-timeout")
	sup("client_max_body_size", "proxy-body-size")
	sup("proxy_http_version (WebSockets are upgraded with either)", "proxy-http-version")
	sup("hash VALUE consistent in the Service's upstream", "upstream-hash-by")
	sup("round_robin; ewma is served as least_conn, with a notice", "load-balance")
	sup("cookie: a consistent hash of a cookie wsgate sets on the first response", "affinity",
		"session-cookie-name", "session-cookie-path", "session-cookie-max-age", "session-cookie-expires",
		"session-cookie-samesite", "session-cookie-secure", "session-cookie-domain")
	sup("308 to https", "ssl-redirect", "force-ssl-redirect")
	sup("HTTP or HTTPS (proxy_pass https://)", "backend-protocol")
	sup("rewrite ... break; turns the host's paths into case-insensitive regex locations, as ingress-nginx",
		"rewrite-target", "use-regex")
	sup("allow ...; deny all;", "whitelist-source-range", "allowlist-source-range")
	sup("deny ...;", "denylist-source-range")
	sup("preflight answered with 204; headers by more_set_headers", "enable-cors", "cors-allow-origin",
		"cors-allow-methods", "cors-allow-headers", "cors-allow-credentials", "cors-max-age", "cors-expose-headers")
	sup("limit_req_zone/limit_req (burst = rate × limit-burst-multiplier, 5, nodelay) and limit_conn_zone/limit_conn per client address, 503 over the limit",
		"limit-rps", "limit-rpm", "limit-connections", "limit-burst-multiplier")
	sup("limit_rate and limit_rate_after, in kilobytes", "limit-rate", "limit-rate-after")
	sup("client addresses or CIDR ranges the Ingress's limit-rps, limit-rpm and limit-connections do not count (geo and map, as ingress-nginx)",
		"limit-allowlist", "limit-whitelist")
	sup("proxy_redirect FROM TO (or off, default)", "proxy-redirect-from", "proxy-redirect-to")
	sup("proxy_cookie_domain and proxy_cookie_path, the value's words as the arguments", "proxy-cookie-domain", "proxy-cookie-path")
	sup("satisfy any or all (allowlist-source-range with basic authentication)", "satisfy")
	sup("auth-type basic: auth_basic with the Secret's htpasswd (auth-file: its key auth; auth-map: a user per key) written beside the certificates", "auth-type", "auth-secret", "auth-secret-type", "auth-realm")
	sup("client certificates: ssl_client_certificate (the Secret's ca.crt, and ca.crl as ssl_crl), ssl_verify_client, ssl_verify_depth and error_page 495 496 on the Ingress's hosts; ingress-nginx's ssl-client-* headers to the backend; a CN check",
		"auth-tls-secret", "auth-tls-verify-client", "auth-tls-verify-depth", "auth-tls-error-page",
		"auth-tls-pass-certificate-to-upstream", "auth-tls-match-cn")
	sup("external authentication: auth_request to an internal location proxied to auth-url, as ingress-nginx's (X-Original-URL, X-Auth-Request-Redirect...), the answer's Set-Cookie to the client and auth-response-headers to the backend; a 401 redirected to auth-signin with rd= the request's URL (unescaped)",
		"auth-url", "auth-signin", "auth-signin-redirect-param", "auth-method", "auth-response-headers",
		"auth-request-redirect", "auth-always-set-cookie", "auth-snippet")
	sup("error_page to the default backend", "custom-http-errors")
	sup("a Service of the Ingress's namespace for paths without endpoints and for custom-http-errors", "default-backend")
	sup("parsed by wsgate's own parser: a directive wsgate refuses takes out the Ingress, with the reason; needs allow-snippet-annotations: \"true\" in the ConfigMap, as ingress-nginx 1.9+",
		"configuration-snippet", "server-snippet")
	sup("proxy_set_header Host", "upstream-vhost")
	sup("proxy_set_header X-Forwarded-Prefix", "x-forwarded-prefix")
	sup("access_log off", "enable-access-log")

	notice("wsgate streams responses and request bodies; WebSockets are never buffered",
		"proxy-buffering", "proxy-request-buffering", "proxy-buffer-size", "proxy-buffers-number",
		"proxy-max-temp-file-size", "client-body-buffer-size")
	notice("the cookie hash keeps a client on its peer while the peer stays (persistent); balanced rebalancing is not done",
		"affinity-mode", "session-cookie-change-on-failure", "session-cookie-hash", "session-cookie-conditional-samesite-none")
	notice("redirects go to https with the request's path as given", "preserve-trailing-slash")
	notice("rewrite logging is not available", "enable-rewrite-log")
	notice("server push is gone from browsers", "http2-push-preload")
	annotationTable[f5Prefix+"websocket-services"] = AnnotationInfo{Name: f5Prefix + "websocket-services", Support: Noticed,
		Note: "F5's annotation; nothing to do: wsgate upgrades WebSockets on every proxied path"}

	reject("not available: the headers come from a ConfigMap wsgate-ingress does not read; write proxy_set_header in auth-snippet",
		"auth-proxy-set-headers")
	notice("each request asks the auth service: wsgate does not cache auth answers", "auth-cache-key", "auth-cache-duration")
	notice("the auth service's connections are wsgate's usual upstream connections", "auth-keepalive",
		"auth-keepalive-requests", "auth-keepalive-timeout", "auth-keepalive-share-vars")
	reject("wsgate terminates TLS; passthrough is not available", "ssl-passthrough")
	reject("request mirroring is not available", "mirror-target", "mirror-uri", "mirror-request-body", "mirror-host")
	reject("ModSecurity is not available", "enable-modsecurity", "enable-owasp-core-rules", "modsecurity-transaction-id",
		"modsecurity-snippet")
	sup("return CODE URL in the Ingress's locations (301 and 302 by default; temporal-redirect wins, as ingress-nginx)",
		"permanent-redirect", "permanent-redirect-code", "temporal-redirect", "temporal-redirect-code")
	sup("302 from / to the path on the Ingress's hosts", "app-root")
	sup("a canary Ingress sends a share of its primary's host and path to its Service: by header (always, never, a value or a pattern), then cookie (always, never), then weight, by map and split_clients; a WebSocket is routed at its handshake",
		"canary", "canary-by-header", "canary-by-header-value", "canary-by-header-pattern", "canary-by-cookie", "canary-weight", "canary-weight-total")
	sup("proxy_ssl_* to HTTPS backends: the Secret's ca.crt as proxy_ssl_trusted_certificate, its tls.crt and tls.key as the client certificate; verify, depth, name, server name, ciphers, protocols",
		"proxy-ssl-secret", "proxy-ssl-verify", "proxy-ssl-verify-depth", "proxy-ssl-name", "proxy-ssl-server-name",
		"proxy-ssl-ciphers", "proxy-ssl-protocols")
	sup("proxy_set_header Connection VALUE instead of the upgrade-aware default (a value without upgrade stops WebSockets)", "connection-proxy-header")
	sup("ssl_ciphers and ssl_prefer_server_ciphers on the Ingress's hosts", "ssl-ciphers", "ssl-prefer-server-ciphers")
	sup("a server for the other name (www. added or removed) answering 308 to the host, unless that name is a host of its own", "from-to-www-redirect")
	sup("more server_name names for the Ingress's hosts (not those that are hosts of their own)", "server-alias")
	reject("not available: hashing into a subset of the endpoints; upstream-hash-by hashes over all of them",
		"upstream-hash-by-subset", "upstream-hash-by-subset-size")
	reject("not available: limits shared between replicas need a store (memcached) wsgate does not use; limit-rps counts per replica",
		"global-rate-limit", "global-rate-limit-window", "global-rate-limit-key", "global-rate-limit-ignored-cidrs")
	reject("not available: wsgate balances over the endpoints itself, and new connections follow endpoint changes at once",
		"service-upstream")
	reject("not available: the headers come from a ConfigMap wsgate-ingress does not read; write more_set_headers in a configuration-snippet",
		"custom-headers")
	reject("not available: wsgate has no tracing; $request_id is sent upstream as X-Request-ID",
		"enable-opentelemetry", "opentelemetry-trust-incoming-span", "enable-opentracing")
	reject("not available: wsgate has no stream (TCP/UDP) proxy", "stream-snippet")
}

// Annotations returns the migration table, sorted by support then name.
func Annotations() []AnnotationInfo {
	out := make([]AnnotationInfo, 0, len(annotationTable))
	for _, a := range annotationTable {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Support != out[j].Support {
			return out[i].Support < out[j].Support
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// value is an annotation's text with the position of its statements.
type value struct {
	s   string
	pos config.Pos
	set bool
}

// ingConf is what an Ingress's annotations ask for.
type ingConf struct {
	key string // namespace/name
	pos config.Pos

	readTimeout, sendTimeout, connectTimeout value
	nextUpstream, nextTries, nextTimeout     value
	bodySize, httpVersion                    value
	hashBy, loadBalance                      value
	affinity                                 *affinity
	sslRedirect, forceSSLRedirect            value // "true"/"false"
	backendScheme                            string
	rewriteTarget                            value
	useRegex                                 bool
	allow, deny                              value // comma lists, checked
	cors                                     *cors
	limitRPS, limitRPM, limitConns, burst    value
	limitRate, limitRateAfter                value
	limitAllow                               value // comma list, checked
	redirectFrom, redirectTo                 value
	cookieDomain, cookiePath                 value
	satisfy                                  value
	basicAuth                                *basicAuth
	clientCert                               *clientCert
	extAuth                                  *extAuth
	redirect, connHeader                     value
	proxySSL                                 *proxySSL
	canary                                   *canary
	server                                   serverConf
	customErrors                             value
	defaultBackend                           value
	upstreamVhost, forwardedPrefix           value
	accessLogOff                             value
	confSnippet, serverSnippet               []*config.Directive
	snippetPos                               [2]config.Pos
	ws                                       []*config.Directive

	reasons []string // each makes the Ingress rejected
	notices []string
}

// basicAuth is auth-type basic: the Secret holding the users.
type basicAuth struct {
	ns, name, typ, realm string
	pos                  config.Pos
}

type affinity struct {
	name, path, maxAge, expires, sameSite, domain string
	secure                                        bool
	pos                                           config.Pos
}

type cors struct {
	origins                          []string
	methods, headers, expose, maxAge string
	credentials                      bool
	pos                              config.Pos
}

// annotationPos is the position of statements made from annotation a of
// the Ingress key.
func annotationPos(key, a string) config.Pos {
	return origin("Ingress " + key + " annotation " + a)
}

// parseAnnotations reads ing's annotations. allowSnippets is the
// ConfigMap's allow-snippet-annotations.
func parseAnnotations(ing *netv1.Ingress, allowSnippets bool) *ingConf {
	key := objKey(ing.Namespace, ing.Name)
	c := &ingConf{key: key, pos: origin("Ingress " + key), backendScheme: "http"}
	get := func(name string) value {
		full := nginxPrefix + name
		v, ok := ing.Annotations[full]
		if !ok {
			return value{}
		}
		return value{s: strings.TrimSpace(v), pos: annotationPos(key, full), set: true}
	}
	bad := func(name, format string, args ...any) {
		c.reasons = append(c.reasons, fmt.Sprintf("annotation %s%s: %s", nginxPrefix, name, fmt.Sprintf(format, args...)))
	}
	seconds := func(name string) value {
		v := get(name)
		if !v.set {
			return v
		}
		if n, err := strconv.Atoi(v.s); err != nil || n < 0 {
			bad(name, "%q is not a number of seconds", v.s)
			return value{}
		}
		v.s += "s"
		return v
	}
	boolean := func(name string) value {
		v := get(name)
		if !v.set {
			return v
		}
		b, err := strconv.ParseBool(v.s)
		if err != nil {
			bad(name, "%q is not true or false", v.s)
			return value{}
		}
		v.s = strconv.FormatBool(b)
		return v
	}
	number := func(name string) value {
		v := get(name)
		if !v.set {
			return v
		}
		if n, err := strconv.Atoi(v.s); err != nil || n <= 0 {
			bad(name, "%q is not a positive number", v.s)
			return value{}
		}
		return v
	}

	c.readTimeout = seconds("proxy-read-timeout")
	c.sendTimeout = seconds("proxy-send-timeout")
	c.connectTimeout = seconds("proxy-connect-timeout")
	c.nextTimeout = seconds("proxy-next-upstream-timeout")
	c.nextTries = number("proxy-next-upstream-tries")
	c.nextUpstream = get("proxy-next-upstream")
	if v := get("proxy-body-size"); v.set {
		if _, ok := config.ParseSize(v.s); !ok {
			bad("proxy-body-size", "%q is not a size", v.s)
		} else {
			c.bodySize = v
		}
	}
	if v := get("proxy-http-version"); v.set {
		if v.s != "1.0" && v.s != "1.1" {
			bad("proxy-http-version", "%q is neither 1.0 nor 1.1", v.s)
		} else {
			c.httpVersion = v
		}
	}
	c.hashBy = get("upstream-hash-by")
	if v := get("load-balance"); v.set {
		switch v.s {
		case "round_robin":
		case "ewma":
			c.loadBalance = v
			c.notices = append(c.notices, "annotation "+nginxPrefix+"load-balance: ewma is served as least_conn (fewest open connections and tunnels)")
		default:
			bad("load-balance", "%q is neither round_robin nor ewma", v.s)
		}
	}
	if v := get("affinity"); v.set {
		if v.s != "cookie" {
			bad("affinity", "%q is not cookie, the only affinity ingress-nginx has", v.s)
		} else {
			a := &affinity{name: "INGRESSCOOKIE", pos: v.pos}
			if n := get("session-cookie-name"); n.set {
				a.name = n.s
			}
			a.path = get("session-cookie-path").s
			if m := number("session-cookie-max-age"); m.set {
				a.maxAge = m.s
			}
			if e := number("session-cookie-expires"); e.set {
				a.expires = e.s
			}
			if s := get("session-cookie-samesite"); s.set {
				switch strings.ToLower(s.s) {
				case "none", "lax", "strict":
					a.sameSite = strings.ToUpper(s.s[:1]) + strings.ToLower(s.s[1:])
				default:
					bad("session-cookie-samesite", "%q is not None, Lax or Strict", s.s)
				}
			}
			a.secure = boolean("session-cookie-secure").s == "true"
			a.domain = get("session-cookie-domain").s
			if !cookieName(a.name) {
				bad("session-cookie-name", "%q is not a cookie name", a.name)
			}
			c.affinity = a
		}
	}
	c.sslRedirect = boolean("ssl-redirect")
	c.forceSSLRedirect = boolean("force-ssl-redirect")
	if v := get("backend-protocol"); v.set {
		switch strings.ToUpper(v.s) {
		case "HTTP":
		case "HTTPS":
			c.backendScheme = "https"
		default:
			bad("backend-protocol", "%q is not available: wsgate proxies HTTP and HTTPS backends", v.s)
		}
	}
	c.rewriteTarget = get("rewrite-target")
	c.useRegex = boolean("use-regex").s == "true"
	c.allow = cidrs(get("allowlist-source-range"), &c.reasons)
	if w := cidrs(get("whitelist-source-range"), &c.reasons); w.set && !c.allow.set {
		c.allow = w
	}
	c.deny = cidrs(get("denylist-source-range"), &c.reasons)
	if boolean("enable-cors").s == "true" {
		c.cors = parseCORS(get, boolean, number)
	}
	c.limitRPS = number("limit-rps")
	c.limitRPM = number("limit-rpm")
	c.limitConns = number("limit-connections")
	c.burst = number("limit-burst-multiplier")
	c.clientCert = parseClientCert(ing.Namespace, get, boolean, bad)
	c.extAuth = parseExtAuth(c, get, boolean, bad, allowSnippets)
	parseRedirects(c, get, boolean, bad)
	c.proxySSL = parseProxySSL(get, bad)
	c.canary = parseCanary(get, boolean, number, bad)
	c.limitAllow = cidrs(get("limit-allowlist"), &c.reasons)
	if w := cidrs(get("limit-whitelist"), &c.reasons); w.set && !c.limitAllow.set {
		c.limitAllow = w
	}
	c.limitRate = number("limit-rate")
	c.limitRateAfter = number("limit-rate-after")
	c.redirectFrom, c.redirectTo = get("proxy-redirect-from"), get("proxy-redirect-to")
	if c.redirectTo.set && !c.redirectFrom.set {
		bad("proxy-redirect-to", "needs proxy-redirect-from")
	}
	c.cookieDomain, c.cookiePath = get("proxy-cookie-domain"), get("proxy-cookie-path")
	for _, v := range []struct {
		name string
		v    value
	}{{"proxy-cookie-domain", c.cookieDomain}, {"proxy-cookie-path", c.cookiePath}} {
		if n := len(strings.Fields(v.v.s)); v.v.set && n != 1 && n != 2 {
			bad(v.name, "%q is not \"off\" or FROM TO", v.v.s)
		}
	}
	if v := get("satisfy"); v.set {
		if v.s != "any" && v.s != "all" {
			bad("satisfy", "%q is neither any nor all", v.s)
		} else {
			c.satisfy = v
		}
	}
	if v := get("auth-type"); v.set {
		switch v.s {
		case "basic":
			a := &basicAuth{ns: ing.Namespace, typ: "auth-file", realm: get("auth-realm").s, pos: v.pos}
			sec := get("auth-secret")
			a.name = sec.s
			if ns, name, ok := strings.Cut(sec.s, "/"); ok {
				a.ns, a.name = ns, name
			}
			if a.name == "" {
				bad("auth-secret", "auth-type basic needs the Secret holding the users")
			}
			if t := get("auth-secret-type"); t.set {
				if t.s != "auth-file" && t.s != "auth-map" {
					bad("auth-secret-type", "%q is neither auth-file nor auth-map", t.s)
				}
				a.typ = t.s
			}
			c.basicAuth = a
		case "digest":
			bad("auth-type", "digest authentication is not available: use basic, over TLS")
		default:
			bad("auth-type", "%q is neither basic nor digest", v.s)
		}
	}
	if v := get("custom-http-errors"); v.set {
		for _, s := range strings.Split(v.s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 300 || n > 599 {
				bad("custom-http-errors", "%q is not a status code from 300 to 599", strings.TrimSpace(s))
			}
		}
		c.customErrors = v
	}
	c.defaultBackend = get("default-backend")
	c.upstreamVhost = get("upstream-vhost")
	c.forwardedPrefix = get("x-forwarded-prefix")
	if v := boolean("enable-access-log"); v.set && v.s == "false" {
		c.accessLogOff = v
	}
	for i, name := range []string{"configuration-snippet", "server-snippet"} {
		v := get(name)
		if !v.set || v.s == "" {
			continue
		}
		if !allowSnippets {
			bad(name, "snippet annotations are off: set allow-snippet-annotations: \"true\" in the controller's ConfigMap, as for ingress-nginx 1.9 and later")
			continue
		}
		c.snippetPos[i] = v.pos
		ast, errs := config.ParseText("Ingress "+key+" annotation "+nginxPrefix+name, []byte(v.s))
		for _, e := range errs {
			c.reasons = append(c.reasons, e.Error())
		}
		if len(errs) > 0 || ast == nil {
			continue
		}
		if i == 0 {
			c.confSnippet = ast.Main
		} else {
			c.serverSnippet = ast.Main
		}
	}

	// Everything else: wsgate's own, F5's notice, the rest of ingress-nginx's, unknown names.
	names := make([]string, 0, len(ing.Annotations))
	for n := range ing.Annotations {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, full := range names {
		switch {
		case strings.HasPrefix(full, wsPrefix):
			c.wsAnnotation(full, ing.Annotations[full])
		case strings.HasPrefix(full, nginxPrefix), strings.HasPrefix(full, f5Prefix):
			short := strings.TrimPrefix(full, nginxPrefix)
			info, known := annotationTable[short]
			switch {
			case !known:
				c.notices = append(c.notices, "unknown annotation "+full+": ignored (ingress-nginx ignores names it does not have)")
			case info.Support == Noticed:
				c.notices = append(c.notices, "annotation "+full+" accepted and ignored: "+info.Note)
			case info.Support == Rejected:
				c.reasons = append(c.reasons, "annotation "+full+": "+info.Note)
			}
		}
	}
	return c
}

// wsAnnotation reads wsgate.io/ws-NAME: "ARGS" as the directive ws_NAME
// ARGS; for example wsgate.io/ws-drain-window: "30s" is ws_drain_window 30s.
func (c *ingConf) wsAnnotation(full, v string) {
	name := strings.TrimPrefix(full, wsPrefix)
	if !strings.HasPrefix(name, "ws-") {
		c.reasons = append(c.reasons, "annotation "+full+": wsgate's annotations are its ws_* directives, written wsgate.io/ws-name")
		return
	}
	d := stmt(origin("Ingress "+c.key+" annotation "+full), strings.ReplaceAll(name, "-", "_"), strings.Fields(v)...)
	c.ws = append(c.ws, d)
}

func parseCORS(get func(string) value, boolean, number func(string) value) *cors {
	co := &cors{
		origins:     []string{"*"},
		methods:     "GET, PUT, POST, DELETE, PATCH, OPTIONS",
		headers:     "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization",
		maxAge:      "1728000",
		credentials: true,
		pos:         get("enable-cors").pos,
	}
	if v := get("cors-allow-origin"); v.set && v.s != "" {
		co.origins = nil
		for _, o := range strings.Split(v.s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				co.origins = append(co.origins, o)
			}
		}
	}
	if v := get("cors-allow-methods"); v.set {
		co.methods = v.s
	}
	if v := get("cors-allow-headers"); v.set {
		co.headers = v.s
	}
	if v := get("cors-expose-headers"); v.set {
		co.expose = v.s
	}
	if v := boolean("cors-allow-credentials"); v.set {
		co.credentials = v.s == "true"
	}
	if v := number("cors-max-age"); v.set {
		co.maxAge = v.s
	}
	return co
}

// cidrs checks a comma-separated list of addresses and CIDR ranges.
func cidrs(v value, reasons *[]string) value {
	if !v.set {
		return v
	}
	var out []string
	for _, s := range strings.Split(v.s, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				*reasons = append(*reasons, fmt.Sprintf("annotation at %s: %q is not an address or CIDR range", v.pos.File, s))
				return value{}
			}
		}
		out = append(out, s)
	}
	v.s = strings.Join(out, ",")
	return v
}

// cookieName reports whether s is an RFC 6265 cookie-name (a token).
func cookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
