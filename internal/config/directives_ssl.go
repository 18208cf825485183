package config

import (
	"time"
)

// This file holds ngx_http_ssl_module's directives: server-level,
// inherited from http.

// sslDirectives are ngx_http_ssl_module's.
func sslDirectives() map[string]*directive {
	return map[string]*directive{
		"ssl_certificate":           {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.Certificate })},
		"ssl_certificate_key":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.CertificateKey })},
		"ssl_protocols":             {ctx: ctxSrvAll, min: 1, max: unbounded, once: true, set: onTLS(sslProtocolsArg, func(t *TLSConf) *[]string { return &t.Protocols })},
		"ssl_ciphers":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.Ciphers })},
		"ssl_prefer_server_ciphers": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(flagArg, func(t *TLSConf) *bool { return &t.PreferServerCiphers })},
		"ssl_session_cache":         {ctx: ctxSrvAll, min: 1, max: 2, once: true, set: onTLS(joinedArgs, func(t *TLSConf) *string { return &t.SessionCache })},
		"ssl_session_timeout":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(secArg, func(t *TLSConf) *time.Duration { return &t.SessionTimeout })},
		"ssl":                       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setSSL},
	}
}

// setSSL is "ssl on|off", deprecated in nginx 1.15.0 and still read by
// 1.22 (ngx_http_ssl_enable): on, every listen of the server (at http
// level, of every server) is an ssl one, as with "listen ... ssl", and
// nginx's deprecation warning is a notice; off changes nothing, as a
// listen's ssl parameter still enables TLS.
func setSSL(c *checker, f *frame, d *Directive, _ bool) {
	on, ok := flagArg(c, d)
	if !ok || !on {
		return
	}
	c.notice(d.Pos, "the \"ssl\" directive is deprecated, use the \"listen ... ssl\" directive instead")
	f.lvl.srv = append(f.lvl.srv, func(s *Server) {
		for i := range s.Listens {
			s.Listens[i].SSL = true
		}
	})
}

// sslProtocolsArg accepts the protocol names nginx knows; wsgate (Go's
// crypto/tls) serves only TLSv1.2 and TLSv1.3, so older ones are dropped
// with a notice.
func sslProtocolsArg(c *checker, d *Directive) ([]string, bool) {
	var out []string
	for _, a := range d.Args {
		switch a.Text {
		case "TLSv1.2", "TLSv1.3":
			out = append(out, a.Text)
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1":
			c.notice(a.Pos, "%q in \"ssl_protocols\" ignored: wsgate serves TLSv1.2 and TLSv1.3 only", a.Text)
		default:
			c.errorf(a.Pos, "invalid value %q", a.Text)
			return nil, false
		}
	}
	return out, true
}
