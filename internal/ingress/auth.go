package ingress

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"wsgate/internal/config"
)

// auth renders auth-type basic as ingress-nginx's template does:
// auth_basic with the realm, and auth_basic_user_file naming the users of
// the auth-secret, written beside the certificates (queued in t.certs,
// mode 0600, rewritten when the Secret changes). A Secret that is missing
// or holds no users takes the Ingress out: serving an application
// without the authentication its Ingress asks for would be wrong
// (ingress-nginx answers 503 there).
func (t *translation) auth(c *ingConf) []*config.Directive {
	a := c.basicAuth
	if a == nil {
		return nil
	}
	var sec *corev1.Secret
	for _, s := range t.st.Secrets {
		if s.Namespace == a.ns && s.Name == a.name {
			sec = s
			break
		}
	}
	if sec == nil {
		t.reject(c.key, fmt.Sprintf("annotation %sauth-secret: Secret %s/%s not found", nginxPrefix, a.ns, a.name))
		return nil
	}
	users, err := htpasswd(sec, a.typ)
	if err != nil {
		t.reject(c.key, fmt.Sprintf("annotation %sauth-secret: Secret %s/%s: %v", nginxPrefix, a.ns, a.name, err))
		return nil
	}
	p := filepath.Join(t.o.sslDir(), "auth-"+a.ns+"-"+a.name+".htpasswd")
	t.certs[p] = users
	return []*config.Directive{
		stmt(a.pos, "auth_basic", a.realm),
		stmt(a.pos, "auth_basic_user_file", p),
	}
}

// htpasswd returns the user file of an auth-secret: the key auth as it is
// (auth-file, htpasswd's format), or a "user:hash" line per key
// (auth-map).
func htpasswd(sec *corev1.Secret, typ string) ([]byte, error) {
	if typ == "auth-file" {
		b := sec.Data["auth"]
		if len(b) == 0 {
			return nil, fmt.Errorf("no key auth (auth-secret-type auth-file: htpasswd lines under the key auth)")
		}
		return b, nil
	}
	users := make([]string, 0, len(sec.Data))
	for u := range sec.Data {
		users = append(users, u)
	}
	sort.Strings(users)
	var b strings.Builder
	for _, u := range users {
		if strings.ContainsAny(u, ":\n") || strings.ContainsAny(string(sec.Data[u]), "\n") {
			return nil, fmt.Errorf("key %q: auth-map keys are user names and values password hashes, on one line", u)
		}
		b.WriteString(u + ":" + string(sec.Data[u]) + "\n")
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("no users (auth-secret-type auth-map: a key per user)")
	}
	return []byte(b.String()), nil
}

// extAuth is what an Ingress's auth-url and its companions ask for:
// ingress-nginx's external authentication, an auth_request subrequest to
// an internal location that proxies to auth-url.
type extAuth struct {
	url, method, signin, signinParam, requestRedirect string
	responseHeaders                                   []string
	alwaysSetCookie                                   bool
	snippet                                           []*config.Directive
	pos                                               config.Pos
}

// parseExtAuth reads auth-url and its companions; nil without auth-url.
func parseExtAuth(c *ingConf, get, boolean func(string) value, bad func(name, format string, args ...any), allowSnippets bool) *extAuth {
	u := get("auth-url")
	if !u.set {
		for _, n := range []string{"auth-signin", "auth-method", "auth-response-headers", "auth-request-redirect", "auth-snippet"} {
			if get(n).set {
				bad(n, "needs auth-url")
			}
		}
		return nil
	}
	pu, err := url.Parse(u.s)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		bad("auth-url", "%q is not an http:// or https:// URL", u.s)
		return nil
	}
	a := &extAuth{url: u.s, pos: u.pos, signinParam: "rd"}
	if m := get("auth-method"); m.set {
		switch m.s {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
			a.method = m.s
		default:
			bad("auth-method", "%q is not an HTTP method", m.s)
		}
	}
	a.signin = get("auth-signin").s
	if p := get("auth-signin-redirect-param"); p.set && p.s != "" {
		a.signinParam = p.s
	}
	a.requestRedirect = get("auth-request-redirect").s
	for _, h := range strings.Split(get("auth-response-headers").s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			if !cookieName(h) {
				bad("auth-response-headers", "%q is not a header name", h)
				continue
			}
			a.responseHeaders = append(a.responseHeaders, h)
		}
	}
	a.alwaysSetCookie = boolean("auth-always-set-cookie").s == "true"
	if s := get("auth-snippet"); s.set && s.s != "" {
		if !allowSnippets {
			bad("auth-snippet", "snippet annotations are off: set allow-snippet-annotations: \"true\" in the controller's ConfigMap, as for ingress-nginx 1.9 and later")
		} else {
			ast, errs := config.ParseText("Ingress "+c.key+" annotation "+nginxPrefix+"auth-snippet", []byte(s.s))
			for _, e := range errs {
				c.reasons = append(c.reasons, e.Error())
			}
			if len(errs) == 0 && ast != nil {
				a.snippet = ast.Main
			}
		}
	}
	return a
}

