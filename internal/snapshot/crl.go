package snapshot

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"wsgate/internal/config"
)

// crls are certificate revocation lists (ssl_crl, proxy_ssl_crl), as
// nginx checks them (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL):
// every certificate of a verified chain below its trust anchor needs a
// current CRL from its issuer that does not list it.
type crls []*x509.RevocationList

// readCRLs reads the PEM "X509 CRL" blocks of file.
func readCRLs(file string) (crls, error) {
	b, err := config.ReadFile(file, maxPEMSize)
	if err != nil {
		return nil, err
	}
	var out crls
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "X509 CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CRL in it")
	}
	return out, nil
}

// check returns OpenSSL's reason when chain (leaf first, trust anchor
// last) fails the lists, "" when it passes.
func (l crls) check(chain []*x509.Certificate, now time.Time) string {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		var list *x509.RevocationList
		for _, c := range l {
			if bytes.Equal(c.RawIssuer, cert.RawIssuer) && c.CheckSignatureFrom(issuer) == nil {
				list = c
				break
			}
		}
		if list == nil {
			return "unable to get certificate CRL"
		}
		if !list.NextUpdate.IsZero() && now.After(list.NextUpdate) {
			return "CRL has expired"
		}
		for _, r := range list.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return "certificate revoked"
			}
		}
	}
	return ""
}

// crlError wraps a failed CRL check of an upstream's chain.
func crlError(reason string) error { return fmt.Errorf("%w: %s", errVerify, reason) }
