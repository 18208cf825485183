package ingress

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"wsgate/internal/config"
)

// clientCert is what an Ingress's auth-tls-* annotations ask for:
// client certificate authentication on its hosts' TLS (ngx_http_ssl_module's
// ssl_verify_client), as ingress-nginx's template writes it.
type clientCert struct {
	ns, name  string // auth-tls-secret: its ca.crt (and ca.crl) are the CAs
	verify    string // on, off, optional, optional_no_ca
	depth     string
	errorPage string
	passCert  bool
	matchCN   value
	pos       config.Pos
	caFile    string // set by the translation once the Secret is read
	crlFile   string
}

// parseClientCert reads the auth-tls-* annotations; nil when there are
// none.
func parseClientCert(ns string, get, boolean func(string) value, bad func(name, format string, args ...any)) *clientCert {
	sec := get("auth-tls-secret")
	if !sec.set {
		for _, n := range []string{"auth-tls-verify-client", "auth-tls-verify-depth", "auth-tls-error-page",
			"auth-tls-pass-certificate-to-upstream", "auth-tls-match-cn"} {
			if get(n).set {
				bad(n, "needs auth-tls-secret, the Secret with the client certificates' CA")
			}
		}
		return nil
	}
	cc := &clientCert{ns: ns, name: sec.s, verify: "on", depth: "1", pos: sec.pos}
	if n, name, ok := strings.Cut(sec.s, "/"); ok {
		cc.ns, cc.name = n, name
	}
	if v := get("auth-tls-verify-client"); v.set {
		switch v.s {
		case "on", "off", "optional", "optional_no_ca":
			cc.verify = v.s
		default:
			bad("auth-tls-verify-client", "%q is not on, off, optional or optional_no_ca", v.s)
		}
	}
	if v := get("auth-tls-verify-depth"); v.set {
		if n, err := strconv.Atoi(v.s); err != nil || n < 0 {
			bad("auth-tls-verify-depth", "%q is not a depth", v.s)
		} else {
			cc.depth = v.s
		}
	}
	cc.errorPage = get("auth-tls-error-page").s
	cc.passCert = boolean("auth-tls-pass-certificate-to-upstream").s == "true"
	cc.matchCN = get("auth-tls-match-cn")
	return cc
}

// readClientCA queues the CA file (and CRL) of cc's Secret in t.certs;
// a missing Secret or one without a ca.crt of certificates takes the
// Ingress out, as an application is never served without the
// authentication its Ingress asks for (ingress-nginx answers 503 there).
func (t *translation) readClientCA(key string, cc *clientCert) bool {
	var sec *corev1.Secret
	for _, s := range t.st.Secrets {
		if s.Namespace == cc.ns && s.Name == cc.name {
			sec = s
			break
		}
	}
	who := fmt.Sprintf("annotation %sauth-tls-secret: Secret %s/%s", nginxPrefix, cc.ns, cc.name)
	if sec == nil {
		t.reject(key, who+" not found")
		return false
	}
	ca := sec.Data["ca.crt"]
	if err := checkCerts(ca); err != nil {
		t.reject(key, who+": ca.crt: "+err.Error())
		return false
	}
	base := filepath.Join(t.o.sslDir(), "ca-"+cc.ns+"-"+cc.name)
	cc.caFile = base + ".pem"
	t.certs[cc.caFile] = ca
	if crl := sec.Data["ca.crl"]; len(crl) > 0 {
		cc.crlFile = base + ".crl"
		t.certs[cc.crlFile] = crl
	}
	return true
}

// checkCerts reports whether data holds PEM certificates, and nothing else.
func checkCerts(data []byte) error {
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(strings.TrimSpace(string(rest))) > 0 {
				return fmt.Errorf("text that is not PEM")
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("a %s block; want certificates", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no certificate")
	}
	return nil
}

// server returns cc's server-level statements: ingress-nginx's
// ssl_client_certificate, ssl_verify_client, ssl_verify_depth, ssl_crl,
// and error_page 495 496 to auth-tls-error-page.
func (cc *clientCert) server() []*config.Directive {
	p := cc.pos
	out := []*config.Directive{
		stmt(p, "ssl_client_certificate", cc.caFile),
		stmt(p, "ssl_verify_client", cc.verify),
		stmt(p, "ssl_verify_depth", cc.depth),
	}
	if cc.crlFile != "" {
		out = append(out, stmt(p, "ssl_crl", cc.crlFile))
	}
	if cc.errorPage != "" {
		out = append(out, stmt(p, "error_page", "495", "496", "=", cc.errorPage))
	}
	return out
}

// location returns cc's statements in each location of its hosts: the
// CN check of auth-tls-match-cn, and the headers that tell the backend
// about the client's certificate.
func (cc *clientCert) location() []*config.Directive {
	p := cc.pos
	var out []*config.Directive
	if cc.matchCN.set {
		mp := cc.matchCN.pos
		out = append(out, block(mp, "if", []string{"($ssl_client_s_dn", "!~", cc.matchCN.s + ")"},
			stmt(mp, "return", "403", "client certificate unauthorized")))
	}
	if cc.passCert {
		out = append(out, stmt(p, "proxy_set_header", "ssl-client-cert", "$ssl_client_escaped_cert"))
	}
	return append(out,
		stmt(p, "proxy_set_header", "ssl-client-verify", "$ssl_client_verify"),
		stmt(p, "proxy_set_header", "ssl-client-subject-dn", "$ssl_client_s_dn"),
		stmt(p, "proxy_set_header", "ssl-client-issuer-dn", "$ssl_client_i_dn"))
}
