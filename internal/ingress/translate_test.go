package ingress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"wsgate/internal/config"
)

// ing builds an Ingress of class nginx for host with one backend Service
// "app" port 80 per path ("/p" is Prefix, "=/p" Exact, "*/p"
// ImplementationSpecific).
func ing(ns, name, host string, ann map[string]string, paths ...string) *netv1.Ingress {
	class := "nginx"
	in := &netv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}}
	in.Spec.IngressClassName = &class
	rule := netv1.IngressRule{Host: host, IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{}}}
	for _, p := range paths {
		typ := netv1.PathTypePrefix
		switch p[0] {
		case '=':
			typ, p = netv1.PathTypeExact, p[1:]
		case '*':
			typ, p = netv1.PathTypeImplementationSpecific, p[1:]
		}
		rule.HTTP.Paths = append(rule.HTTP.Paths, netv1.HTTPIngressPath{Path: p, PathType: &typ,
			Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: "app", Port: netv1.ServiceBackendPort{Number: 80}}}})
	}
	in.Spec.Rules = []netv1.IngressRule{rule}
	return in
}

func TestTranslate(t *testing.T) {
	a := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[nginxPrefix+kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name      string
		ings      []*netv1.Ingress
		snippets  bool
		want      []string // substrings of the printed configuration
		notWant   []string
		rejected  []string // "object: substring of a reason"
		notices   []string
		endpoints bool // give Service app endpoints (default true)
		secrets   []*corev1.Secret
		files     map[string]string // written files (Result.Certs) and their content
		noCA      bool              // no synthesized auth-tls-secret
		ns        []string          // Options.NameServers
	}{
		{name: "prefix path is a prefix location and an exact one", ings: []*netv1.Ingress{ing("ns", "a", "h", nil, "/ws")},
			want: []string{"location /ws/ {", "location = /ws {", "proxy_pass http://ns-app-80;", "proxy_read_timeout 60s;", "client_max_body_size 1m;"}},
		{name: "exact and implementation-specific paths", ings: []*netv1.Ingress{ing("ns", "a", "h", nil, "=/ws", "*/api")},
			want: []string{"location = /ws {", "location /api {"}},
		{name: "timeouts in seconds", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-read-timeout", "3600", "proxy-send-timeout", "3600", "proxy-connect-timeout", "30"), "/")},
			want: []string{"proxy_read_timeout 3600s;", "proxy_send_timeout 3600s;", "proxy_connect_timeout 30s;"}},
		{name: "bad timeout rejects the Ingress", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-read-timeout", "1h"), "/"), ing("ns", "b", "other", nil, "/")},
			rejected: []string{`Ingress ns/a: "1h" is not a number of seconds`}, want: []string{"server_name other;"}, notWant: []string{"server_name h;"}},
		{name: "use-regex makes every path of the host a regex location", ings: []*netv1.Ingress{ing("ns", "a", "h", a("use-regex", "true"), "/api/v[0-9]+"), ing("ns", "b", "h", nil, "/ws")},
			want: []string{`location ~* ^/api/v[0-9]+ {`, `location ~* ^/ws {`}},
		{name: "rewrite-target", ings: []*netv1.Ingress{ing("ns", "a", "h", a("rewrite-target", "/$2"), "/something(/|$)(.*)")},
			want: []string{`location ~* ^/something(/|$)(.*) {`, `rewrite (?i)/something(/|$)(.*) /$2 break;`}},
		{name: "upstream-hash-by", ings: []*netv1.Ingress{ing("ns", "a", "h", a("upstream-hash-by", "$remote_addr"), "/")},
			want: []string{"hash $remote_addr consistent;"}},
		{name: "load-balance ewma is least_conn with a notice", ings: []*netv1.Ingress{ing("ns", "a", "h", a("load-balance", "ewma"), "/")},
			want: []string{"least_conn;"}, notices: []string{"ewma is served as least_conn"}},
		{name: "allowlist", ings: []*netv1.Ingress{ing("ns", "a", "h", a("whitelist-source-range", "10.0.0.0/8, 192.168.1.1"), "/")},
			want: []string{"allow 10.0.0.0/8;", "allow 192.168.1.1;", "deny all;"}},
		{name: "cors", ings: []*netv1.Ingress{ing("ns", "a", "h", a("enable-cors", "true", "cors-allow-origin", "https://a.example"), "/")},
			want: []string{`if ($request_method = OPTIONS) {`, `more_set_headers "Access-Control-Allow-Origin: https://a.example";`, "return 204;"}},
		{name: "force-ssl-redirect", ings: []*netv1.Ingress{ing("ns", "a", "h", a("force-ssl-redirect", "true"), "/")},
			want: []string{"return 308 https://$host$request_uri;"}},
		{name: "backend-protocol HTTPS", ings: []*netv1.Ingress{ing("ns", "a", "h", a("backend-protocol", "HTTPS"), "/")},
			want: []string{"proxy_pass https://ns-app-80;"}},
		{name: "backend-protocol GRPC is refused", ings: []*netv1.Ingress{ing("ns", "a", "h", a("backend-protocol", "GRPC"), "/")},
			rejected: []string{`Ingress ns/a: "GRPC" is not available`}},
		{name: "snippets are off unless the ConfigMap allows them", ings: []*netv1.Ingress{ing("ns", "a", "h", a("configuration-snippet", "more_set_headers \"X: y\";"), "/")},
			rejected: []string{"Ingress ns/a: snippet annotations are off"}},
		{name: "snippet spliced into every location", snippets: true, ings: []*netv1.Ingress{ing("ns", "a", "h", a("configuration-snippet", "more_set_headers \"X: y\";"), "/ws")},
			want: []string{"more_set_headers \"X: y\";\n            proxy_pass"}},
		{name: "a snippet with an unsupported directive rejects its Ingress only", snippets: true,
			ings:     []*netv1.Ingress{ing("ns", "bad", "h", a("server-snippet", "location /x {\n  perl Hello::handler;\n}"), "/"), ing("ns", "good", "g", nil, "/")},
			rejected: []string{`Ingress ns/bad: annotation nginx.ingress.kubernetes.io/server-snippet:2:3: "perl" directive is not supported`},
			want:     []string{"server_name g;"}, notWant: []string{"server_name h;"}},
		{name: "a snippet that does not parse", snippets: true, ings: []*netv1.Ingress{ing("ns", "a", "h", a("configuration-snippet", "add_header X"), "/")},
			rejected: []string{"Ingress ns/a: annotation nginx.ingress.kubernetes.io/configuration-snippet:"}},
		{name: "limit-rate and limit-rate-after are kilobytes", ings: []*netv1.Ingress{ing("ns", "a", "h", a("limit-rate", "100", "limit-rate-after", "1024"), "/")},
			want: []string{"limit_rate_after 1024k;", "limit_rate 100k;"}},
		{name: "limit-connections", ings: []*netv1.Ingress{ing("ns", "a", "h", a("limit-connections", "2"), "/")},
			want: []string{"geo $remote_addr $allowlist_ns_a {\n        default 0;\n    }", "limit_conn_zone $limit_ns_a zone=ns_a_conn:5m;", "limit_conn ns_a_conn 2;"}},
		{name: "limit-allowlist exempts addresses from the limits", ings: []*netv1.Ingress{ing("ns", "a", "h", a("limit-rps", "5", "limit-connections", "2",
			"limit-whitelist", "10.0.0.0/8, 192.168.1.1"), "/")},
			want: []string{"geo $remote_addr $allowlist_ns_a {\n        default 0;\n        10.0.0.0/8 1;\n        192.168.1.1 1;",
				"map $allowlist_ns_a $limit_ns_a {\n        0 $binary_remote_addr;\n        1 \"\";",
				"limit_req_zone $limit_ns_a zone=ns_a_rps:5m rate=5r/s;", "limit_conn_zone $limit_ns_a zone=ns_a_conn:5m;"}},
		{name: "proxy-redirect and proxy-cookie", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-redirect-from", "http://internal/", "proxy-redirect-to", "https://h/",
			"proxy-cookie-domain", "internal h", "proxy-cookie-path", "/app /"), "/")},
			want: []string{"proxy_redirect http://internal/ https://h/;", "proxy_cookie_domain internal h;", "proxy_cookie_path /app /;"}},
		{name: "proxy-redirect-from off", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-redirect-from", "off"), "/")},
			want: []string{"proxy_redirect off;"}},
		{name: "proxy-redirect-to alone", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-redirect-to", "/"), "/")},
			rejected: []string{"Ingress ns/a: needs proxy-redirect-from"}},
		{name: "basic auth from an auth-file Secret, with an allowlist and satisfy any",
			ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-type", "basic", "auth-secret", "users", "auth-realm", "Authentication Required",
				"whitelist-source-range", "10.0.0.0/8", "satisfy", "any"), "/")},
			secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "users"}, Data: map[string][]byte{"auth": []byte("u:$apr1$x$y\n")}}},
			want:    []string{`auth_basic "Authentication Required";`, "auth_basic_user_file /ssl/auth-ns-users.htpasswd;", "satisfy any;", "allow 10.0.0.0/8;"},
			files:   map[string]string{"/ssl/auth-ns-users.htpasswd": "u:$apr1$x$y\n"}},
		{name: "basic auth from an auth-map Secret of another namespace",
			ings:    []*netv1.Ingress{ing("ns", "a", "h", a("auth-type", "basic", "auth-secret", "sec/users", "auth-secret-type", "auth-map"), "/")},
			secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "sec", Name: "users"}, Data: map[string][]byte{"b": []byte("{SHA}x"), "a": []byte("$apr1$x$y")}}},
			want:    []string{"auth_basic_user_file /ssl/auth-sec-users.htpasswd;"},
			files:   map[string]string{"/ssl/auth-sec-users.htpasswd": "a:$apr1$x$y\nb:{SHA}x\n"}},
		{name: "basic auth without its Secret leaves the Ingress out", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-type", "basic", "auth-secret", "users"), "/"), ing("ns", "b", "g", nil, "/")},
			rejected: []string{"Ingress ns/a: Secret ns/users not found"}, want: []string{"server_name g;"}, notWant: []string{"server_name h;"}},
		{name: "digest auth is refused", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-type", "digest", "auth-secret", "users"), "/")},
			rejected: []string{"Ingress ns/a: digest authentication is not available"}},
		{name: "client certificates from a Secret's ca.crt and ca.crl, a CN check",
			ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-tls-secret", "pki/ca", "auth-tls-verify-client", "optional", "auth-tls-verify-depth", "2",
				"auth-tls-match-cn", "CN=(alice|bob)", "auth-tls-pass-certificate-to-upstream", "true"), "/")},
			secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "pki", Name: "ca"}, Data: map[string][]byte{"ca.crt": newTestCA(t).certPEM, "ca.crl": []byte("crl")}}},
			want: []string{"ssl_client_certificate /ssl/ca-pki-ca.pem;", "ssl_verify_client optional;", "ssl_verify_depth 2;", "ssl_crl /ssl/ca-pki-ca.crl;",
				"if ($ssl_client_s_dn !~ CN=(alice|bob)) {\n                return 403 \"client certificate unauthorized\";",
				"proxy_set_header ssl-client-cert $ssl_client_escaped_cert;", "proxy_set_header ssl-client-verify $ssl_client_verify;"},
			files: map[string]string{"/ssl/ca-pki-ca.crl": "crl"}},
		{name: "client certificates without their Secret leave the Ingress out", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-tls-secret", "ca"), "/")},
			noCA: true, rejected: []string{"Ingress ns/a: Secret ns/ca not found"}},
		{name: "a ca.crt that is not certificates", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-tls-secret", "ca"), "/")},
			secrets:  []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": []byte("hello")}}},
			rejected: []string{"Ingress ns/a: annotation nginx.ingress.kubernetes.io/auth-tls-secret: Secret ns/ca: ca.crt: text that is not PEM"}},
		{name: "auth-tls-verify-client without a Secret", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-tls-verify-client", "on"), "/")},
			rejected: []string{"Ingress ns/a: needs auth-tls-secret"}},
		{name: "auth-url with a sign-in page, response headers and a method",
			ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-url", "http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth", "auth-signin", "https://h/oauth2/start",
				"auth-response-headers", "X-Auth-Request-User, X-Auth-Request-Email", "auth-method", "POST"), "/ws")},
			want: []string{"auth_request /_external-auth-", "auth_request_set $auth_cookie $upstream_http_set_cookie;", "add_header Set-Cookie $auth_cookie;",
				"auth_request_set $authHeader1 $upstream_http_x_auth_request_email;", "proxy_set_header X-Auth-Request-Email $authHeader1;",
				"error_page 401 = https://h/oauth2/start?rd=$scheme://$http_host$request_uri;",
				"internal;", "proxy_method POST;", "proxy_set_header Host oauth2-proxy.auth.svc.cluster.local;",
				"proxy_set_header X-Original-URL $scheme://$http_host$request_uri;", "proxy_pass http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth;"}},
		{name: "auth-url resolved at request time through the cluster's name servers", ns: []string{"10.96.0.10"},
			ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-url", "https://auth.example/check"), "/")},
			want: []string{"resolver 10.96.0.10 valid=30s;", "set $target https://auth.example/check;", "proxy_pass $target;"}},
		{name: "auth-signin without auth-url", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-signin", "https://h/start"), "/")},
			rejected: []string{"Ingress ns/a: needs auth-url"}},
		{name: "auth-url that is not a URL", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-url", "auth:80"), "/")},
			rejected: []string{`Ingress ns/a: "auth:80" is not an http:// or https:// URL`}},
		{name: "proxy-ssl from a Secret with a CA and a client certificate", ings: []*netv1.Ingress{ing("ns", "a", "h", a("backend-protocol", "HTTPS",
			"proxy-ssl-secret", "pki/backend", "proxy-ssl-verify", "on", "proxy-ssl-verify-depth", "2", "proxy-ssl-protocols", "TLSv1.2 TLSv1.3",
			"proxy-ssl-name", "app.internal", "proxy-ssl-server-name", "on", "proxy-ssl-ciphers", "HIGH:!aNULL"), "/")},
			secrets: func() []*corev1.Secret {
				crt, key := testCert(t, "client")
				return []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "pki", Name: "backend"},
					Data: map[string][]byte{"ca.crt": newTestCA(t).certPEM, "tls.crt": crt, "tls.key": key}}}
			}(),
			want: []string{"proxy_ssl_trusted_certificate /ssl/proxy-pki-backend-ca.pem;", "proxy_ssl_certificate /ssl/proxy-pki-backend.pem;",
				"proxy_ssl_certificate_key /ssl/proxy-pki-backend.pem;", "proxy_ssl_verify on;", "proxy_ssl_verify_depth 2;", "proxy_ssl_name app.internal;",
				"proxy_ssl_server_name on;", "proxy_ssl_ciphers HIGH:!aNULL;", "proxy_ssl_protocols TLSv1.2 TLSv1.3;", "proxy_pass https://ns-app-80;"}},
		{name: "proxy-ssl-verify without a CA", ings: []*netv1.Ingress{ing("ns", "a", "h", a("backend-protocol", "HTTPS", "proxy-ssl-verify", "on"), "/")},
			rejected: []string{`Ingress ns/a: Ingress ns/a annotation nginx.ingress.kubernetes.io/proxy-ssl-verify`}},
		{name: "proxy-ssl-secret missing", ings: []*netv1.Ingress{ing("ns", "a", "h", a("proxy-ssl-secret", "nothing"), "/")},
			rejected: []string{"Ingress ns/a: annotation nginx.ingress.kubernetes.io/proxy-ssl-secret: Secret ns/nothing not found"}},
		{name: "canary by header value and weight", ings: []*netv1.Ingress{ing("ns", "a", "h", nil, "/ws"),
			ing("ns", "b", "h", a("canary", "true", "canary-by-header", "X-Canary", "canary-by-header-value", "yes", "canary-weight", "1", "canary-weight-total", "3"), "/ws")},
			want: []string{"map $http_x_canary $canary_", "yes 1;", "split_clients $request_id $canary_", "33.33% 1;", "~^1: ns-app-80;", "proxy_pass http://$canary_"}},
		{name: "canary by weight alone", ings: []*netv1.Ingress{ing("ns", "a", "h", nil, "/ws"), ing("ns", "b", "h", a("canary", "true", "canary-weight", "100"), "/ws")},
			want: []string{`map ::1 $canary_`}},
		{name: "a canary path without a primary", ings: []*netv1.Ingress{ing("ns", "b", "h", a("canary", "true", "canary-weight", "10"), "/ws")},
			notices: []string{"canary path /ws on host \"h\" has no primary Ingress: ignored"}, notWant: []string{"location /ws/"}},
		{name: "canary-weight without canary", ings: []*netv1.Ingress{ing("ns", "b", "h", a("canary-weight", "10"), "/ws")},
			rejected: []string{`Ingress ns/b: needs canary: "true"`}},
		{name: "server-alias, one name a host of its own", ings: []*netv1.Ingress{ing("ns", "a", "h", a("server-alias", "h2, other"), "/"), ing("ns", "b", "other", nil, "/")},
			want: []string{"server_name h h2;", "server_name other;"}, notices: []string{"server-alias other of host \"h\" is a host of its own"}},
		{name: "from-to-www-redirect both ways", ings: []*netv1.Ingress{ing("ns", "a", "www.a.example", a("from-to-www-redirect", "true"), "/"),
			ing("ns", "b", "b.example", a("from-to-www-redirect", "true"), "/"), ing("ns", "c", "c.example", a("from-to-www-redirect", "true"), "/"), ing("ns", "d", "www.c.example", nil, "/")},
			want: []string{"server_name a.example;\n        ssl_certificate /ssl/default.pem;\n        ssl_certificate_key /ssl/default.pem;\n        return 308 $scheme://www.a.example$request_uri;",
				"server_name www.b.example;", "return 308 $scheme://b.example$request_uri;"},
			notWant: []string{"return 308 $scheme://c.example$request_uri;"}, notices: []string{"www.c.example is a host of its own: no redirect"}},
		{name: "permanent-redirect", ings: []*netv1.Ingress{ing("ns", "a", "h", a("permanent-redirect", "https://new.example/"), "/")},
			want: []string{"return 301 https://new.example/;"}},
		{name: "temporal-redirect wins, with its code", ings: []*netv1.Ingress{ing("ns", "a", "h", a("permanent-redirect", "https://p.example/",
			"temporal-redirect", "https://t.example/", "temporal-redirect-code", "307"), "/")},
			want: []string{"return 307 https://t.example/;"}, notWant: []string{"p.example"}},
		{name: "a redirect code that is not one", ings: []*netv1.Ingress{ing("ns", "a", "h", a("permanent-redirect", "https://p.example/", "permanent-redirect-code", "200"), "/")},
			rejected: []string{`Ingress ns/a: "200" is not a redirect status code`}},
		{name: "app-root, ssl-ciphers and ssl-prefer-server-ciphers on the host's server", ings: []*netv1.Ingress{ing("ns", "a", "h", a("app-root", "/app1",
			"ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "ssl-prefer-server-ciphers", "true"), "/"), ing("ns", "b", "h", a("app-root", "/other"), "/b")},
			want:    []string{"ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;", "ssl_prefer_server_ciphers on;", "if ($uri = /) {\n            return 302 $scheme://$http_host/app1;"},
			notWant: []string{"/other"}},
		{name: "connection-proxy-header", ings: []*netv1.Ingress{ing("ns", "a", "h", a("connection-proxy-header", "keep-alive"), "/")},
			want: []string{"proxy_set_header Connection keep-alive;"}, notWant: []string{"proxy_set_header Connection $connection_upgrade;"}},
		{name: "rejected annotation", ings: []*netv1.Ingress{ing("ns", "a", "h", a("auth-url", "http://auth", "auth-proxy-set-headers", "ns/headers"), "/")},
			rejected: []string{"Ingress ns/a: annotation nginx.ingress.kubernetes.io/auth-proxy-set-headers: not available"}},
		{name: "unknown annotation is a notice", ings: []*netv1.Ingress{ing("ns", "a", "h", a("enable-websocket", "true"), "/")},
			notices: []string{"unknown annotation nginx.ingress.kubernetes.io/enable-websocket"}, want: []string{"server_name h;"}},
		{name: "F5 websocket-services is a notice", ings: []*netv1.Ingress{ing("ns", "a", "h", map[string]string{"nginx.org/websocket-services": "app"}, "/")},
			notices: []string{"nginx.org/websocket-services accepted and ignored"}},
		{name: "wsgate annotations are ws_ directives", ings: []*netv1.Ingress{ing("ns", "a", "h", map[string]string{"wsgate.io/ws-drain-window": "30s"}, "/")},
			want: []string{"ws_drain_window 30s;"}},
		{name: "a bad wsgate annotation rejects its Ingress", ings: []*netv1.Ingress{ing("ns", "a", "h", map[string]string{"wsgate.io/ws-drain-window": "soon"}, "/")},
			rejected: []string{"Ingress ns/a: Ingress ns/a annotation wsgate.io/ws-drain-window"}},
		{name: "the older Ingress keeps a path two claim", ings: []*netv1.Ingress{ing("ns", "b", "h", a("proxy-read-timeout", "7"), "/"), ing("ns", "a", "h", a("proxy-read-timeout", "9"), "/")},
			want: []string{"proxy_read_timeout 9s;"}, notWant: []string{"proxy_read_timeout 7s;"}, notices: []string{"path / on host \"h\" is Ingress ns/a's"}},
		{name: "no endpoints answers 503", endpoints: false, ings: []*netv1.Ingress{ing("ns", "a", "h", nil, "/")},
			want: []string{"return 503;"}, notices: []string{"Service ns/app not found: its paths answer 503"}},
		{name: "another class is skipped", ings: func() []*netv1.Ingress {
			i := ing("ns", "a", "h", nil, "/")
			c := "traefik"
			i.Spec.IngressClassName = &c
			return []*netv1.Ingress{i}
		}(), notWant: []string{"server_name h;"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &State{Ingresses: tc.ings, Secrets: tc.secrets}
			if tc.snippets {
				st.ConfigMap = snippetsOn()
			}
			if tc.endpoints || !strings.Contains(tc.name, "no endpoints") {
				synthesize(t, st, podAddrs)
			}
			if tc.noCA {
				st.Secrets = tc.secrets
			}
			res, err := Translate(st, Options{Resolved: true, SSLDir: "/ssl", NameServers: tc.ns})
			if err != nil {
				t.Fatalf("Translate: %v", err)
			}
			var b bytes.Buffer
			config.Print(&b, res.AST.Main)
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("configuration lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("configuration has %q:\n%s", w, out)
				}
			}
			for _, w := range tc.rejected {
				obj, why, _ := strings.Cut(w, ": ")
				found := false
				for _, r := range res.Rejected {
					if r.Object == obj && strings.Contains(strings.Join(r.Reasons, "\n"), why) {
						found = true
					}
				}
				if !found {
					t.Errorf("not rejected: %s; rejected: %+v", w, res.Rejected)
				}
			}
			if len(tc.rejected) == 0 && len(res.Rejected) > 0 {
				t.Errorf("rejected %+v; want none", res.Rejected)
			}
			for f, want := range tc.files {
				if got, ok := res.Certs[f]; !ok || string(got) != want {
					t.Errorf("file %s: %q (written %v); want %q", f, got, ok, want)
				}
			}
			for _, w := range tc.notices {
				if !strings.Contains(strings.Join(res.Notices, "\n"), w) {
					t.Errorf("no notice %q in %q", w, res.Notices)
				}
			}
		})
	}
}