// authPath is the internal location r's auth_request goes to.
func authPath(r *pathRule) string {
	return "/_external-auth-" + shortHash(r.c.key+" "+string(r.typ)+" "+r.path)
}

// extAuthLocation returns the statements of a location r's
// external authentication adds: auth_request to the internal location,
// the auth answer's Set-Cookie to the client and its
// auth-response-headers to the backend, and with auth-signin a redirect
// of a 401 to the sign-in URL with the request's URL as its rd parameter
// (unescaped: wsgate has no set_escape_uri).
func extAuthLocation(r *pathRule) []*config.Directive {
	a := r.c.extAuth
	if a == nil {
		return nil
	}
	p := a.pos
	out := []*config.Directive{
		stmt(p, "auth_request", authPath(r)),
		stmt(p, "auth_request_set", "$auth_cookie", "$upstream_http_set_cookie"),
	}
	if a.alwaysSetCookie {
		out = append(out, stmt(p, "add_header", "Set-Cookie", "$auth_cookie", "always"))
	} else {
		out = append(out, stmt(p, "add_header", "Set-Cookie", "$auth_cookie"))
	}
	for i, h := range a.responseHeaders {
		v := "$authHeader" + strconv.Itoa(i)
		out = append(out, stmt(p, "auth_request_set", v, "$upstream_http_"+strings.ReplaceAll(strings.ToLower(h), "-", "_")),
			stmt(p, "proxy_set_header", h, v))
	}
	if a.signin != "" {
		sep := "?"
		if strings.Contains(a.signin, "?") {
			sep = "&"
		}
		target := a.signin
		if !strings.Contains(a.signin, a.signinParam+"=") {
			target += sep + a.signinParam + "=$scheme://$http_host$request_uri"
		}
		out = append(out, stmt(p, "error_page", "401", "=", target))
	}
	return out
}

// extAuthInternal returns the internal location r's auth_request goes
// to, as ingress-nginx's template writes it: no body, the original
// request described in X-Original-* headers, proxied to auth-url.
func (t *translation) extAuthInternal(r *pathRule) *config.Directive {
	a := r.c.extAuth
	if a == nil {
		return nil
	}
	p := a.pos
	host := ""
	if u, err := url.Parse(a.url); err == nil {
		host = u.Hostname()
	}
	redirect := "$request_uri"
	if a.requestRedirect != "" {
		redirect = a.requestRedirect
	}
	xff := "$remote_addr"
	if t.g.useForwardedHeaders && t.g.computeFullForwardedFor {
		xff = "$proxy_add_x_forwarded_for"
	}
	body := []*config.Directive{
		stmt(p, "internal"),
		stmt(p, "proxy_pass_request_body", "off"),
		stmt(p, "proxy_set_header", "Content-Length", ""),
		stmt(p, "proxy_set_header", "X-Forwarded-Proto", ""),
		stmt(p, "proxy_set_header", "X-Request-ID", "$request_id"),
	}
	if a.method != "" {
		body = append(body, stmt(p, "proxy_method", a.method),
			stmt(p, "proxy_set_header", "X-Original-URI", "$request_uri"),
			stmt(p, "proxy_set_header", "X-Scheme", "$scheme"))
	}
	body = append(body,
		stmt(p, "proxy_set_header", "Host", host),
		stmt(p, "proxy_set_header", "X-Original-URL", "$scheme://$http_host$request_uri"),
		stmt(p, "proxy_set_header", "X-Original-Method", "$request_method"),
		stmt(p, "proxy_set_header", "X-Sent-From", "nginx-ingress-controller"),
		stmt(p, "proxy_set_header", "X-Real-IP", "$remote_addr"),
		stmt(p, "proxy_set_header", "X-Forwarded-For", xff),
		stmt(p, "proxy_set_header", "X-Auth-Request-Redirect", redirect),
		stmt(p, "proxy_http_version", "1.1"),
		stmt(p, "proxy_ssl_server_name", "on"),
		stmt(p, "proxy_pass_request_headers", "on"),
	)
	body = append(body, a.snippet...)
	if len(t.o.NameServers) > 0 {
		// ingress-nginx's form: the URL in a variable, resolved when
		// a request needs it.
		body = append(body, stmt(p, "resolver", append(append([]string{}, t.o.NameServers...), "valid=30s")...),
			stmt(p, "set", "$target", a.url),
			stmt(p, "proxy_pass", "$target"))
	} else {
		body = append(body, stmt(p, "proxy_pass", a.url))
	}
	return block(p, "location", []string{"=", authPath(r)}, body...)
}
