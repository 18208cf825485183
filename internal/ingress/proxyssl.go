package ingress

import (
	"fmt"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"wsgate/internal/config"
)

// proxySSL is what an Ingress's proxy-ssl-* annotations ask of the TLS
// to an HTTPS backend (backend-protocol: HTTPS): ngx_http_proxy_module's
// proxy_ssl_* directives, with the CA and the client certificate from a
// Secret, as ingress-nginx's template writes them.
type proxySSL struct {
	secret                          value // NAMESPACE/NAME or NAME
	verify, depth, name, serverName value
	ciphers, protocols              value
	caFile, certFile                string // set by the translation
}

// parseProxySSL reads the proxy-ssl-* annotations; nil when there are none.
func parseProxySSL(get func(string) value, bad func(name, format string, args ...any)) *proxySSL {
	p := &proxySSL{secret: get("proxy-ssl-secret"), verify: get("proxy-ssl-verify"), depth: get("proxy-ssl-verify-depth"),
		name: get("proxy-ssl-name"), serverName: get("proxy-ssl-server-name"), ciphers: get("proxy-ssl-ciphers"),
		protocols: get("proxy-ssl-protocols")}
	if !(p.secret.set || p.verify.set || p.depth.set || p.name.set || p.serverName.set || p.ciphers.set || p.protocols.set) {
		return nil
	}
	for _, f := range []struct {
		name string
		v    value
	}{{"proxy-ssl-verify", p.verify}, {"proxy-ssl-server-name", p.serverName}} {
		if f.v.set && f.v.s != "on" && f.v.s != "off" {
			bad(f.name, "%q is neither on nor off", f.v.s)
		}
	}
	return p
}

// readProxySSL queues the files of p's Secret: ca.crt as the trusted CAs
// and, when the Secret has them, tls.crt and tls.key as the client
// certificate. A missing Secret, or one with neither, takes the Ingress
// out.
func (t *translation) readProxySSL(c *ingConf, ns string) {
	p := c.proxySSL
	if p == nil || !p.secret.set {
		return
	}
	sns, name := ns, p.secret.s
	if a, b, ok := strings.Cut(p.secret.s, "/"); ok {
		sns, name = a, b
	}
	var sec *corev1.Secret
	for _, s := range t.st.Secrets {
		if s.Namespace == sns && s.Name == name {
			sec = s
			break
		}
	}
	who := fmt.Sprintf("annotation %sproxy-ssl-secret: Secret %s/%s", nginxPrefix, sns, name)
	if sec == nil {
		t.reject(c.key, who+" not found")
		return
	}
	base := filepath.Join(t.o.sslDir(), "proxy-"+sns+"-"+name)
	if ca := sec.Data["ca.crt"]; len(ca) > 0 {
		if err := checkCerts(ca); err != nil {
			t.reject(c.key, who+": ca.crt: "+err.Error())
			return
		}
		p.caFile = base + "-ca.pem"
		t.certs[p.caFile] = ca
	}
	if len(sec.Data[corev1.TLSCertKey]) > 0 {
		pemData, err := secretPEM(sec)
		if err != nil {
			t.reject(c.key, who+": "+err.Error())
			return
		}
		p.certFile = base + ".pem"
		t.certs[p.certFile] = pemData
	}
	if p.caFile == "" && p.certFile == "" {
		t.reject(c.key, who+": neither ca.crt nor tls.crt and tls.key")
	}
}

// statements returns p's proxy_ssl_* lines for a location.
func (p *proxySSL) statements() []*config.Directive {
	if p == nil {
		return nil
	}
	var out []*config.Directive
	if p.caFile != "" {
		out = append(out, stmt(p.secret.pos, "proxy_ssl_trusted_certificate", p.caFile))
	}
	if p.certFile != "" {
		out = append(out, stmt(p.secret.pos, "proxy_ssl_certificate", p.certFile), stmt(p.secret.pos, "proxy_ssl_certificate_key", p.certFile))
	}
	for _, f := range []struct {
		directive string
		v         value
	}{{"proxy_ssl_verify", p.verify}, {"proxy_ssl_verify_depth", p.depth}, {"proxy_ssl_name", p.name},
		{"proxy_ssl_server_name", p.serverName}, {"proxy_ssl_ciphers", p.ciphers}} {
		if f.v.set {
			out = append(out, stmt(f.v.pos, f.directive, f.v.s))
		}
	}
	if p.protocols.set {
		out = append(out, stmt(p.protocols.pos, "proxy_ssl_protocols", strings.Fields(p.protocols.s)...))
	}
	return out
}
