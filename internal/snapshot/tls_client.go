package snapshot

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"wsgate/internal/config"
)

// clientVerifier checks client certificates for one server
// (ssl_verify_client, ssl_client_certificate, ssl_trusted_certificate,
// ssl_verify_depth). As nginx, the handshake never fails on a
// certificate: it asks for one, and the request phase answers a missing
// or failed one (ClientVerify's result) with 400.
type clientVerifier struct {
	// roots are the self-signed client and trusted CAs, inter the others:
	// OpenSSL without X509_V_FLAG_PARTIAL_CHAIN (nginx sets none) takes a
	// chain only when it ends in a self-signed trusted certificate, so a
	// trusted intermediate is a link that counts toward
	// ssl_verify_depth, not an end.
	roots, inter *x509.CertPool
	depth        int
	ocsp         *clientOCSP // ssl_ocsp; nil: off
	crls         crls        // ssl_crl; nil: none checked
}

// clientAuth sets cfg up to ask for client certificates when t says so
// and returns the verifier, nil when ssl_verify_client is off.
func clientAuth(cfg *tls.Config, t *config.TLSConf, abs func(string) string) (*clientVerifier, error) {
	if t.VerifyClient == "off" || t.VerifyClient == "" {
		return nil, nil
	}
	v := &clientVerifier{roots: x509.NewCertPool(), inter: x509.NewCertPool(), depth: t.VerifyDepth, ocsp: newClientOCSP(t)}
	// RequestClientCert: crypto/tls asks, checks nothing, and lists
	// ClientCAs' names in the CertificateRequest, as nginx lists
	// ssl_client_certificate's (SSL_CTX_set_client_CA_list).
	cfg.ClientAuth = tls.RequestClientCert
	if t.ClientCertificate != "" {
		names, err := v.addPEM(abs(t.ClientCertificate))
		if err != nil {
			return nil, fmt.Errorf("reading \"ssl_client_certificate\" %q: %w", t.ClientCertificate, err)
		}
		cfg.ClientCAs = names
	}
	if t.TrustedCertificate != "" {
		if _, err := v.addPEM(abs(t.TrustedCertificate)); err != nil {
			return nil, fmt.Errorf("reading \"ssl_trusted_certificate\" %q: %w", t.TrustedCertificate, err)
		}
	}
	if t.CRL != "" {
		var err error
		if v.crls, err = readCRLs(abs(t.CRL)); err != nil {
			return nil, fmt.Errorf("reading \"ssl_crl\" %q: %w", t.CRL, err)
		}
	}
	return v, nil
}

// addPEM adds the certificates of a PEM file to v's roots (self-signed)
// or intermediates (others) and returns them as a pool of their own.
func (v *clientVerifier) addPEM(file string) (*x509.CertPool, error) {
	b, err := config.ReadFile(file, maxPEMSize)
	if err != nil {
		return nil, err
	}
	own := x509.NewCertPool()
	if !own.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate in it")
	}
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if blk.Type != "CERTIFICATE" || err != nil {
			continue
		}
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			v.roots.AddCert(c)
		} else {
			v.inter.AddCert(c)
		}
	}
	return own, nil
}

// Results of a client certificate check ($ssl_client_verify).
const (
	ClientVerifyNone    = "NONE"
	ClientVerifySuccess = "SUCCESS"
)

// verify is $ssl_client_verify for the certificates a client sent:
// "NONE", "SUCCESS" or "FAILED:" and OpenSSL's reason
// (X509_verify_cert_error_string).
func (v *clientVerifier) verify(certs []*x509.Certificate, now time.Time) string {
	if len(certs) == 0 {
		return ClientVerifyNone
	}
	leaf := certs[0]
	inter := v.inter.Clone()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return "FAILED:" + opensslReason(leaf, err, now)
	}
	for _, ch := range chains {
		if len(ch) <= v.depth+2 {
			if v.crls != nil {
				if r := v.crls.check(ch, now); r != "" {
					return "FAILED:" + r
				}
			}
			if v.ocsp != nil {
				if r := v.ocsp.check(ch, v.roots, now); r != "" {
					return "FAILED:" + r
				}
			}
			return ClientVerifySuccess
		}
	}
	return "FAILED:certificate chain too long"
}

// opensslReason names err as OpenSSL does.
func opensslReason(leaf *x509.Certificate, err error, now time.Time) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		if leaf.CheckSignatureFrom(leaf) == nil {
			return "self-signed certificate"
		}
		return "unable to get local issuer certificate"
	case errors.As(err, &ci):
		switch ci.Reason {
		case x509.Expired:
			if now.Before(ci.Cert.NotBefore) {
				return "certificate is not yet valid"
			}
			return "certificate has expired"
		case x509.IncompatibleUsage:
			return "unsupported certificate purpose"
		case x509.TooManyIntermediates:
			return "certificate chain too long"
		}
	}
	return "certificate verify failed"
}

// ClientVerifyTolerated reports whether ssl_verify_client optional_no_ca
// lets a request with result through: the certificate is good but for
// its CA being unknown (ngx_ssl_verify_error_optional).
func ClientVerifyTolerated(result string) bool {
	r, ok := strings.CutPrefix(result, "FAILED:")
	return ok && (r == "self-signed certificate" || r == "unable to get local issuer certificate" ||
		r == "self-signed certificate in certificate chain" || r == "unable to get issuer certificate" ||
		r == "unable to verify the first certificate")
}
