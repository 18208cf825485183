package snapshot

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// UpstreamTLS is how a location speaks TLS to an https:// (or wss)
// upstream, compiled from its proxy_ssl_* settings. Read-only; its session
// cache (proxy_ssl_session_reuse) is safe for concurrent use.
type UpstreamTLS struct {
	base     *tls.Config
	name     Template // proxy_ssl_name; nil: the proxy_pass host
	sendName bool     // proxy_ssl_server_name
	verify   bool     // proxy_ssl_verify
	depth    int      // proxy_ssl_verify_depth
	roots    *x509.CertPool
	crls     crls // proxy_ssl_crl
	// cert and key are proxy_ssl_certificate and _key when they have
	// variables (nginx 1.21.0): the files they name are loaded for each
	// connection (Certificate), passFile being proxy_ssl_password_file.
	cert, key Template
	passFile  string
	abs       func(string) string
}

// newUpstreamTLS compiles p; prefix is the directory relative paths are
// read from (nginx's conf_prefix).
func newUpstreamTLS(p *config.ProxySSL, prefix string, compile func(string) (Template, error)) (*UpstreamTLS, error) {
	abs := func(f string) string {
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(prefix, f)
	}
	u := &UpstreamTLS{sendName: p.ServerName, verify: p.Verify, depth: p.VerifyDepth}
	u.base = &tls.Config{
		// Verification is verifyPeer's, against proxy_ssl_name, which
		// nginx checks whether or not it is sent as SNI.
		InsecureSkipVerify: true,
		MinVersion:         p.MinVersion,
		MaxVersion:         p.MaxVersion,
		CipherSuites:       p.CipherSuites,
	}
	if p.SessionReuse {
		u.base.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	if p.Name != "" {
		t, err := compile(p.Name)
		if err != nil {
			return nil, fmt.Errorf("\"proxy_ssl_name\": %w", err)
		}
		u.name = t
	}
	if p.Verify {
		b, err := config.ReadFile(abs(p.TrustedCertificate), maxPEMSize)
		if err != nil {
			return nil, fmt.Errorf("reading \"proxy_ssl_trusted_certificate\" %q: %w", p.TrustedCertificate, err)
		}
		u.roots = x509.NewCertPool()
		if !u.roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("no PEM certificate in \"proxy_ssl_trusted_certificate\" %q", p.TrustedCertificate)
		}
	}
	if p.CRL != "" {
		var err error
		if u.crls, err = readCRLs(abs(p.CRL)); err != nil {
			return nil, fmt.Errorf("reading \"proxy_ssl_crl\" %q: %w", p.CRL, err)
		}
	}
	if p.Certificate != "" {
		ct, err := compile(p.Certificate)
		if err != nil {
			return nil, fmt.Errorf("\"proxy_ssl_certificate\": %w", err)
		}
		kt, err := compile(p.CertificateKey)
		if err != nil {
			return nil, fmt.Errorf("\"proxy_ssl_certificate_key\": %w", err)
		}
		if !ct.IsConst() || !kt.IsConst() {
			u.cert, u.key, u.passFile, u.abs = ct, kt, absIf(abs, p.PasswordFile), abs
			return u, nil
		}
	}
	if p.Certificate != "" {
		cert, err := loadKeyPairPass(abs(p.Certificate), abs(p.CertificateKey), absIf(abs, p.PasswordFile))
		if err != nil {
			return nil, fmt.Errorf("loading \"proxy_ssl_certificate\" %q: %w", p.Certificate, err)
		}
		u.base.Certificates = []tls.Certificate{cert}
	}
	return u, nil
}

// Config returns the client configuration of one connection to the
// upstream named host (the proxy_pass URL's host, or its upstream{}
// name), which is the default proxy_ssl_name, port removed.
func (u *UpstreamTLS) Config(host string, vc *vars.Ctx) *tls.Config {
	name := host
	if u.name != nil {
		name = string(u.name.Append(nil, vc))
	}
	if h, _, ok := strings.Cut(name, ":"); ok && !strings.HasPrefix(name, "[") {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	cfg := u.base.Clone()
	if u.sendName {
		cfg.ServerName = name // crypto/tls sends no SNI for an IP address (RFC 6066)
	}
	if u.verify {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return u.verifyPeer(cs, name) }
	}
	return cfg
}

// Certificate is the client certificate of one connection when
// proxy_ssl_certificate or _key has variables: the files their values
// name (relative to the configuration's directory) are read now, as
// ngx_http_upstream_ssl_certificate reads them for each connection; nil
// when there are no variables (Config has the certificate) or the
// certificate's value is empty (none is sent).
func (u *UpstreamTLS) Certificate(vc *vars.Ctx) (*tls.Certificate, error) {
	if u.cert == nil {
		return nil, nil
	}
	cf := string(u.cert.Append(nil, vc))
	if cf == "" {
		return nil, nil
	}
	kf := string(u.key.Append(nil, vc))
	cert, err := loadKeyPairPass(u.abs(cf), u.abs(kf), u.passFile)
	if err != nil {
		return nil, fmt.Errorf("loading \"proxy_ssl_certificate\" %q: %w", cf, err)
	}
	return &cert, nil
}

// errVerify is the prefix of nginx's log line for a failed check.
var errVerify = errors.New("upstream SSL certificate verify error")

// verifyPeer checks the upstream's chain against the trusted CAs and
// name (X509_check_host), at most depth intermediates deep (OpenSSL's
// verify depth: the leaf, depth CAs and the trust anchor).
func (u *UpstreamTLS) verifyPeer(cs tls.ConnectionState, name string) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate", errVerify)
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	leaf := cs.PeerCertificates[0]
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: u.roots, Intermediates: inter})
	if err != nil {
		return fmt.Errorf("%w: %w", errVerify, err)
	}
	if err := checkHost(leaf, name); err != nil {
		return fmt.Errorf("%w: %w", errVerify, err)
	}
	for _, ch := range chains {
		if len(ch) <= u.depth+2 {
			if u.crls != nil {
				if r := u.crls.check(ch, time.Now()); r != "" {
					return crlError(r)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("%w: certificate chain too long (proxy_ssl_verify_depth %d)", errVerify, u.depth)
}

// checkHost is X509_check_host as nginx calls it (ngx_ssl_check_host):
// the DNS names of the subjectAltName when it has any (crypto/x509's
// rules), else the subject's common name, which crypto/x509 no longer
// reads but OpenSSL still does.
func checkHost(leaf *x509.Certificate, name string) error {
	if len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 {
		return leaf.VerifyHostname(name)
	}
	cn := leaf.Subject.CommonName
	if strings.EqualFold(cn, name) {
		return nil
	}
	// A "*." common name matches one label, as in a subjectAltName.
	if rest, ok := strings.CutPrefix(cn, "*."); ok {
		if i := strings.IndexByte(name, '.'); i > 0 && strings.EqualFold(name[i+1:], rest) {
			return nil
		}
	}
	return fmt.Errorf("certificate is valid for %q, not %q", cn, name)
}
