package config

import (
	"strconv"
	"strings"
	"time"

	"wsgate/internal/openssl"
)

// This file holds ngx_http_ssl_module's directives: server-level,
// inherited from http.

// sslDirectives are ngx_http_ssl_module's.
func sslDirectives() map[string]*directive {
	return map[string]*directive{
		"ssl_certificate":           {ctx: ctxSrvAll, min: 1, max: 1, set: setCertificate},
		"ssl_certificate_key":       {ctx: ctxSrvAll, min: 1, max: 1, set: setCertificateKey},
		"ssl_protocols":             {ctx: ctxSrvAll, min: 1, max: unbounded, once: true, set: setProtocols},
		"ssl_ciphers":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setCiphers},
		"ssl_prefer_server_ciphers": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setPreferServerCiphers},
		"ssl_session_cache":         {ctx: ctxSrvAll, min: 1, max: 2, once: true, set: setSessionCache},
		"ssl_session_timeout":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(secArg, func(t *TLSConf) *time.Duration { return &t.SessionTimeout })},
		"ssl_session_tickets":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(flagArg, func(t *TLSConf) *bool { return &t.SessionTickets })},
		"ssl_session_ticket_key":    {ctx: ctxSrvAll, min: 1, max: 1, set: setTicketKey},
		"ssl_ecdh_curve":            {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setCurves},
		"ssl_dhparam":               {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setDHParam},
		"ssl_client_certificate":    {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.ClientCertificate })},
		"ssl_trusted_certificate":   {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.TrustedCertificate })},
		"ssl_verify_client":         {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setVerifyClient},
		"ssl_verify_depth":          {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(numArg, func(t *TLSConf) *int { return &t.VerifyDepth })},
		"ssl_stapling":              {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setStapling},
		"ssl_stapling_file":         {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.StaplingFile })},
		"ssl_stapling_responder":    {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.StaplingResponder })},
		"ssl_stapling_verify":       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(flagArg, func(t *TLSConf) *bool { return &t.StaplingVerify })},
		"ssl_password_file":         {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.PasswordFile })},
		"ssl_crl":                   {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.CRL })},
		"ssl_ocsp":                  {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(enumArg("on", "off", "leaf"), func(t *TLSConf) *string { return &t.OCSP })},
		"ssl_ocsp_responder":        {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(stringArg, func(t *TLSConf) *string { return &t.OCSPResponder })},
		"ssl_ocsp_cache":            {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setOCSPCache},
		"ssl_reject_handshake":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onTLS(flagArg, func(t *TLSConf) *bool { return &t.RejectHandshake })},
		"ssl":                       {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setSSL},
	}
}

// defaultTLSConf is ngx_http_ssl_merge_srv_conf's defaults, but for
// ssl_protocols: nginx 1.22 lists TLSv1 and TLSv1.1 too, which the OpenSSL
// 3.0 it runs on refuses at its default security level, so that both
// serve TLSv1.2 and TLSv1.3.
func defaultTLSConf() TLSConf {
	t := TLSConf{Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: "HIGH:!aNULL:!MD5", SessionCache: "none", OCSP: "off", OCSPCache: "off",
		SessionTimeout: 5 * time.Minute, SessionTickets: true, VerifyClient: "off", VerifyDepth: 1,
		MinVersion: openssl.VersionTLS12, MaxVersion: openssl.VersionTLS13}
	c, _ := openssl.ParseCiphers(t.Ciphers)
	t.CipherSuites = c.IDs
	return t
}

// setCertificate is ssl_certificate, an array directive: a level that
// gives any replaces the inherited list.
func setCertificate(c *checker, f *frame, d *Directive, first bool) {
	path, pos := d.Args[0].Text, d.Pos
	if strings.Contains(path, "$") {
		c.errorf(d.Args[0].Pos, "variables in \"ssl_certificate\" are not supported: name the files, one server{} per certificate")
		return
	}
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) {
		if first {
			t.Certificates, t.CertPos = nil, nil
		}
		t.Certificates = append(t.Certificates, path)
		t.CertPos = append(t.CertPos, pos)
	})
}

// setCertificateKey is ssl_certificate_key, paired with ssl_certificate
// by position.
func setCertificateKey(c *checker, f *frame, d *Directive, first bool) {
	path := d.Args[0].Text
	if strings.Contains(path, "$") {
		c.errorf(d.Args[0].Pos, "variables in \"ssl_certificate_key\" are not supported: name the files, one server{} per certificate")
		return
	}
	if strings.HasPrefix(path, "engine:") {
		c.errorf(d.Args[0].Pos, "\"engine:\" keys are not supported: give the key as a PEM file")
		return
	}
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) {
		if first {
			t.CertificateKeys = nil
		}
		t.CertificateKeys = append(t.CertificateKeys, path)
	})
}

