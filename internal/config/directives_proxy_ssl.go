package config

import (
	"strconv"
	"strings"

	"wsgate/internal/openssl"
)

// This file holds ngx_http_proxy_module's proxy_ssl_* directives: how an
// https:// upstream (and so a wss one) is spoken to.

// proxySSLDirectives are the proxy_ssl_* directives wsgate implements.
func proxySSLDirectives() map[string]*directive {
	field := func(set func(p *ProxySSL, d *Directive) bool) setFunc {
		return func(c *checker, f *frame, d *Directive, _ bool) {
			var p ProxySSL
			if !set(&p, d) {
				c.errorf(d.Args[0].Pos, "invalid value %q in %q directive", d.Args[0].Text, d.Name)
				return
			}
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { set(&l.ProxySSL, d) })
		}
	}
	flag := func(get func(p *ProxySSL) *bool) setFunc {
		return field(func(p *ProxySSL, d *Directive) bool {
			v, ok := ParseFlag(d.Args[0].Text)
			*get(p) = v
			return ok
		})
	}
	str := func(get func(p *ProxySSL) *string) setFunc {
		return field(func(p *ProxySSL, d *Directive) bool { *get(p) = d.Args[0].Text; return true })
	}
	return map[string]*directive{
		"proxy_ssl_verify": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: field(func(p *ProxySSL, d *Directive) bool {
			v, ok := ParseFlag(d.Args[0].Text)
			p.Verify, p.VerifyPos = v, d.Pos
			return ok
		})},
		"proxy_ssl_verify_depth": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: field(func(p *ProxySSL, d *Directive) bool {
			n, err := strconv.Atoi(d.Args[0].Text)
			p.VerifyDepth = n
			return err == nil && n >= 0
		})},
		"proxy_ssl_trusted_certificate": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.TrustedCertificate })},
		"proxy_ssl_server_name":         {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(p *ProxySSL) *bool { return &p.ServerName })},
		"proxy_ssl_name":                {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.Name })},
		"proxy_ssl_session_reuse":       {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: flag(func(p *ProxySSL) *bool { return &p.SessionReuse })},
		"proxy_ssl_password_file":       {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.PasswordFile })},
		"proxy_ssl_crl":                 {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.CRL })},
		"proxy_ssl_certificate":         {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.Certificate })},
		"proxy_ssl_certificate_key":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: str(func(p *ProxySSL) *string { return &p.CertificateKey })},
		"proxy_ssl_protocols":           {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: setProxySSLProtocols},
		"proxy_ssl_ciphers":             {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: setProxySSLCiphers},
	}
}

// defaultProxySSL is ngx_http_proxy_merge_loc_conf's defaults
// (proxy_ssl_protocols as ssl_protocols': TLSv1.2 and TLSv1.3 served).
func defaultProxySSL() ProxySSL {
	c, _ := openssl.ParseCiphers("DEFAULT")
	return ProxySSL{VerifyDepth: 1, SessionReuse: true, MinVersion: openssl.VersionTLS12,
		MaxVersion: openssl.VersionTLS13, CipherSuites: c.IDs}
}

func setProxySSLProtocols(c *checker, f *frame, d *Directive, _ bool) {
	var names []string
	for _, a := range d.Args {
		names = append(names, a.Text)
	}
	p, err := openssl.ParseProtocols(names)
	if err != nil {
		c.errorf(d.Pos, "%v in \"proxy_ssl_protocols\"", err)
		return
	}
	if len(p.Dropped) > 0 {
		c.notice(d.Pos, "%s in \"proxy_ssl_protocols\" not used: wsgate speaks TLSv1.2 and TLSv1.3 to upstreams", strings.Join(p.Dropped, ", "))
	}
	if p.Min == 0 {
		c.errorf(d.Pos, "\"proxy_ssl_protocols\" allows no protocol wsgate speaks: add TLSv1.2 or TLSv1.3")
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxySSL.MinVersion, l.ProxySSL.MaxVersion = p.Min, p.Max })
}

func setProxySSLCiphers(c *checker, f *frame, d *Directive, _ bool) {
	ciph, err := openssl.ParseCiphers(d.Args[0].Text)
	if err != nil {
		c.errorf(d.Args[0].Pos, "\"proxy_ssl_ciphers\": %v", err)
		return
	}
	if len(ciph.IDs) == 0 {
		c.errorf(d.Args[0].Pos, "\"proxy_ssl_ciphers\" %q selects no TLSv1.2 suite wsgate speaks", d.Args[0].Text)
		return
	}
	if len(ciph.Unserved) > 0 {
		c.notice(d.Pos, "\"proxy_ssl_ciphers\": %s not offered: Go's crypto/tls lacks them; TLS 1.3 suites are fixed in Go", strings.Join(ciph.Unserved, ", "))
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.ProxySSL.CipherSuites = ciph.IDs })
}

// checkProxySSL checks a location's merged proxy_ssl_* settings
// (ngx_http_proxy_set_ssl) and notes an https upstream whose certificate
// is not checked, nginx's default.
func (c *checker) checkProxySSL(lc *LocConf) {
	pp := lc.ProxyPass
	if pp == nil || (pp.Scheme != "https" && !pp.HasVars) {
		return
	}
	p := &lc.ProxySSL
	if p.Verify && p.TrustedCertificate == "" {
		c.errorf(p.VerifyPos, "no \"proxy_ssl_trusted_certificate\" for \"proxy_ssl_verify\"")
	}
	if p.Certificate != "" && p.CertificateKey == "" {
		c.errorf(pp.Pos, "no \"proxy_ssl_certificate_key\" is defined for certificate %q", p.Certificate)
	}
	if pp.Scheme == "https" && !p.Verify {
		c.notice(pp.Pos, "the upstream's certificate is not verified (nginx's default, \"proxy_ssl_verify off\"): anyone on the path to it can pose as it; set \"proxy_ssl_verify on\" and \"proxy_ssl_trusted_certificate\"")
	}
}
