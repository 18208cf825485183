package snapshot

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"wsgate/internal/config"
	"wsgate/internal/ocsp"
)

// maxStapleSize bounds an ssl_stapling_file.
const maxStapleSize = 1 << 20

// stapling sets cfg up to staple OCSP responses (ssl_stapling): the
// ssl_stapling_file's to every certificate as it is, else the Stapler's
// current response for each certificate, picked at each handshake with
// the certificate itself (as crypto/tls picks among Certificates: the
// first the client supports). The issuer is the next certificate of the
// ssl_certificate file, else one of ssl_trusted_certificate; with
// ssl_stapling_verify the responder must chain to ssl_trusted_certificate
// or ssl_client_certificate. Without a Stapler (-t) nothing is fetched.
func stapling(cfg *tls.Config, t *config.TLSConf, abs func(string) string, staples *ocsp.Stapler) error {
	if !t.Stapling {
		return nil
	}
	if t.StaplingFile != "" {
		der, err := config.ReadFile(abs(t.StaplingFile), maxStapleSize)
		if err != nil {
			return fmt.Errorf("reading \"ssl_stapling_file\" %q: %w", t.StaplingFile, err)
		}
		for i := range cfg.Certificates {
			cfg.Certificates[i].OCSPStaple = der
		}
		return nil
	}
	var trusted []*x509.Certificate
	var roots *x509.CertPool
	for _, f := range []string{t.TrustedCertificate, t.ClientCertificate} {
		if f == "" {
			continue
		}
		certs, err := readCerts(abs(f))
		if err != nil {
			return fmt.Errorf("reading %q for \"ssl_stapling\": %w", f, err)
		}
		trusted = append(trusted, certs...)
	}
	if t.StaplingVerify {
		roots = x509.NewCertPool()
		for _, c := range trusted {
			roots.AddCert(c)
		}
	}
	if staples == nil {
		return nil
	}
	certs := cfg.Certificates
	current := make([]func() []byte, len(certs))
	for i := range certs {
		leaf := certs[i].Leaf
		if leaf == nil {
			var err error
			if leaf, err = x509.ParseCertificate(certs[i].Certificate[0]); err != nil {
				return err
			}
		}
		src := ocsp.Source{Leaf: leaf, Responder: t.StaplingResponder, Roots: roots}
		if src.Responder == "" && len(leaf.OCSPServer) > 0 {
			src.Responder = leaf.OCSPServer[0]
		}
		if len(certs[i].Certificate) > 1 {
			src.Issuer, _ = x509.ParseCertificate(certs[i].Certificate[1])
		}
		for _, c := range trusted {
			if src.Issuer == nil && leaf.CheckSignatureFrom(c) == nil {
				src.Issuer = c
			}
		}
		current[i] = staples.Staple(src)
	}
	cfg.Certificates = nil
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		pick := 0
		for i := range certs {
			if hello.SupportsCertificate(&certs[i]) == nil {
				pick = i
				break
			}
		}
		c := certs[pick]
		c.OCSPStaple = current[pick]()
		return &c, nil
	}
	return nil
}

// readCerts reads the certificates of a PEM file.
func readCerts(file string) ([]*x509.Certificate, error) {
	b, err := config.ReadFile(file, maxPEMSize)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate in %q", file)
	}
	return out, nil
}