// setTicketKey is ssl_session_ticket_key, an array directive.
func setTicketKey(c *checker, f *frame, d *Directive, first bool) {
	path := d.Args[0].Text
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) {
		if first {
			t.SessionTicketKeys = nil
		}
		t.SessionTicketKeys = append(t.SessionTicketKeys, path)
	})
}

// setProtocols is ssl_protocols: exactly the versions listed are served
// (nginx sets SSL_OP_NO_* for the others), a range in Go.
func setProtocols(c *checker, f *frame, d *Directive, _ bool) {
	var names []string
	for _, a := range d.Args {
		names = append(names, a.Text)
	}
	p, err := openssl.ParseProtocols(names)
	if err != nil {
		for _, a := range d.Args {
			if _, e := openssl.ParseProtocols([]string{a.Text}); e != nil {
				c.errorf(a.Pos, "invalid value %q", a.Text)
				return
			}
		}
	}
	if len(p.Dropped) > 0 {
		c.notice(d.Pos, "%s in \"ssl_protocols\" not served: wsgate serves TLSv1.2 and TLSv1.3 (Go has no SSL; the OpenSSL 3.0 of Debian's nginx refuses TLSv1 and TLSv1.1 too, RFC 8996)",
			strings.Join(p.Dropped, ", "))
	}
	if p.Min == 0 {
		c.errorf(d.Pos, "\"ssl_protocols\" allows no protocol wsgate serves: add TLSv1.2 or TLSv1.3 (nginx would accept this and fail every handshake)")
		return
	}
	pos := d.Pos
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) {
		t.Protocols, t.ProtocolsPos, t.MinVersion, t.MaxVersion = names, pos, p.Min, p.Max
	})
}

// setCiphers is ssl_ciphers, an OpenSSL cipher list mapped to the TLS 1.2
// suites Go serves (openssl.ParseCiphers).
func setCiphers(c *checker, f *frame, d *Directive, _ bool) {
	s := d.Args[0].Text
	ciph, err := openssl.ParseCiphers(s)
	if err != nil {
		c.errorf(d.Args[0].Pos, "\"ssl_ciphers\": %v", err)
		return
	}
	if len(ciph.Unserved) > 0 {
		c.notice(d.Pos, "\"ssl_ciphers\": %s not served: Go's crypto/tls has no DHE, CAMELLIA, ARIA, CCM, PSK, SRP, RC4 or 3DES suites; TLS 1.3 suites are fixed in Go (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256), as \"ssl_ciphers\" leaves them in nginx",
			strings.Join(ciph.Unserved, ", "))
	}
	if len(ciph.TLS13) > 0 {
		c.notice(d.Pos, "\"ssl_ciphers\": %s change nothing: TLS 1.3 suites are fixed in Go (all three are offered), and OpenSSL's cipher lists ignore them too",
			strings.Join(ciph.TLS13, ", "))
	}
	pos := d.Pos
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.Ciphers, t.CiphersPos, t.CipherSuites = s, pos, ciph.IDs })
}

// setPreferServerCiphers is ssl_prefer_server_ciphers: Go's server
// always picks by its own order of the allowed suites.
func setPreferServerCiphers(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := flagArg(c, d)
	if !ok {
		return
	}
	c.notice(d.Pos, "\"ssl_prefer_server_ciphers\" changes nothing: Go orders the allowed suites itself (AES-GCM first where the CPU has AES instructions, else ChaCha20), whichever side prefers")
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.PreferServerCiphers = v })
}

// setSessionCache is ssl_session_cache: off | none | [builtin[:size]]
// [shared:name:size]. Go resumes sessions by tickets only (RFC 5077 and
// TLS 1.3 PSKs): with tickets off the cache is kept and its sessions
// resume by identity tickets (snapshot's tls_sessions.go); TLS 1.2
// session IDs resume nothing, said in a notice.
func setSessionCache(c *checker, f *frame, d *Directive, _ bool) {
	var parts []string
	for _, a := range d.Args {
		switch {
		case a.Text == "off" || a.Text == "none":
			if len(d.Args) > 1 {
				c.errorf(a.Pos, "invalid session cache %q", a.Text)
				return
			}
		case a.Text == "builtin" || strings.HasPrefix(a.Text, "builtin:"):
			if n := strings.TrimPrefix(a.Text, "builtin"); n != "" {
				if _, err := strconv.Atoi(n[1:]); err != nil {
					c.errorf(a.Pos, "invalid session cache size %q", a.Text)
					return
				}
			}
		case strings.HasPrefix(a.Text, "shared:"):
			name, size, ok := strings.Cut(a.Text[len("shared:"):], ":")
			if !ok || name == "" {
				c.errorf(a.Pos, "invalid session cache %q", a.Text)
				return
			}
			if _, ok := ParseSize(size); !ok {
				c.errorf(a.Pos, "invalid zone size %q", a.Text)
				return
			}
		default:
			c.errorf(a.Pos, "invalid session cache %q", a.Text)
			return
		}
		parts = append(parts, a.Text)
	}
	v := strings.Join(parts, " ")
	if v != "off" && v != "none" {
		c.notice(d.Pos, "\"ssl_session_cache\": Go resumes sessions by tickets only: with \"ssl_session_tickets off\" the cache's sessions resume by a ticket that holds only their identity (TLS 1.3, and TLS 1.2 clients that offer tickets), never by a TLS 1.2 session ID")
	}
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.SessionCache = v })
}

// setCurves is ssl_ecdh_curve.
func setCurves(c *checker, f *frame, d *Directive, _ bool) {
	ids, dropped, err := openssl.ParseCurves(d.Args[0].Text)
	if err != nil {
		c.errorf(d.Args[0].Pos, "\"ssl_ecdh_curve\": %v", err)
		return
	}
	if len(dropped) > 0 {
		c.notice(d.Pos, "\"ssl_ecdh_curve\": %s not offered: Go's crypto/tls lacks them", strings.Join(dropped, ", "))
	}
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.Curves = ids })
}

// setDHParam is ssl_dhparam: Go serves no DHE suite, so the file is only
// checked to exist (as nginx reads it at start).
func setDHParam(c *checker, f *frame, d *Directive, _ bool) {
	c.notice(d.Pos, "\"ssl_dhparam\" changes nothing: Go serves no DHE suites; clients use ECDHE ones (\"ssl_ecdh_curve\")")
	path := d.Args[0].Text
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.DHParam = path })
}

// setVerifyClient is ssl_verify_client on | off | optional |
// optional_no_ca.
func setVerifyClient(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[0].Text
	switch v {
	case "on", "off", "optional", "optional_no_ca":
	default:
		c.errorf(d.Args[0].Pos, "invalid value %q in \"ssl_verify_client\" directive, it must be \"on\", \"off\", \"optional\" or \"optional_no_ca\"", v)
		return
	}
	pos := d.Pos
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.VerifyClient, t.VerifyClientPos = v, pos })
}

// setOCSPCache is ssl_ocsp_cache off | [shared:]name:size.
func setOCSPCache(c *checker, f *frame, d *Directive, _ bool) {
	v := d.Args[0].Text
	if v != "off" {
		name, size, ok := strings.Cut(strings.TrimPrefix(v, "shared:"), ":")
		if _, sok := ParseSize(size); !ok || name == "" || !sok {
			c.errorf(d.Args[0].Pos, "invalid \"ssl_ocsp_cache\" %q", v)
			return
		}
		v = "shared:" + name + ":" + size
	}
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.OCSPCache = v })
}

// setStapling is ssl_stapling on|off.
func setStapling(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := flagArg(c, d)
	if !ok {
		return
	}
	pos := d.Pos
	f.lvl.tls = append(f.lvl.tls, func(t *TLSConf) { t.Stapling, t.StaplingPos = v, pos })
}

// checkTLS checks a server's merged TLS settings once it listens with
// ssl (ngx_http_ssl_merge_srv_conf).
func (c *checker) checkTLS(l *Listen, t *TLSConf) {
	for i, cert := range t.Certificates {
		if i >= len(t.CertificateKeys) {
			c.errorf(l.Pos, "no \"ssl_certificate_key\" is defined for certificate %q", cert)
		}
	}
	if (t.VerifyClient == "on" || t.VerifyClient == "optional") && t.ClientCertificate == "" {
		c.errorf(t.VerifyClientPos, "no ssl_client_certificate for ssl_verify_client")
	}
	if t.MinVersion <= openssl.VersionTLS12 && len(t.CipherSuites) == 0 {
		c.errorf(t.CiphersPos, "\"ssl_ciphers\" %q selects no TLSv1.2 suite wsgate serves (ECDHE or RSA with AES or ChaCha20)", t.Ciphers)
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
